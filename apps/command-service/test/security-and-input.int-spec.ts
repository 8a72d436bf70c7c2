import { randomUUID } from 'node:crypto';
import { signToken } from '@event-spine/auth';
import { CommandServiceHarness, principal, tokenFor } from './command-service.harness';

describe('authentication and tenant isolation', () => {
  let svc: CommandServiceHarness;
  let tokenA: string;
  let tokenB: string;
  let accountA: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    tokenA = await tokenFor({ tenantId: 'tenant-a' });
    tokenB = await tokenFor({ tenantId: 'tenant-b' });
    const res = await svc.request('POST', '/v1/accounts', { token: tokenA, body: { ownerName: 'A', currency: 'EUR' } });
    accountA = res.body.accountId as string;
    await svc.request('POST', `/v1/accounts/${accountA}/deposits`, { token: tokenA, body: { amount: 100 } });
  });
  afterAll(() => svc.stop());

  const routes = (id: string): [method: 'GET' | 'POST', url: string, body?: unknown][] => [
    ['POST', '/v1/accounts', { ownerName: 'X', currency: 'EUR' }],
    ['POST', `/v1/accounts/${id}/deposits`, { amount: 1 }],
    ['POST', `/v1/accounts/${id}/withdrawals`, { amount: 1 }],
    ['POST', `/v1/accounts/${id}/reversals`, { eventId: randomUUID(), reason: 'r' }],
    ['POST', `/v1/accounts/${id}/close`, {}],
    ['POST', '/v1/transfers', { fromAccountId: id, toAccountId: randomUUID(), amount: 1 }],
    ['GET', `/v1/accounts/${id}`],
    ['GET', `/v1/subjects/account/${id}/events`],
    ['GET', '/v1/events'],
  ];

  it('answers 401 on every route without a token, with a bad signature, expired, or with missing claims', async () => {
    const wrongSignature = await signToken(principal(), 'another-secret-that-is-long-enough-xxxxxxx');
    const expired = await tokenFor({}, Math.floor(Date.now() / 1000) - 60);
    const noTenant = await signToken({ ...principal(), tenantId: '' }, 'integration-secret-0123456789-abcdefghijkl');
    const before = await svc.writeCounts();
    for (const [method, url, body] of routes(accountA)) {
      for (const token of [null, wrongSignature, expired, noTenant, 'not-a-jwt']) {
        const res = await svc.request(method, url, { token, body });
        expect({ url, token: token?.slice(0, 8), status: res.statusCode, code: res.body.code }).toEqual({
          url,
          token: token?.slice(0, 8),
          status: 401,
          code: 'UNAUTHENTICATED',
        });
      }
    }
    const expiredRes = await svc.request('GET', `/v1/accounts/${accountA}`, { token: expired });
    expect(expiredRes.body.message).toMatch(/expired/);
    expect(await svc.writeCounts()).toEqual(before);
  });

  it('never shows or changes another tenant’s subjects: 404, and nothing written', async () => {
    const before = await svc.writeCounts();
    for (const [method, url, body] of routes(accountA).filter(([, url]) => url.includes(accountA))) {
      const res = await svc.request(method, url, { token: tokenB, body });
      if (url === '/v1/transfers') {
        expect(res).toMatchObject({ statusCode: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
      } else {
        expect([url, res.statusCode]).toEqual([url, 404]);
      }
    }
    const feedB = await svc.request<{ events: unknown[] }>('GET', '/v1/events', { token: tokenB });
    expect(feedB.body.events).toEqual([]);
    expect(await svc.writeCounts()).toEqual(before);
    expect((await svc.request('GET', `/v1/accounts/${accountA}`, { token: tokenA })).body.balance).toBe(100);
  });

  it('cannot reverse another tenant’s entry by its event id', async () => {
    const { rows } = await svc.db.query<{ id: string }>(
      `SELECT id FROM event_log WHERE event_type = 'FundsDeposited' AND subject_id = $1`,
      [accountA],
    );
    const mine = await svc.request('POST', '/v1/accounts', {
      token: tokenB,
      body: { ownerName: 'B', currency: 'EUR' },
    });
    const res = await svc.request('POST', `/v1/accounts/${mine.body.accountId as string}/reversals`, {
      token: tokenB,
      body: { eventId: rows[0].id, reason: 'steal' },
    });
    expect(res).toMatchObject({ statusCode: 404, body: { code: 'ENTRY_NOT_FOUND' } });
  });
});

describe('bad input: a clear error with a stable code and the field errors, and nothing written', () => {
  let svc: CommandServiceHarness;
  let token: string;
  let accountId: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    token = await tokenFor();
    const res = await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'In', currency: 'EUR' } });
    accountId = res.body.accountId as string;
  });
  afterAll(() => svc.stop());

  const deposit = () => `/v1/accounts/${accountId}/deposits`;
  type Case = [
    name: string,
    method: 'GET' | 'POST',
    url: () => string,
    send: { body?: unknown; rawBody?: string; headers?: Record<string, string> },
    status: number,
    code: string,
    fields: string[] | null,
  ];
  const cases: Case[] = [
    ['amount as a string', 'POST', deposit, { body: { amount: '100' } }, 400, 'VALIDATION_FAILED', ['amount']],
    ['negative amount', 'POST', deposit, { body: { amount: -5 } }, 400, 'VALIDATION_FAILED', ['amount']],
    ['zero amount', 'POST', deposit, { body: { amount: 0 } }, 400, 'VALIDATION_FAILED', ['amount']],
    ['fractional amount', 'POST', deposit, { body: { amount: 1.5 } }, 400, 'VALIDATION_FAILED', ['amount']],
    ['unsafe integer amount', 'POST', deposit, { body: { amount: 2 ** 60 } }, 400, 'VALIDATION_FAILED', ['amount']],
    ['missing amount', 'POST', deposit, { body: {} }, 400, 'VALIDATION_FAILED', ['amount']],
    ['unknown field', 'POST', deposit, { body: { amount: 1, bonus: true } }, 400, 'VALIDATION_FAILED', ['bonus']],
    [
      'reference too long',
      'POST',
      deposit,
      { body: { amount: 1, reference: 'x'.repeat(201) } },
      400,
      'VALIDATION_FAILED',
      ['reference'],
    ],
    [
      'occurredAt not a date',
      'POST',
      deposit,
      { body: { amount: 1, occurredAt: 'yesterday' } },
      400,
      'VALIDATION_FAILED',
      ['occurredAt'],
    ],
    ['body is an array', 'POST', deposit, { body: [1, 2] }, 400, 'VALIDATION_FAILED', null],
    ['malformed JSON', 'POST', deposit, { rawBody: '{"amount": 1' }, 400, 'MALFORMED_JSON', null],
    [
      'oversized body',
      'POST',
      deposit,
      { rawBody: JSON.stringify({ amount: 1, reference: 'x'.repeat(70_000) }) },
      413,
      'PAYLOAD_TOO_LARGE',
      null,
    ],
    [
      'wrong content type',
      'POST',
      deposit,
      { rawBody: 'amount=1', headers: { 'content-type': 'text/plain' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      null,
    ],
    [
      'malformed account id',
      'POST',
      () => '/v1/accounts/12345/deposits',
      { body: { amount: 1 } },
      400,
      'VALIDATION_FAILED',
      ['id'],
    ],
    [
      'unknown currency',
      'POST',
      () => '/v1/accounts',
      { body: { ownerName: 'X', currency: 'XYZ' } },
      400,
      'VALIDATION_FAILED',
      ['currency'],
    ],
    [
      'lower-case currency',
      'POST',
      () => '/v1/accounts',
      { body: { ownerName: 'X', currency: 'eur' } },
      400,
      'VALIDATION_FAILED',
      ['currency'],
    ],
    [
      'blank owner',
      'POST',
      () => '/v1/accounts',
      { body: { ownerName: '   ', currency: 'EUR' } },
      400,
      'VALIDATION_FAILED',
      ['ownerName'],
    ],
    [
      'owner of wrong type',
      'POST',
      () => '/v1/accounts',
      { body: { ownerName: 42, currency: 'EUR' } },
      400,
      'VALIDATION_FAILED',
      ['ownerName'],
    ],
    [
      'malformed client account id',
      'POST',
      () => '/v1/accounts',
      { body: { ownerName: 'X', currency: 'EUR', accountId: 'abc' } },
      400,
      'VALIDATION_FAILED',
      ['accountId'],
    ],
    [
      'transfer with malformed ids',
      'POST',
      () => '/v1/transfers',
      { body: { fromAccountId: 'a', toAccountId: 'b', amount: 1 } },
      400,
      'VALIDATION_FAILED',
      ['fromAccountId', 'toAccountId'],
    ],
    [
      'reversal without reason',
      'POST',
      () => `/v1/accounts/${accountId}/reversals`,
      { body: { eventId: randomUUID() } },
      400,
      'VALIDATION_FAILED',
      ['reason'],
    ],
    [
      'close with fields',
      'POST',
      () => `/v1/accounts/${accountId}/close`,
      { body: { force: true } },
      400,
      'VALIDATION_FAILED',
      ['force'],
    ],
    [
      'bad Idempotency-Key',
      'POST',
      deposit,
      { body: { amount: 1 }, headers: { 'idempotency-key': 'a b' } },
      400,
      'INVALID_HEADER',
      null,
    ],
    [
      'unknown subject type',
      'GET',
      () => `/v1/subjects/invoice/${accountId}/events`,
      {},
      400,
      'VALIDATION_FAILED',
      ['subjectType'],
    ],
    ['limit not a number', 'GET', () => '/v1/events?limit=lots', {}, 400, 'VALIDATION_FAILED', ['limit']],
    ['limit too large', 'GET', () => '/v1/events?limit=100000', {}, 400, 'VALIDATION_FAILED', ['limit']],
    ['asOf not a date', 'GET', () => `/v1/accounts/${accountId}?asOf=tomorrow`, {}, 400, 'VALIDATION_FAILED', ['asOf']],
    [
      'unknown query parameter',
      'GET',
      () => `/v1/accounts/${accountId}?debug=1`,
      {},
      400,
      'VALIDATION_FAILED',
      ['debug'],
    ],
  ];

  // Every row has all seven columns: Jest would take a missing last one for a `done` callback and wait on it.
  it.each(cases)('%s', async (_name, method, url, send, status, code, fields) => {
    const before = await svc.writeCounts();
    const res = await svc.request<{ code: string; correlationId: string; details?: { field: string }[] }>(
      method,
      url(),
      {
        token,
        ...send,
      },
    );
    expect({ status: res.statusCode, code: res.body.code }).toEqual({ status, code });
    expect(res.body.correlationId).toEqual(expect.any(String));
    if (fields) expect(res.body.details?.map((d) => d.field).sort()).toEqual([...fields].sort());
    expect(await svc.writeCounts()).toEqual(before);
  });
});
