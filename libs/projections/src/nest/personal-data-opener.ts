import { signToken } from '@event-spine/auth';
import type { PersonalDataOpener } from '../projection-runner';

/**
 * Opens sealed personal fields through the command service that holds the keys (`POST /v1/personal-data/open`), as
 * the tenant's service principal: keys never leave that service. A failure is thrown, so the batch waits and is
 * retried rather than applied without the values.
 */
export function personalDataOpener(baseUrl: string, jwtSecret: string, timeoutMs = 5000): PersonalDataOpener {
  return async (tenantId, events) => {
    const token = await signToken(
      { actorId: 'projector', actorType: 'service', tenantId, spaceId: 'projector', roles: ['service'] },
      jwtSecret,
      '1m',
    );
    const res = await fetch(`${baseUrl}/v1/personal-data/open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: events.map((e) => ({ id: e.id, payload: e.payload })) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`the command service did not open personal data: ${res.status} ${await res.text()}`);
    const { results } = (await res.json()) as { results: ({ payload: unknown } | { error: string })[] };
    if (results.length !== events.length) throw new Error('the command service opened a different number of events');
    return results;
  };
}
