/**
 * How many rows a batch reads from each bucket. A batch is the oldest rows of every bucket, each bucket read from
 * where it stands; only per-bucket order matters, so a batch needs no global sort and each bucket's read stops at its
 * share instead of the whole batch size (64 buckets × 500 rows read to keep 500 was most of the relay's database
 * time under a backlog).
 *
 * A bucket's share starts at an even split of the batch size. A bucket that filled its share has more waiting: it
 * asks for twice as much, up to the whole batch. One that did not asks for what it found (at least one row), so idle
 * buckets leave the batch to busy ones and one busy subject still travels in full batches. When the asks add up to
 * more than the batch size, what each asks above one row is scaled down to fit. Every bucket gets at least one row,
 * so a batch size below the number of buckets is exceeded (by one row per bucket at most).
 */
export class BatchShares {
  private readonly ask = new Map<number, number>();

  constructor(private readonly batchSize: number) {}

  /**
   * The share of each bucket for the next batch, in the order given. With `evenAtLeast`, a bucket asks for an even
   * split at least (a read of the few buckets a wake-up named, where what one found last time says little).
   */
  plan(buckets: readonly number[], options: { evenAtLeast?: boolean } = {}): number[] {
    if (buckets.length === 0) return [];
    const even = Math.max(1, Math.floor(this.batchSize / buckets.length));
    const floor = options.evenAtLeast ? even : 1;
    const asks = buckets.map((b) => Math.max(floor, this.ask.get(b) ?? even));
    const room = Math.max(0, this.batchSize - buckets.length);
    const above = asks.reduce((n, a) => n + (a - 1), 0);
    if (above <= room) return asks;
    return asks.map((a) => 1 + Math.floor(((a - 1) * room) / above));
  }

  /** What each bucket's read gave, against the share it was given. */
  read(buckets: readonly number[], shares: readonly number[], got: ReadonlyMap<number, number>): void {
    buckets.forEach((bucket, i) => {
      const found = got.get(bucket) ?? 0;
      this.ask.set(bucket, found >= shares[i] ? Math.min(this.batchSize, shares[i] * 2) : Math.max(1, found));
    });
  }

  forget(bucket: number): void {
    this.ask.delete(bucket);
  }
}
