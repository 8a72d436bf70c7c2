import { signToken } from '@event-spine/auth';
import type { EventEnvelope, OpenedPayload as Opened } from '@event-spine/events';
import type { PersonalDataOpener } from '../projection-runner';

/**
 * Opens sealed personal fields through the command service that holds the keys (`POST /v1/personal-data/open`), as
 * the tenant's service principal: keys never leave that service. Requests are kept under `maxBodyBytes` (the command
 * service refuses bodies over HTTP_BODY_LIMIT_BYTES, 64 KiB by default), so a large batch takes several. A failure is
 * thrown, so the batch waits and is retried rather than applied without the values; only an event too large to send
 * on its own is answered as unopenable (its subject is parked).
 */
export function personalDataOpener(
  baseUrl: string,
  jwtSecret: string,
  { timeoutMs = 5000, maxBodyBytes = 48 * 1024 } = {},
): PersonalDataOpener {
  // A token per tenant, signed for a minute and used for 30 s: not one signature per batch.
  const tokens = new Map<string, { token: Promise<string>; until: number }>();
  const tokenFor = (tenantId: string): Promise<string> => {
    const cached = tokens.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.token;
    const token = signToken(
      { actorId: 'projector', actorType: 'service', tenantId, spaceId: 'projector', roles: ['service'] },
      jwtSecret,
      '1m',
    );
    tokens.set(tenantId, { token, until: Date.now() + 30_000 });
    token.catch(() => tokens.delete(tenantId));
    return token;
  };
  return async (tenantId, events) => {
    const token = await tokenFor(tenantId);
    const open = async (chunk: readonly Pick<EventEnvelope, 'id' | 'payload'>[]): Promise<Opened[]> => {
      const res = await fetch(`${baseUrl}/v1/personal-data/open`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: chunk.map((e) => ({ id: e.id, payload: e.payload })) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 413 && chunk.length === 1) {
        return [{ error: 'the event is larger than the command service accepts to open' }];
      }
      if (!res.ok) throw new Error(`the command service did not open personal data: ${res.status} ${await res.text()}`);
      const { results } = (await res.json()) as { results: Opened[] };
      if (results.length !== chunk.length) throw new Error('the command service opened a different number of events');
      return results;
    };
    const results: Opened[] = [];
    let chunk: Pick<EventEnvelope, 'id' | 'payload'>[] = [];
    let bytes = 0;
    for (const e of events) {
      const size = Buffer.byteLength(JSON.stringify(e.payload)) + 64;
      if (chunk.length > 0 && bytes + size > maxBodyBytes) {
        results.push(...(await open(chunk)));
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) results.push(...(await open(chunk)));
    return results;
  };
}
