import { openPayload, sealedDataSubjects, type EventEnvelope } from '@event-spine/events';
import type { Queryable } from '../queryable';
import { keysForReading } from './data-subject-keys.store';

/**
 * The events as readers see them: sealed personal fields opened with their data subjects' keys, or null where a key
 * was destroyed. One query for the keys of the whole page; none when nothing in it is sealed.
 */
export async function revealPersonalData(db: Queryable, events: EventEnvelope[]): Promise<EventEnvelope[]> {
  const wanted = new Map<string, Set<string>>();
  for (const e of events) {
    for (const ds of sealedDataSubjects(e.payload)) {
      const ids = wanted.get(e.tenantId) ?? new Set<string>();
      wanted.set(e.tenantId, ids.add(ds));
    }
  }
  if (wanted.size === 0) return events;
  const keys = new Map<string, Map<string, Buffer | null>>();
  for (const [tenantId, ids] of wanted) keys.set(tenantId, await keysForReading(db, tenantId, [...ids]));
  return events.map((e) => openPayload(e, keys.get(e.tenantId) ?? new Map()));
}
