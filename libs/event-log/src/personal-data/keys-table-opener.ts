import type { EventEnvelope, OpenedPayload } from '@event-spine/events';
import type { Queryable } from '../queryable';
import { openEach } from './reveal';

/**
 * Opens one tenant's sealed personal fields with the keys read from `data_subject_keys`, in one indexed query: for
 * the command service's open route, and for a service granted SELECT on that table (the projector with
 * PERSONAL_DATA_KEYS_DATABASE_URL) instead of that route over HTTP per batch. No key outlives the call, so a forget's
 * destroyed key is never used again, and the projector's data-subject locks order opening against erasure exactly as
 * with the route.
 */
export function keysTableOpener(
  db: Queryable,
): (tenantId: string, events: readonly Pick<EventEnvelope, 'id' | 'payload'>[]) => Promise<OpenedPayload[]> {
  return (tenantId, events) =>
    openEach(
      db,
      events.map((e) => ({ id: e.id, tenantId, payload: e.payload }) as EventEnvelope),
    );
}
