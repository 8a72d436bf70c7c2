/** Where each event of a command stands in a projector: a pure reading of the events and the subjects' positions. */

export interface CausalEventRef {
  id: string;
  tenantId: string;
  eventType: string;
  subjectType: string;
  subjectId: string;
  sequence: number;
  publication: { published: boolean };
}

export interface SubjectPosition {
  last: number;
  parkedReason: string | null;
}

export type ProjectionState =
  | { name: string; state: 'applied' }
  | { name: string; state: 'pending' }
  | { name: string; state: 'parked'; reason: string }
  | { name: string; state: 'not-handled' };

export interface CausalStatus {
  /** Every event published and applied by every projection that handles it. */
  complete: boolean;
  /** Some event waits behind a parked subject: waiting will not help until an admin retries or skips it. */
  blocked: boolean;
  events: { id: string; projections: ProjectionState[] }[];
}

export const subjectPositionKey = (e: { tenantId: string; subjectType: string; subjectId: string }) =>
  JSON.stringify([e.tenantId, e.subjectType, e.subjectId]);

export function causalStatus(
  events: readonly CausalEventRef[],
  projections: readonly { name: string; handles: readonly string[] }[],
  positions: ReadonlyMap<string, SubjectPosition>,
): CausalStatus {
  let complete = true;
  let blocked = false;
  const out = events.map((e) => {
    const position = positions.get(subjectPositionKey(e)) ?? { last: 0, parkedReason: null };
    const states = projections.map((p): ProjectionState => {
      if (!p.handles.includes(e.eventType)) return { name: p.name, state: 'not-handled' };
      // The projector's projections move together: one position per subject serves them all.
      if (position.last >= e.sequence) return { name: p.name, state: 'applied' };
      if (position.parkedReason !== null) return { name: p.name, state: 'parked', reason: position.parkedReason };
      return { name: p.name, state: 'pending' };
    });
    if (!e.publication.published || states.some((s) => s.state === 'pending' || s.state === 'parked')) complete = false;
    if (states.some((s) => s.state === 'parked')) blocked = true;
    return { id: e.id, projections: states };
  });
  return { complete, blocked, events: out };
}
