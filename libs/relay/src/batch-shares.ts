/**
 * How many rows a batch reads from each bucket. A batch is the oldest rows of every bucket, each bucket read from
 * where it stands; only per-bucket order matters, so a batch needs no global sort and each bucket's read stops at its
 * share instead of the whole batch size (64 buckets × 500 rows read to keep 500 was most of the relay's database
 * time under a backlog).
 *
 * A bucket's share starts at an even split of the batch size. A bucket that filled its share has more waiting: its
 * share doubles, up to the whole batch, so a backlog in a few buckets (one busy subject) still travels in full
 * batches. A bucket that did not fill it goes back to the even split. When the wishes add up to more than the batch
 * size, what each bucket wants above the even split is scaled down to fit.
 */
export class BatchShares {
  private readonly wish = new Map<number, number>();

  constructor(private readonly batchSize: number) {}

  /** The share of each bucket for the next batch, in the order given. */
  plan(buckets: readonly number[]): number[] {
    if (buckets.length === 0) return [];
    const even = Math.max(1, Math.floor(this.batchSize / buckets.length));
    const wishes = buckets.map((b) => Math.max(even, this.wish.get(b) ?? even));
    const room = Math.max(0, this.batchSize - even * buckets.length);
    const above = wishes.reduce((n, w) => n + (w - even), 0);
    if (above <= room) return wishes;
    return wishes.map((w) => even + Math.floor(((w - even) * room) / above));
  }

  /** What each bucket's read gave, against the share it was given. */
  read(buckets: readonly number[], shares: readonly number[], got: ReadonlyMap<number, number>): void {
    buckets.forEach((bucket, i) => {
      const share = shares[i];
      if ((got.get(bucket) ?? 0) >= share) this.wish.set(bucket, Math.min(this.batchSize, share * 2));
      else this.wish.delete(bucket);
    });
  }

  forget(bucket: number): void {
    this.wish.delete(bucket);
  }
}
