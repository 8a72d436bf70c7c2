import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@event-spine/events';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

// The command API against the real PostgreSQL: every route, state + event log + outbox written together, and the
// envelope, correlation and causation the spec asks for.
describe('command service HTTP API', () => {
  let svc: CommandServiceHarness;
  let token: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    token = await tokenFor();
  });
  afterAll(() => svc.stop());

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    svc.request('POST', url, { token, body, headers });
  const get = <T = Record<string, unknown>>(url: string) => svc.request<T>('GET', url, { token });

  async function openAccount(currency = 'EUR', ownerName = 'Ada Lovelace'): Promise<string> {
    const res = await post('/v1/accounts', { ownerName, currency });
    expect(res.statusCode).toBe(201);
    return res.body.accountId as string;
  }

  it('opens an account, deposits, withdraws and reads current state', async () => {
    const accountId = randomUUID();
    const opened = await post('/v1/accounts', { ownerName: 'Grace Hopper', currency: 'USD', accountId });
    expect(opened).toMatchObject({ statusCode: 201, body: { accountId, sequence: 1 } });

    expect((await post(`/v1/accounts/${accountId}/deposits`, { amount: 1000, reference: 'salary' })).body).toEqual({
      accountId,
      sequence: 2,
      balance: 1000,
    });
    expect((await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 250 })).body).toEqual({
      accountId,
      sequence: 3,
      balance: 750,
    });
    const state = await get(`/v1/accounts/${accountId}`);
    expect(state.statusCode).toBe(200);
    expect(state.headers.etag).toBe('"3"');
    expect(state.body).toEqual({
      accountId,
      ownerName: 'Grace Hopper',
      currency: 'USD',
      balance: 750,
      status: 'open',
      sequence: 3,
    });
  });

  it('writes each event to the log and the outbox with the spec envelope, topic, key and headers', async () => {
    const accountId = await openAccount();
    const correlationId = `corr-${randomUUID()}`;
    const res = await post(
      `/v1/accounts/${accountId}/deposits`,
      { amount: 42, occurredAt: '2026-01-02T03:04:05.000Z' },
      {
        'x-correlation-id': correlationId,
      },
    );
    expect(res.headers['x-correlation-id']).toBe(correlationId);

    const history = await get<{ events: EventEnvelope[] }>(`/v1/subjects/account/${accountId}/events`);
    expect(history.body.events.map((e) => [e.eventType, e.sequence])).toEqual([
      ['AccountOpened', 1],
      ['FundsDeposited', 2],
    ]);
    const deposit = history.body.events[1];
    expect(Object.keys(deposit)).toEqual([
      'id',
      'tenantId',
      'spaceId',
      'eventType',
      'eventSchemaVersion',
      'subjectType',
      'subjectId',
      'actorId',
      'actorType',
      'actionInvocationId',
      'payload',
      'sequence',
      'occurredAt',
      'recordedAt',
      'correlationId',
      'causationId',
    ]);
    expect(deposit).toMatchObject({
      tenantId: 'tenant-a',
      spaceId: 'space-1',
      eventSchemaVersion: 1,
      subjectType: 'account',
      subjectId: accountId,
      actorId: 'user-1',
      actorType: 'user',
      payload: { amount: 42 },
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId,
      causationId: deposit.actionInvocationId,
    });
    expect(new Date(deposit.recordedAt).getTime()).toBeGreaterThan(new Date(deposit.occurredAt).getTime());

    const { rows } = await svc.db.query<{
      topic: string;
      message_key: string;
      headers: Record<string, string>;
      value: string;
    }>(`SELECT topic, message_key, headers, value FROM outbox WHERE event_id = $1`, [deposit.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].topic).toMatch(/spine\.account\.events$/);
    expect(rows[0].message_key).toBe(`tenant-a:${accountId}`);
    expect(rows[0].headers).toEqual({
      'event-id': deposit.id,
      'event-type': 'FundsDeposited',
      'event-schema-version': '1',
      'tenant-id': 'tenant-a',
      'subject-type': 'account',
      'subject-id': accountId,
      sequence: '2',
      'correlation-id': correlationId,
      'causation-id': deposit.actionInvocationId,
      'content-type': 'application/json',
    });
    expect(JSON.parse(rows[0].value)).toEqual(deposit);
  });

  it('records a transfer as four events in one transaction, one correlation id and a causation chain', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await post(`/v1/accounts/${from}/deposits`, { amount: 500 });
    const res = await post('/v1/transfers', { fromAccountId: from, toAccountId: to, amount: 200 });
    expect(res.statusCode).toBe(201);
    const { transferId, correlationId } = res.body as { transferId: string; correlationId: string };
    expect(res.headers['x-correlation-id']).toBe(correlationId);

    const { rows } = await svc.db.query<{
      id: string;
      event_type: string;
      subject_id: string;
      sequence: number;
      correlation_id: string;
      causation_id: string;
      action_invocation_id: string;
      tx_id: string;
    }>(
      `SELECT id, event_type, subject_id, sequence, correlation_id, causation_id, action_invocation_id, tx_id::text
         FROM event_log WHERE correlation_id = $1 ORDER BY global_position`,
      [correlationId],
    );
    expect(rows.map((r) => [r.event_type, r.subject_id, r.sequence])).toEqual([
      ['TransferRequested', transferId, 1],
      ['FundsWithdrawn', from, 3],
      ['FundsDeposited', to, 2],
      ['TransferCompleted', transferId, 2],
    ]);
    expect(new Set(rows.map((r) => r.tx_id)).size).toBe(1); // one transaction
    expect(rows[0].causation_id).toBe(rows[0].action_invocation_id);
    expect(rows.slice(1).map((r) => r.causation_id)).toEqual(rows.slice(0, 3).map((r) => r.id));

    expect((await get(`/v1/accounts/${from}`)).body.balance).toBe(300);
    expect((await get(`/v1/accounts/${to}`)).body.balance).toBe(200);
    const transferEvents = await get<{ events: EventEnvelope[] }>(`/v1/subjects/transfer/${transferId}/events`);
    expect(transferEvents.body.events.map((e) => e.eventType)).toEqual(['TransferRequested', 'TransferCompleted']);
  });

  it('refuses transfers that cannot happen, writing nothing', async () => {
    const eur = await openAccount('EUR');
    const usd = await openAccount('USD');
    const poor = await openAccount('EUR');
    await post(`/v1/accounts/${eur}/deposits`, { amount: 100 });
    const before = await svc.writeCounts();
    const cases: [unknown, number, string][] = [
      [{ fromAccountId: eur, toAccountId: eur, amount: 1 }, 422, 'SAME_ACCOUNT'],
      [{ fromAccountId: eur, toAccountId: usd, amount: 1 }, 422, 'CURRENCY_MISMATCH'],
      [{ fromAccountId: poor, toAccountId: eur, amount: 1 }, 409, 'INSUFFICIENT_FUNDS'],
      [{ fromAccountId: eur, toAccountId: randomUUID(), amount: 1 }, 404, 'ACCOUNT_NOT_FOUND'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/v1/transfers', body);
      expect({ status: res.statusCode, code: res.body.code }).toEqual({ status, code });
    }
    expect(await svc.writeCounts()).toEqual(before);
  });

  it('compensates with EntryReversed and never edits history', async () => {
    const accountId = await openAccount();
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 300 });
    await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 100 });
    const { body } = await get<{ events: EventEnvelope[] }>(`/v1/subjects/account/${accountId}/events`);
    const [, deposit, withdrawal] = body.events;

    const reversed = await post(`/v1/accounts/${accountId}/reversals`, {
      eventId: withdrawal.id,
      reason: 'duplicate charge',
    });
    expect(reversed.body).toEqual({ accountId, sequence: 4, balance: 300 });
    const again = await post(`/v1/accounts/${accountId}/reversals`, { eventId: withdrawal.id, reason: 'again' });
    expect(again).toMatchObject({ statusCode: 409, body: { code: 'ALREADY_REVERSED' } });

    await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 250 });
    const wouldGoNegative = await post(`/v1/accounts/${accountId}/reversals`, { eventId: deposit.id, reason: 'x' });
    expect(wouldGoNegative).toMatchObject({ statusCode: 409, body: { code: 'INSUFFICIENT_FUNDS' } });
    const unknown = await post(`/v1/accounts/${accountId}/reversals`, { eventId: randomUUID(), reason: 'x' });
    expect(unknown).toMatchObject({ statusCode: 404, body: { code: 'ENTRY_NOT_FOUND' } });

    const history = await get<{ events: EventEnvelope[] }>(`/v1/subjects/account/${accountId}/events`);
    expect(history.body.events.map((e) => e.eventType)).toEqual([
      'AccountOpened',
      'FundsDeposited',
      'FundsWithdrawn',
      'EntryReversed',
      'FundsWithdrawn',
    ]);
    expect(history.body.events[2]).toEqual(withdrawal); // the reversed entry is untouched
    expect(history.body.events[3].payload).toEqual({
      reversedEventId: withdrawal.id,
      reversedEventType: 'FundsWithdrawn',
      balanceDelta: 100,
      reason: 'duplicate charge',
    });
  });

  it('closes only an empty account, and a closed account takes no more money', async () => {
    const accountId = await openAccount();
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 10 });
    expect(await post(`/v1/accounts/${accountId}/close`, {})).toMatchObject({
      statusCode: 409,
      body: { code: 'BALANCE_NOT_ZERO' },
    });
    await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 10 });
    expect(await post(`/v1/accounts/${accountId}/close`, {})).toMatchObject({
      statusCode: 200,
      body: { accountId, sequence: 4 },
    });
    expect(await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 })).toMatchObject({
      statusCode: 409,
      body: { code: 'ACCOUNT_CLOSED' },
    });
    expect((await get(`/v1/accounts/${accountId}`)).body.status).toBe('closed');
  });

  it('answers asOf with the fold of the events recorded up to that time', async () => {
    const accountId = await openAccount();
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 100 });
    const { rows } = await svc.db.query<{ recorded_at: Date }>(
      `SELECT recorded_at FROM event_log WHERE subject_id = $1 AND sequence = 2`,
      [accountId],
    );
    const afterFirstDeposit = rows[0].recorded_at.toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 50 });

    expect((await get(`/v1/accounts/${accountId}?asOf=${afterFirstDeposit}`)).body).toMatchObject({
      balance: 100,
      sequence: 2,
    });
    expect((await get(`/v1/accounts/${accountId}`)).body).toMatchObject({ balance: 150, sequence: 3 });
    const beforeOpening = await get(`/v1/accounts/${accountId}?asOf=2000-01-01T00:00:00Z`);
    expect(beforeOpening).toMatchObject({ statusCode: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
  });

  it('never loses an update: 20 parallel deposits end with the exact balance and sequences 1..21', async () => {
    const accountId = await openAccount();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(`/v1/accounts/${accountId}/deposits`, { amount: i + 1 })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect((await get(`/v1/accounts/${accountId}`)).body).toMatchObject({ balance: 210, sequence: 21 });
    const { rows } = await svc.db.query<{ sequence: number }>(
      `SELECT sequence FROM event_log WHERE subject_id = $1 ORDER BY sequence`,
      [accountId],
    );
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const { rows: outbox } = await svc.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE message_key = $1`,
      [`tenant-a:${accountId}`],
    );
    expect(outbox[0].n).toBe(21);
  });

  it('groups concurrent commands on different accounts into shared transactions, and says so in its metrics', async () => {
    const groups = async () => {
      const text = (await svc.request<string>('GET', '/metrics')).body;
      const count = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { transactions: count('spine_command_group_size_count'), commands: count('spine_command_group_size_sum') };
    };
    const before = await groups();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => post('/v1/accounts', { ownerName: 'Ada', currency: 'EUR' })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
    const accounts = results.map((r) => r.body.accountId as string);
    expect(new Set(accounts).size).toBe(30);
    const after = await groups();
    expect(after.commands - before.commands).toBe(30);
    // At most COMMAND_GROUP_TRANSACTIONS (2) run at once: the commands that arrive meanwhile share the next ones.
    expect(after.transactions - before.transactions).toBeLessThan(30);
    const { rows } = await svc.db.query<{ txs: number; events: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS txs, count(*)::int AS events FROM event_log WHERE subject_id = ANY($1)`,
      [accounts],
    );
    expect(rows[0]).toEqual({ txs: after.transactions - before.transactions, events: 30 });
  });

  describe('Idempotency-Key', () => {
    it('returns the stored first response for the same key and body, writing nothing', async () => {
      const key = `key-${randomUUID()}`;
      const first = await post('/v1/accounts', { ownerName: 'Idem', currency: 'EUR' }, { 'idempotency-key': key });
      expect(first.statusCode).toBe(201);
      const counts = await svc.writeCounts();
      const retry = await post('/v1/accounts', { ownerName: 'Idem', currency: 'EUR' }, { 'idempotency-key': key });
      expect(retry.statusCode).toBe(201);
      expect(retry.body).toEqual(first.body); // the same generated accountId
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await svc.writeCounts()).toEqual(counts);
    });

    it('answers 422 for the same key with a different body, writing nothing', async () => {
      const accountId = await openAccount();
      const key = `key-${randomUUID()}`;
      await post(`/v1/accounts/${accountId}/deposits`, { amount: 5 }, { 'idempotency-key': key });
      const counts = await svc.writeCounts();
      const other = await post(`/v1/accounts/${accountId}/deposits`, { amount: 6 }, { 'idempotency-key': key });
      expect(other).toMatchObject({ statusCode: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
      expect(await svc.writeCounts()).toEqual(counts);
      expect((await get(`/v1/accounts/${accountId}`)).body.balance).toBe(5);
    });

    it('replays a refusal as the first response too', async () => {
      const accountId = await openAccount();
      const key = `key-${randomUUID()}`;
      const refused = await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 5 }, { 'idempotency-key': key });
      expect(refused).toMatchObject({ statusCode: 409, body: { code: 'INSUFFICIENT_FUNDS' } });
      await post(`/v1/accounts/${accountId}/deposits`, { amount: 50 });
      const retry = await post(`/v1/accounts/${accountId}/withdrawals`, { amount: 5 }, { 'idempotency-key': key });
      expect(retry.statusCode).toBe(409);
      expect(retry.body).toEqual(refused.body);
      expect((await get(`/v1/accounts/${accountId}`)).body.balance).toBe(50);
    });

    it('applies concurrent first requests with one key exactly once', async () => {
      const accountId = await openAccount();
      const key = `key-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          post(`/v1/accounts/${accountId}/deposits`, { amount: 7 }, { 'idempotency-key': key }),
        ),
      );
      expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
      expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
      expect((await get(`/v1/accounts/${accountId}`)).body).toMatchObject({ balance: 7, sequence: 2 });
    });
  });

  describe('If-Match', () => {
    it('applies only at the expected sequence, else 409 CONCURRENCY_CONFLICT with nothing written', async () => {
      const accountId = await openAccount();
      expect((await post(`/v1/accounts/${accountId}/deposits`, { amount: 5 }, { 'if-match': '1' })).statusCode).toBe(
        201,
      );
      const counts = await svc.writeCounts();
      const stale = await post(`/v1/accounts/${accountId}/deposits`, { amount: 5 }, { 'if-match': '"1"' });
      expect(stale).toMatchObject({
        statusCode: 409,
        body: { code: 'CONCURRENCY_CONFLICT', details: { expectedSequence: 1, actualSequence: 2 } },
      });
      expect(await svc.writeCounts()).toEqual(counts);
      const bad = await post(`/v1/accounts/${accountId}/deposits`, { amount: 5 }, { 'if-match': 'soon' });
      expect(bad).toMatchObject({ statusCode: 400, body: { code: 'INVALID_HEADER', details: { header: 'If-Match' } } });
    });
  });

  describe('the tenant feed GET /v1/events', () => {
    it('pages through the tenant’s events in order with a cursor, and only its own', async () => {
      const t = await tokenFor({ tenantId: `feed-${randomUUID()}` });
      const a = await svc.request('POST', '/v1/accounts', { token: t, body: { ownerName: 'F', currency: 'EUR' } });
      const accountId = a.body.accountId as string;
      for (let i = 1; i <= 5; i++) {
        await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token: t, body: { amount: i } });
      }
      const seen: EventEnvelope[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const url: string = `/v1/events?limit=2${cursor ? `&after=${cursor}` : ''}`;
        const res = await svc.request<{ events: EventEnvelope[]; nextCursor: string | null }>('GET', url, { token: t });
        expect(res.statusCode).toBe(200);
        seen.push(...res.body.events);
        cursor = res.body.nextCursor;
        if (res.body.events.length === 0) break;
      }
      expect(seen.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new Set(seen.map((e) => e.tenantId)).size).toBe(1);
      const bad = await svc.request('GET', '/v1/events?after=not-a-cursor', { token: t });
      expect(bad).toMatchObject({ statusCode: 400, body: { code: 'INVALID_CURSOR' } });
    });
  });

  it('serves an OpenAPI document generated from the code', async () => {
    const res = await svc.request<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>(
      'GET',
      '/docs/openapi.json',
    );
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.body.paths).sort()).toEqual(
      [
        '/admin/audit/checkpoints',
        '/admin/audit/checkpoints/latest',
        '/admin/audit/verify',
        '/admin/data-subjects/{dataSubjectId}/forget',
        '/v1/accounts',
        '/v1/accounts/{id}',
        '/v1/accounts/{id}/close',
        '/v1/accounts/{id}/deposits',
        '/v1/accounts/{id}/reversals',
        '/v1/accounts/{id}/withdrawals',
        '/v1/correlations/{correlationId}/events',
        '/v1/events',
        '/v1/invocations/{actionInvocationId}/events',
        '/v1/personal-data/open',
        '/v1/subjects/{subjectType}/{subjectId}/events',
        '/v1/subjects/{subjectType}/{subjectId}/state',
        '/v1/transfers',
      ].sort(),
    );
    expect(res.body.components.schemas).toHaveProperty('OpenAccountRequestDto');
  });
});

describe('events stored at an older schema version', () => {
  let svc: CommandServiceHarness;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
  });
  afterAll(() => svc.stop());

  it('are upcast wherever they are read: history, feed and the asOf fold', async () => {
    const tenantId = `v1-${randomUUID()}`;
    const token = await tokenFor({ tenantId });
    const accountId = randomUUID();
    // A v1 AccountOpened fixture, as an older release wrote it (the owner was called `owner`).
    await svc.db.query(
      `INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
          actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id)
       VALUES (gen_random_uuid(), $1, 'space-1', 'AccountOpened', 1, 'account', $2, 'legacy', 'system',
               gen_random_uuid(), '{"owner":"Legacy Ltd","currency":"GBP"}', 1, now(), now(), 'legacy')`,
      [tenantId, accountId],
    );
    await svc.db.query(
      `INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at)
       VALUES ($1, 'account', $2, 1, '{"status":"open","ownerName":"Legacy Ltd","currency":"GBP","balance":0}', now())`,
      [tenantId, accountId],
    );
    const history = await svc.request<{ events: EventEnvelope[] }>('GET', `/v1/subjects/account/${accountId}/events`, {
      token,
    });
    expect(history.body.events[0]).toMatchObject({
      eventSchemaVersion: 2,
      payload: { ownerName: 'Legacy Ltd', currency: 'GBP' },
    });
    const feed = await svc.request<{ events: EventEnvelope[] }>('GET', '/v1/events', { token });
    expect(feed.body.events[0]).toMatchObject({ eventSchemaVersion: 2, payload: { ownerName: 'Legacy Ltd' } });
    const asOf = await svc.request(
      'GET',
      `/v1/accounts/${accountId}?asOf=${new Date(Date.now() + 60_000).toISOString()}`,
      { token },
    );
    expect(asOf.body).toMatchObject({ ownerName: 'Legacy Ltd', currency: 'GBP', sequence: 1 });
    // New events on the same subject are written at the current version.
    await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token, body: { amount: 9 } });
    const { rows } = await svc.db.query<{ v: number }>(
      `SELECT event_schema_version AS v FROM event_log WHERE subject_id = $1 ORDER BY sequence`,
      [accountId],
    );
    expect(rows.map((r) => r.v)).toEqual([1, 1]);
  });
});
