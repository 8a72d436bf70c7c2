import type { Pool } from 'pg';

/**
 * How far behind the commands the relay and the projector are, read cheaply from their own bookkeeping (never from
 * the services' /metrics, whose backlog gauge counts the outbox): events published = sum of relay_cursor.published,
 * events applied = sum of projector_offsets.applied. One event per command in this benchmark.
 */
export class PipelineWatch {
  constructor(
    private readonly commandPool: Pool,
    private readonly projectorPool: Pool,
    private readonly projectorConsumer: string,
  ) {}

  async published(): Promise<number> {
    const { rows } = await this.commandPool.query<{ n: string | null }>(
      `SELECT sum(published)::text AS n FROM relay_cursor`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async applied(): Promise<number> {
    const { rows } = await this.projectorPool.query<{ n: string | null }>(
      `SELECT sum(applied)::text AS n FROM projector_offsets WHERE consumer = $1`,
      [this.projectorConsumer],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async snapshot(): Promise<{ at: number; published: number; applied: number }> {
    const [published, applied] = await Promise.all([this.published(), this.applied()]);
    return { at: performance.now(), published, applied };
  }
}

/** Calls `probe` every `intervalMs` until it returns true or the timeout passes; returns ms waited, or NaN. */
export async function timeUntil(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await probe().catch(() => false)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return NaN;
}
