/** Per-tenant token buckets: how many commands a tenant may send per second, with a burst on top. Pure, in memory. */
export interface RateLimit {
  /** Sustained commands per second per tenant; 0 turns the limit off. */
  perSecond: number;
  /** How many commands a tenant may send at once after being quiet. */
  burst: number;
}

export class TenantRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: () => number = () => performance.now(),
    /** Tenants quiet this long are forgotten (their bucket would be full anyway). */
    private readonly idleMs = 60_000,
  ) {}

  get enabled(): boolean {
    return this.limit.perSecond > 0;
  }

  /** Takes one command's token; 0 when it may go now, else the seconds until a token is there. */
  take(tenantId: string): number {
    if (!this.enabled) return 0;
    const now = this.clock();
    const capacity = Math.max(1, this.limit.burst);
    const bucket = this.buckets.get(tenantId) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = now;
    this.buckets.set(tenantId, bucket);
    if (this.buckets.size > 10_000) this.forgetIdle(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.limit.perSecond;
  }

  private forgetIdle(now: number): void {
    for (const [tenant, b] of this.buckets) if (now - b.at > this.idleMs) this.buckets.delete(tenant);
  }
}
