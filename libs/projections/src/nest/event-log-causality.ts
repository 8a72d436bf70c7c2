import { signToken } from '@event-spine/auth';
import type { CausalKey, EventEnvelope, Publication } from '@event-spine/events';

export type CausalEvent = EventEnvelope & { publication: Publication };

/** The events of an invocation or correlation with their publication; undefined when the tenant has none. */
export type CausalEventsReader = (tenantId: string, key: CausalKey) => Promise<CausalEvent[] | undefined>;

/**
 * Reads an invocation's (or correlation's) events from the command service that owns the log
 * (`GET /v1/invocations/:id/events`, `GET /v1/correlations/:id/events`), as the tenant's service principal.
 */
export function eventLogCausality(baseUrl: string, jwtSecret: string, timeoutMs = 5000): CausalEventsReader {
  return async (tenantId, key) => {
    const token = await signToken(
      { actorId: 'projector', actorType: 'service', tenantId, spaceId: 'projector', roles: ['service'] },
      jwtSecret,
      '1m',
    );
    const path =
      'actionInvocationId' in key
        ? `invocations/${encodeURIComponent(key.actionInvocationId)}`
        : `correlations/${encodeURIComponent(key.correlationId)}`;
    const res = await fetch(`${baseUrl}/v1/${path}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`the event log answered ${res.status}`);
    return ((await res.json()) as { events: CausalEvent[] }).events;
  };
}
