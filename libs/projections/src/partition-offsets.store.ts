import type { Statement } from '@event-spine/persistence';

/** Statements on `projector_offsets`: per consumer and partition, the next offset to apply and what was applied. */

export interface PartitionRef {
  consumer: string;
  topic: string;
  partition: number;
}

/**
 * The partition's row, created at offset 0 the first time, answering its next offset; the batch then holds its lock.
 * `onlyIf` (a SQL condition over `fromItem`) lets a combined statement skip it.
 */
export function claimPartitionStatement(p: PartitionRef, onlyIf?: { fromItem: string; condition: string }): Statement {
  const source = onlyIf ? `FROM ${onlyIf.fromItem} WHERE ${onlyIf.condition}` : '';
  return {
    text: `INSERT INTO projector_offsets (consumer, topic, partition, next_offset)
           SELECT $1::text, $2::text, $3::int, 0 ${source}
           ON CONFLICT (consumer, topic, partition) DO UPDATE SET consumer = EXCLUDED.consumer
           RETURNING next_offset`,
    values: [p.consumer, p.topic, p.partition],
  };
}

/** Moves the position on past a batch and adds its counts. */
export function advancePartitionStatement(
  p: PartitionRef,
  next: bigint,
  counts: { applied: number; duplicates: number; parked: number },
): Statement {
  return {
    text: `UPDATE projector_offsets SET next_offset = $4, applied = applied + $5, duplicates = duplicates + $6,
                  parked = parked + $7, updated_at = now()
            WHERE consumer = $1 AND topic = $2 AND partition = $3`,
    values: [p.consumer, p.topic, p.partition, next.toString(), counts.applied, counts.duplicates, counts.parked],
  };
}
