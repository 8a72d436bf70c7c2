import { signToken } from '@event-spine/auth';
import type { EventEnvelope } from '@event-spine/events';
import type { EventLogReader } from '../sources/event-log.source';

/**
 * The canonical event log, read page by page from the command service's tenant feed (`GET /v1/events`) as the
 * tenant's service principal. Failures are thrown: a replay that cannot read the log fails and changes nothing.
 */
export function eventLogFeedReader(baseUrl: string, jwtSecret: string, timeoutMs = 10000): EventLogReader {
  return async (tenantId, after, limit) => {
    const token = await signToken(
      { actorId: 'projector-replay', actorType: 'service', tenantId, spaceId: 'projector', roles: ['service'] },
      jwtSecret,
      '5m',
    );
    const query = new URLSearchParams({ limit: String(Math.min(1000, limit)) });
    if (after) query.set('after', after);
    const res = await fetch(`${baseUrl}/v1/events?${query.toString()}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`the command service's event feed answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { events: EventEnvelope[]; nextCursor: string | null };
  };
}
