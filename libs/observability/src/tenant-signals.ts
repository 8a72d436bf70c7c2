import type { Gauge } from 'prom-client';

/** The label that stands for every tenant outside the top N. */
export const OTHER_TENANTS = 'other';

/**
 * The N largest values by tenant, and the rest summed as "other": per-tenant metrics with at most N + 1 series, so
 * one noisy tenant is visible by name without a series for every tenant there is.
 */
export function topTenants(values: ReadonlyMap<string, number>, n: number): [string, number][] {
  const sorted = [...values].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const top = sorted.slice(0, n);
  const rest = sorted.slice(n).reduce((sum, [, v]) => sum + v, 0);
  // A tenant literally named "other" is folded into the rest rather than shown twice.
  const named = top.filter(([tenant]) => tenant !== OTHER_TENANTS);
  const folded = top.filter(([tenant]) => tenant === OTHER_TENANTS).reduce((sum, [, v]) => sum + v, 0);
  return [...named, [OTHER_TENANTS, rest + folded]];
}

/** Sets a tenant-labelled gauge to exactly the top N and "other" (series of tenants no longer in the top go away). */
export function setTopTenants(gauge: Gauge<'tenant'>, values: ReadonlyMap<string, number>, n: number): void {
  gauge.reset();
  for (const [tenant, value] of topTenants(values, n)) gauge.set({ tenant }, value);
}

/**
 * Amounts per tenant over a sliding window (6 slots of a tenth of it): how much each tenant did lately, in memory,
 * without a series per tenant. `max` keeps the largest amount per slot instead of the sum (e.g. a delay).
 */
export class TenantWindow {
  private readonly slots: Map<string, number>[] = [];
  private readonly slotMs: number;
  private current = 0;

  constructor(
    private readonly windowMs = 60_000,
    private readonly mode: 'sum' | 'max' = 'sum',
    private readonly clock: () => number = Date.now,
  ) {
    this.slotMs = windowMs / 6;
  }

  add(tenant: string, amount = 1): void {
    const slot = this.slot();
    const before = slot.get(tenant) ?? 0;
    slot.set(tenant, this.mode === 'sum' ? before + amount : Math.max(before, amount));
  }

  /** Per tenant: the sum (or the largest) over the window. */
  values(): Map<string, number> {
    this.slot();
    const out = new Map<string, number>();
    for (const slot of this.slots) {
      for (const [tenant, v] of slot) {
        const before = out.get(tenant) ?? 0;
        out.set(tenant, this.mode === 'sum' ? before + v : Math.max(before, v));
      }
    }
    return out;
  }

  /** Per tenant, per second over the window. */
  rates(): Map<string, number> {
    const seconds = this.windowMs / 1000;
    return new Map([...this.values()].map(([tenant, v]) => [tenant, v / seconds]));
  }

  private slot(): Map<string, number> {
    const index = Math.floor(this.clock() / this.slotMs);
    if (this.slots.length === 0) {
      this.slots.push(new Map());
      this.current = index;
    } else if (index > this.current) {
      // One slot per step of time; slots older than the window fall off the end.
      for (let i = 0; i < Math.min(6, index - this.current); i++) this.slots.unshift(new Map());
      this.slots.length = Math.min(this.slots.length, 6);
      this.current = index;
    }
    return this.slots[0];
  }
}
