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
