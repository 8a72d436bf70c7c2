import type { Landed } from '@event-spine/kafka';

/** Events sent to one partition at consecutive offsets, from `firstOffset` on. */
export interface Placement {
  topic: string;
  partition: number;
  firstOffset: string;
  eventIds: string[];
}

/**
 * Where the sent rows' events landed, as runs: a row that lands right after the previous one on the same partition
 * extends its run. The offsets of one send to a partition are consecutive, so a batch makes about one run per
 * partition.
 */
export function placements(
  rows: readonly { topic: string; event_id: string }[],
  landed: readonly (Landed | undefined)[],
): Placement[] {
  const runs: Placement[] = [];
  const open = new Map<string, { run: Placement; next: number }>();
  rows.forEach((r, i) => {
    const at = landed[i];
    if (!at) return;
    const where = `${at.partition}:${r.topic}`;
    // An offset past 2^53 (never seen in practice) starts a run of its own rather than risk a rounded neighbour.
    const offset = Number(at.offset);
    const current = open.get(where);
    if (current && current.next === offset && Number.isSafeInteger(offset)) {
      current.run.eventIds.push(r.event_id);
      current.next = offset + 1;
      return;
    }
    const run = { topic: r.topic, partition: at.partition, firstOffset: at.offset, eventIds: [r.event_id] };
    runs.push(run);
    open.set(where, { run, next: offset + 1 });
  });
  return runs;
}

/**
 * The INSERT that records placements, reading its four arrays from parameters `$first` to `$first + 3` (in the order
 * `placementValues` gives them). Both relay modes put it in a CTE of their one bookkeeping statement per batch.
 */
export function insertPlacements(first: number): string {
  const [topic, partition, offset, ids] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  return `INSERT INTO outbox_placement (topic, partition, first_offset, event_ids)
    SELECT topic, partition, first_offset, string_to_array(event_ids, ',')::uuid[]
      FROM unnest(${topic}::text[], ${partition}::int[], ${offset}::bigint[], ${ids}::text[])
        AS p(topic, partition, first_offset, event_ids)`;
}

/** The parameters of `insertPlacements`: event ids joined, since PostgreSQL arrays cannot be ragged. */
export function placementValues(placed: readonly Placement[]): unknown[] {
  return [
    placed.map((p) => p.topic),
    placed.map((p) => p.partition),
    placed.map((p) => p.firstOffset),
    placed.map((p) => p.eventIds.join(',')),
  ];
}
