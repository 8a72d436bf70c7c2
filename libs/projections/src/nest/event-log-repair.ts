import { Logger } from '@nestjs/common';
import { signToken } from '@event-spine/auth';
import type { EventEnvelope } from '@event-spine/events';
import type { GapRepair } from '../projection-runner';

/**
 * Fills a sequence gap from the canonical event log's subject history (`GET /v1/subjects/:type/:id/events` of the
 * command service that owns the log), as the tenant's
 * service principal. Any failure (service down, slow, refusing) leaves the gap to be parked.
 */
export function eventLogRepair(baseUrl: string, jwtSecret: string, timeoutMs = 2000): GapRepair {
  const logger = new Logger('GapRepair');
  return async (ref, afterSequence, upToSequence) => {
    const token = await signToken(
      { actorId: 'projector', actorType: 'service', tenantId: ref.tenantId, spaceId: 'projector', roles: ['service'] },
      jwtSecret,
      '1m',
    );
    const limit = Math.min(1000, upToSequence - afterSequence);
    const url = `${baseUrl}/v1/subjects/${encodeURIComponent(ref.subjectType)}/${encodeURIComponent(ref.subjectId)}/events?afterSequence=${afterSequence}&limit=${limit}`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      logger.warn({ message: 'gap repair refused', status: res.status, subject: ref });
      return [];
    }
    const { events } = (await res.json()) as { events: EventEnvelope[] };
    logger.log({ message: 'gap repaired from the event log', subject: ref, afterSequence, fetched: events.length });
    return events;
  };
}
