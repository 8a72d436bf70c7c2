import type { Statement } from '@event-spine/persistence';

/** Statements on `projector_offsets`: per consumer and partition, the next offset to apply and what was applied. */

export interface PartitionRef {
  consumer: string;
  topic: string;
  partition: number;
}

/** The stored next offset of a partition (none before its first batch); `lock` holds the row until commit. */
export function readPartitionStatement(p: PartitionRef, lock: boolean): Statement {
  return {
    text: `SELECT next_offset FROM projector_offsets WHERE consumer = $1 AND topic = $2 AND partition = $3
           ${lock ? 'FOR UPDATE' : ''}`,
    values: [p.consumer, p.topic, p.partition],
  };
}

/**
 * The partition's row, created at offset 0 the first time, answering its next offset; the batch then holds its lock.
 * Only for a row of `fromItem` meeting `condition`: the batch's gate, with which it travels.
 */
export function claimPartitionStatement(p: PartitionRef, fromItem: string, condition: string): Statement {
  return {
    text: `INSERT INTO projector_offsets (consumer, topic, partition, next_offset)
           SELECT $1::text, $2::text, $3::int, 0 FROM ${fromItem} WHERE ${condition}
           ON CONFLICT (consumer, topic, partition) DO UPDATE SET consumer = EXCLUDED.consumer
           RETURNING next_offset`,
    values: [p.consumer, p.topic, p.partition],
  };
}

/** Moves the position where consumption resumes after an offset reset or a gap in the source, and records it. */
export function recordPositionCheckStatement(
  p: PartitionRef,
  kind: 'reset' | 'source-gap',
  resumeAt: bigint,
  detail: Record<string, string>,
): Statement {
  const [counter, last] = kind === 'reset' ? ['resets', 'last_reset'] : ['source_gaps', 'last_source_gap'];
  return {
    text: `UPDATE projector_offsets SET next_offset = $4, ${counter} = ${counter} + 1, ${last} = $5, updated_at = now()
            WHERE consumer = $1 AND topic = $2 AND partition = $3`,
    values: [p.consumer, p.topic, p.partition, resumeAt.toString(), detail],
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
