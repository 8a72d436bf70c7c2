import {
  openPayload,
  SealedValueError,
  sealedDataSubjects,
  type EventEnvelope,
  type OpenedPayload,
} from '@event-spine/events';
import type { Queryable } from '../queryable';
import { keysForReading } from './data-subject-keys.store';

/**
 * Each event's payload with its sealed personal fields opened with their data subjects' keys, or null where a key was
 * destroyed. One query for the keys of the whole page; none when nothing in it is sealed.
 */
export async function openEach(db: Queryable, events: readonly EventEnvelope[]): Promise<OpenedPayload[]> {
  const wanted = new Map<string, Set<string>>();
  for (const e of events) {
    for (const ds of sealedDataSubjects(e.payload)) {
      const ids = wanted.get(e.tenantId) ?? new Set<string>();
      wanted.set(e.tenantId, ids.add(ds));
    }
  }
  const keys = new Map<string, Map<string, Buffer | null>>();
  for (const [tenantId, ids] of wanted) keys.set(tenantId, await keysForReading(db, tenantId, [...ids]));
  return events.map((e) => {
    try {
      return { payload: openPayload(e, keys.get(e.tenantId) ?? new Map()).payload };
    } catch (error) {
      if (error instanceof SealedValueError) return { error: error.message };
      throw error;
    }
  });
}

/**
 * The events as readers see them (see openEach). A sealed value that does not open fails the read: it was changed
 * since it was sealed, which `verify` names.
 */
export async function revealPersonalData(db: Queryable, events: EventEnvelope[]): Promise<EventEnvelope[]> {
  if (!events.some((e) => sealedDataSubjects(e.payload).length > 0)) return events;
  const opened = await openEach(db, events);
  return events.map((e, i) => {
    const o = opened[i];
    if ('error' in o) throw new SealedValueError(o.error);
    return o.payload === e.payload ? e : { ...e, payload: o.payload };
  });
}
