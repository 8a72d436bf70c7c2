/**
 * What a stored position means against the partition Kafka has now. Kafka's offsets start over when a topic is
 * deleted and recreated, when a team moves to a new cluster, or when the projector's database is restored from a
 * backup taken at a later offset; retention deletes what nobody read in time. Neither may pass silently: a position
 * read as "applied before" that the broker never held would drop every new event on the floor.
 */
export type PositionCheck =
  /** The stored position lies within the partition: consume from it. */
  | { kind: 'in-range'; resumeAt: bigint }
  /**
   * The stored position lies beyond the partition's end: these offsets are not the ones the projector applied.
   * Consume from the partition's beginning; per-subject sequence checks count what was applied before as duplicates.
   */
  | { kind: 'reset'; resumeAt: bigint; stored: bigint; end: bigint }
  /**
   * Retention deleted offsets [stored, logStart) before the projector read them: consume from the log start; subjects
   * with later events show a sequence gap there, which is repaired from the event log or parked.
   */
  | { kind: 'source-gap'; resumeAt: bigint; stored: bigint; logStart: bigint };

export interface PartitionBounds {
  /** The first offset the broker still holds (Kafka's log start offset, `low`); unknown inside a fetched batch. */
  logStart?: bigint;
  /** The next offset the broker will write (the high watermark). */
  end: bigint;
}

/** `recreated`: the partition is known to belong to a topic created again since the position was stored. */
export function checkPosition(stored: bigint, { logStart, end }: PartitionBounds, recreated = false): PositionCheck {
  if (stored > end || (recreated && stored > 0n)) return { kind: 'reset', resumeAt: logStart ?? 0n, stored, end };
  if (logStart !== undefined && stored < logStart) return { kind: 'source-gap', resumeAt: logStart, stored, logStart };
  return { kind: 'in-range', resumeAt: stored };
}
