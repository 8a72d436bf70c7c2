import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@event-spine/events';
import { ledgerCatalog } from '@ledger/contract';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

const pause = () => new Promise((r) => setTimeout(r, 20));

/**
 * The platform's generic state route, `GET /v1/subjects/:subjectType/:subjectId/state?asOf=`, on the ledger: any
 * subject type's state as the domain's model folds it (a transfer has no query of its own), now or as known then.
 */
describe('command service: GET /v1/subjects/:subjectType/:subjectId/state', () => {
  let svc: CommandServiceHarness;
  let token: string;
  let accountId: string;
  let other: string;
  const transferId = randomUUID();

  const get = (url: string, bearer: string | null = token) =>
    svc.request<Record<string, unknown> & { code?: string; details?: { field: string }[] }>('GET', url, {
      token: bearer,
    });
  const post = async (url: string, body: unknown) => {
    const res = await svc.request('POST', url, { token, body });
    expect(res.statusCode).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    // Any role: a token without one reads state, as the domain's own queries allow.
    token = await tokenFor({ tenantId: `state-${randomUUID()}`, roles: [] });
    accountId = (await post('/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR' })).accountId as string;
    other = (await post('/v1/accounts', { ownerName: 'Charles Babbage', currency: 'EUR' })).accountId as string;
    await pause();
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 100 });
    await pause();
    await post('/v1/transfers', { transferId, fromAccountId: accountId, toAccountId: other, amount: 30 });
  });
  afterAll(() => svc.stop());

  const history = async (subjectType: string, subjectId: string) =>
    (await get(`/v1/subjects/${subjectType}/${subjectId}/events`)).body.events as EventEnvelope[];

  it('answers the current state folded by the domain’s model, for a subject type with no route of its own', async () => {
    const transfer = await get(`/v1/subjects/transfer/${transferId}/state`);
    expect(transfer).toMatchObject({
      statusCode: 200,
      body: {
        subjectType: 'transfer',
        subjectId: transferId,
        sequence: 2,
        state: { status: 'completed', fromAccountId: accountId, toAccountId: other, amount: 30, currency: 'EUR' },
      },
    });
    const account = await get(`/v1/subjects/account/${accountId}/state`);
    expect(account.body).toMatchObject({ subjectType: 'account', sequence: 3, state: { balance: 70, status: 'open' } });
    expect(Object.keys(account.body).sort()).toEqual(['sequence', 'state', 'subjectId', 'subjectType']);
  });

  it('answers the state as the system knew it at asOf', async () => {
    const events = await history('account', accountId);
    const [opened, deposited] = events;
    const atOpening = await get(`/v1/subjects/account/${accountId}/state?asOf=${opened.recordedAt}`);
    expect(atOpening.body).toMatchObject({ sequence: 1, state: { balance: 0 } });
    const afterDeposit = await get(`/v1/subjects/account/${accountId}/state?asOf=${deposited.recordedAt}`);
    expect(afterDeposit.body).toMatchObject({ sequence: 2, state: { balance: 100 } });
    // The same as the domain's own temporal query.
    const domain = await get(`/v1/accounts/${accountId}?asOf=${deposited.recordedAt}`);
    expect(domain.body).toMatchObject({ balance: 100, sequence: 2 });
    const later = new Date(Date.now() + 3600_000).toISOString();
    expect((await get(`/v1/subjects/transfer/${transferId}/state?asOf=${later}`)).body).toMatchObject({ sequence: 2 });
  });

  it('is 404 SUBJECT_NOT_FOUND for an unknown subject, one with no events yet at asOf, or another tenant’s', async () => {
    const unknown = await get(`/v1/subjects/transfer/${randomUUID()}/state`);
    expect(unknown).toMatchObject({ statusCode: 404, body: { code: 'SUBJECT_NOT_FOUND' } });
    const [opened] = await history('account', accountId);
    const before = new Date(Date.parse(opened.recordedAt) - 1000).toISOString();
    const notYet = await get(`/v1/subjects/account/${accountId}/state?asOf=${before}`);
    expect(notYet).toMatchObject({ statusCode: 404, body: { code: 'SUBJECT_NOT_FOUND' } });
    const foreign = await get(`/v1/subjects/account/${accountId}/state`, await tokenFor({ tenantId: 'elsewhere' }));
    expect(foreign).toMatchObject({ statusCode: 404, body: { code: 'SUBJECT_NOT_FOUND' } });
  });

  it('is 400 VALIDATION_FAILED for an unknown subject type, a malformed id or asOf', async () => {
    const refused = async (url: string, field: string) => {
      const res = await get(url);
      expect({ url, statusCode: res.statusCode, code: res.body.code }).toEqual({
        url,
        statusCode: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(res.body.details?.map((d) => d.field)).toContain(field);
    };
    await refused(`/v1/subjects/widget/${accountId}/state`, 'subjectType');
    // The platform's data subjects have a history but no state a domain model folds.
    await refused(`/v1/subjects/${ledgerCatalog.dataSubjectType}/ds-1/state`, 'subjectType');
    await refused('/v1/subjects/account/not-a-uuid/state', 'subjectId');
    await refused(`/v1/subjects/account/${accountId}/state?asOf=yesterday`, 'asOf');
    await refused(`/v1/subjects/account/${accountId}/state?asOf=2026-02-30T00:00:00Z`, 'asOf');
    await refused(`/v1/subjects/account/${accountId}/state?at=2026-01-01T00:00:00Z`, 'at');
  });

  it('needs a token', async () => {
    const res = await get(`/v1/subjects/account/${accountId}/state`, null);
    expect(res).toMatchObject({ statusCode: 401, body: { code: 'UNAUTHENTICATED' } });
  });

  it('is documented with the catalog’s folded subject types', async () => {
    const res = await svc.request<{
      paths: Record<string, Record<string, { operationId: string; parameters: { name: string; schema?: unknown }[] }>>;
    }>('GET', '/docs/openapi.json');
    const operation = res.body.paths['/v1/subjects/{subjectType}/{subjectId}/state'].get;
    expect(operation.operationId).toBe('getSubjectState');
    const subjectType = operation.parameters.find((p) => p.name === 'subjectType');
    expect(subjectType?.schema).toMatchObject({ enum: ['account', 'transfer'] });
    expect(operation.parameters.map((p) => p.name)).toContain('asOf');
  });
});
