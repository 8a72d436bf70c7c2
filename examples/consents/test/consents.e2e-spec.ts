import { randomUUID } from 'node:crypto';
import { Partitioners, type Producer } from 'kafkajs';
import { appendEvents, type Queryable } from '@event-spine/event-log';
import type { EventEnvelope } from '@event-spine/events';
import { enqueueOutbox, toOutboxMessage } from '@event-spine/outbox';
import { testKafka, waitFor } from '@event-spine/testing';
import { consentsCatalog } from '../src/contract';
import { bearer, call, ConsentsDeployment, type Reply } from './deployment';

const TENANT = 'tenant-consents';
const OTHER = 'tenant-consents-other';

interface ReplayView {
  replayId: string;
  state: string;
  diff?: { added: number; changed: number; removed: number; unchanged: number };
  outcome?: { swapped?: boolean };
  error?: unknown;
}

describe('consents: a second domain on the platform packages alone', () => {
  let d: ConsentsDeployment;
  let admin: string;
  let producer: Producer;

  beforeAll(async () => {
    d = await ConsentsDeployment.start();
    admin = await bearer(TENANT);
    producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await d?.stop();
  });

  const cmd = (method: 'GET' | 'POST', path: string, body?: unknown, token = admin, headers?: Record<string, string>) =>
    call(d.commands.url, method, path, token, body, headers);
  const read = (path: string, token = admin) => call(d.projector.url, 'GET', path, token);
  const adminCall = (method: 'GET' | 'POST', path: string, body?: unknown) =>
    call(d.projector.url, method, path, admin, body);
  const newCustomer = () => `cust-${randomUUID().slice(0, 12)}`;
  const grant = (customerId: string, purpose = 'credit-line', extra: object = {}) =>
    cmd('POST', `/v1/customers/${customerId}/consents`, { purpose, grantedVia: 'web', ...extra });
  const consents = async (customerId: string, minSequence: number, token = admin) => {
    const res = await read(`/v1/customers/${customerId}/consents?minSequence=${minSequence}&waitMs=20000`, token);
    expect(res.status).toBe(200);
    return res.body.consents as Record<string, unknown>[];
  };

  it('runs commands → outbox → relay → Kafka → projector, with read-your-writes and the evidence of a pull', async () => {
    const before = new Date().toISOString();
    const c = newCustomer();
    const granted = await grant(c, 'credit-line', { scope: ['standard', 'no-marketing'] });
    expect(granted).toEqual({
      status: 201,
      body: { customerId: c, sequence: 1, consentEventId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    const consentEventId = granted.body.consentEventId as string;

    const [status] = await consents(c, 1);
    expect(status).toEqual({
      customerId: c,
      purpose: 'credit-line',
      status: 'active',
      scope: ['standard', 'no-marketing'],
      grantedVia: 'web',
      grantedAt: expect.any(String),
      sequence: 1,
    });

    const pull = await cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'credit-line', bureau: 'experian' });
    expect(pull).toEqual({
      status: 201,
      body: { creditCheckId: expect.any(String), sequence: 1, consentEventId },
    });
    const id = pull.body.creditCheckId as string;
    expect(await cmd('POST', `/v1/credit-checks/${id}/complete`, { outcome: 'approved', score: 712 })).toEqual({
      status: 200,
      body: { creditCheckId: id, sequence: 2 },
    });
    expect((await cmd('GET', `/v1/credit-checks/${id}`)).body).toEqual({
      creditCheckId: id,
      customerId: c,
      purpose: 'credit-line',
      bureau: 'experian',
      consentEventId,
      outcome: 'approved',
      score: 712,
      sequence: 2,
    });

    const evidence = await waitFor(
      async () => {
        const page = await read(`/v1/evidence/credit-pulls?customerId=${c}`);
        const pulls = page.body.pulls as Record<string, unknown>[];
        return pulls?.[0]?.outcome === 'approved' && page.body;
      },
      { timeoutMs: 20000, message: 'the completed pull in the evidence' },
    );
    expect(evidence).toEqual({
      pulls: [
        {
          creditCheckId: id,
          customerId: c,
          purpose: 'credit-line',
          bureau: 'experian',
          requestedAt: expect.any(String),
          consentEventId,
          consentGrantedAt: status.grantedAt,
          consentGrantedVia: 'web',
          outcome: 'approved',
          score: 712,
        },
      ],
      nextCursor: null,
    });

    const beforeRevoke = new Date().toISOString();
    expect(await cmd('POST', `/v1/customers/${c}/consents/credit-line/revoke`, { reason: 'asked by phone' })).toEqual({
      status: 200,
      body: { customerId: c, sequence: 2 },
    });
    expect((await consents(c, 2))[0]).toMatchObject({ status: 'revoked', revokedAt: expect.any(String), sequence: 2 });

    // The command side answers now and as of any earlier time, from the same fold.
    expect((await cmd('GET', `/v1/customers/${c}`)).body).toMatchObject({
      customerId: c,
      consents: [{ purpose: 'credit-line', status: 'revoked', consentEventId }],
      sequence: 2,
    });
    expect((await cmd('GET', `/v1/customers/${c}?asOf=${beforeRevoke}`)).body).toMatchObject({
      consents: [{ purpose: 'credit-line', status: 'active', scope: ['standard', 'no-marketing'] }],
      sequence: 1,
    });
    expect(await cmd('GET', `/v1/customers/${c}?asOf=${before}`)).toMatchObject({
      status: 404,
      body: { code: 'CUSTOMER_NOT_FOUND' },
    });

    // The refusals of the contract.
    const again = { customerId: c, purpose: 'credit-line', bureau: 'experian' };
    expect(await cmd('POST', '/v1/credit-checks', again)).toMatchObject({
      status: 409,
      body: { code: 'CONSENT_REQUIRED' },
    });
    expect(await cmd('POST', `/v1/customers/${c}/consents/credit-line/revoke`, { reason: 'x' })).toMatchObject({
      status: 409,
      body: { code: 'CONSENT_NOT_ACTIVE' },
    });
    expect(await cmd('POST', `/v1/credit-checks/${id}/complete`, { outcome: 'declined', score: 1 })).toMatchObject({
      status: 409,
      body: { code: 'ALREADY_COMPLETED' },
    });
    expect(await grant(c)).toMatchObject({ status: 201, body: { sequence: 3 } });
    expect(await grant(c)).toMatchObject({ status: 409, body: { code: 'CONSENT_ALREADY_ACTIVE' } });

    // Idempotency-Key: the same request again gets the first answer and records nothing new.
    const key = { 'idempotency-key': `k-${randomUUID()}` };
    const first = await cmd('POST', '/v1/credit-checks', again, admin, key);
    expect(first.status).toBe(201);
    expect(await cmd('POST', '/v1/credit-checks', again, admin, key)).toEqual(first);

    const history = await cmd('GET', `/v1/subjects/customer/${c}/events`);
    expect((history.body.events as { eventType: string }[]).map((e) => e.eventType)).toEqual([
      'ConsentGranted',
      'ConsentRevoked',
      'ConsentGranted',
    ]);
  });

  it('never lets a pull through after a committed revocation (revoke and request race, 40 times)', async () => {
    const customers = Array.from({ length: 40 }, newCustomer);
    for (const c of customers) expect((await grant(c)).status).toBe(201);
    const outcomes = await Promise.all(
      customers.map(async (c) => {
        const [revoked, pulled] = await Promise.all([
          cmd('POST', `/v1/customers/${c}/consents/credit-line/revoke`, { reason: 'race' }),
          cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'credit-line', bureau: 'b' }),
        ]);
        return { c, revoked, pulled };
      }),
    );
    for (const { revoked, pulled } of outcomes) {
      expect(revoked.status).toBe(200);
      expect([201, 409]).toContain(pulled.status);
      if (pulled.status === 409) expect(pulled.body.code).toBe('CONSENT_REQUIRED');
    }
    // In the log, every recorded pull of these customers was committed before the revocation: the customer's lock
    // orders the two transactions, so their log positions are their commit order.
    const { rows } = await d.commandDb.query<{ customer: string; event_type: string; position: string }>(
      `SELECT CASE WHEN subject_type = 'customer' THEN subject_id ELSE payload->>'customerId' END AS customer,
              event_type, global_position::text AS position
         FROM event_log
        WHERE tenant_id = $1 AND event_type IN ('ConsentRevoked', 'CreditCheckRequested')
          AND (subject_id = ANY($2) OR payload->>'customerId' = ANY($2))`,
      [TENANT, customers],
    );
    const pulls = outcomes.filter((o) => o.pulled.status === 201);
    expect(rows.filter((r) => r.event_type === 'CreditCheckRequested')).toHaveLength(pulls.length);
    for (const c of customers) {
      const revocation = rows.find((r) => r.customer === c && r.event_type === 'ConsentRevoked')!;
      for (const p of rows.filter((r) => r.customer === c && r.event_type === 'CreditCheckRequested')) {
        expect(BigInt(p.position)).toBeLessThan(BigInt(revocation.position));
      }
    }
    // And no pull is possible afterwards.
    for (const c of customers.slice(0, 5)) {
      const late = await cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'credit-line', bureau: 'b' });
      expect(late).toMatchObject({ status: 409, body: { code: 'CONSENT_REQUIRED' } });
    }
    process.stderr.write(
      `[consents race] 40 races: ${pulls.length} pulls before the revocation, ${40 - pulls.length} refused\n`,
    );
  });

  it('reads a stored v1 ConsentGranted as v2 everywhere: command side, event log, live projection, replays', async () => {
    const c = newCustomer();
    const now = new Date().toISOString();
    const v1: EventEnvelope = {
      id: randomUUID(),
      tenantId: TENANT,
      spaceId: 'space-1',
      eventType: 'ConsentGranted',
      eventSchemaVersion: 1,
      subjectType: 'customer',
      subjectId: c,
      actorId: 'legacy-import',
      actorType: 'system',
      actionInvocationId: randomUUID(),
      payload: { purpose: 'identity', channel: 'phone' },
      sequence: 1,
      occurredAt: now,
      recordedAt: now,
      correlationId: 'v1-fixture',
    };
    // Stored as an older deployment stored it: in the log and the outbox, in one transaction, at version 1.
    const client = await d.commandDb.connect();
    const db: Queryable = { query: async (sql, params) => (await client.query(sql, params)).rows as never };
    try {
      await client.query('BEGIN');
      await appendEvents(db, [v1]);
      await enqueueOutbox(db, [toOutboxMessage(v1, consentsCatalog, d.topicPrefix)]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    const upcast = { purpose: 'identity', grantedVia: 'phone', scope: ['standard'] };
    const history = await cmd('GET', `/v1/subjects/customer/${c}/events`);
    expect(history.body.events).toEqual([expect.objectContaining({ eventSchemaVersion: 2, payload: upcast })]);
    expect((await cmd('GET', `/v1/customers/${c}?asOf=${new Date().toISOString()}`)).body).toMatchObject({
      consents: [{ ...upcast, status: 'active', consentEventId: v1.id }],
      sequence: 1,
    });
    expect((await consents(c, 1))[0]).toMatchObject({ ...upcast, status: 'active', sequence: 1 });

    // A replay of the whole history, from Kafka and from the event log, reads it the same way: no difference.
    for (const source of ['kafka', 'event-log']) {
      const view = await finishedReplay('consent-status', { mode: 'preview', source, from: { earliest: true } });
      expect({ source, state: view.state, diff: view.diff }).toEqual({
        source,
        state: 'completed',
        diff: expect.objectContaining({ added: 0, changed: 0, removed: 0 }),
      });
    }
  });

  async function startReplay(projection: string, body: Record<string, unknown>): Promise<Reply> {
    return adminCall('POST', `/admin/projections/${projection}/replays`, body);
  }

  async function finishedReplay(projection: string, body: Record<string, unknown>): Promise<ReplayView> {
    const started = await startReplay(projection, body);
    expect(started).toEqual({ status: 202, body: { replayId: expect.any(String) } });
    return waitFor(
      async () => {
        const view = (await adminCall('GET', `/admin/replays/${started.body.replayId as string}`))
          .body as unknown as ReplayView;
        return view.state !== 'running' && view;
      },
      { timeoutMs: 120000, intervalMs: 200, message: `${projection} replay to finish` },
    );
  }

  it('previews and rebuilds credit-pull-evidence from Kafka and from the event log, signed off by the preview', async () => {
    for (let i = 0; i < 3; i++) {
      const c = newCustomer();
      await grant(c, 'mortgage');
      const pull = await cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'mortgage', bureau: `b${i}` });
      await cmd('POST', `/v1/credit-checks/${pull.body.creditCheckId as string}/complete`, {
        outcome: 'referred',
        score: 500 + i,
      });
    }
    const snapshot = async () =>
      (
        await d.projectorDb.query<Record<string, unknown>>(
          `SELECT credit_check_id, customer_id, consent_event_id, consent_granted_at, consent_granted_via, outcome, score
             FROM credit_pull_evidence WHERE tenant_id = $1 ORDER BY credit_check_id`,
          [TENANT],
        )
      ).rows;
    const { rows: logged } = await d.commandDb.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log WHERE tenant_id = $1 AND event_type = 'CreditCheckCompleted'`,
      [TENANT],
    );
    await waitFor(
      async () =>
        (
          await d.projectorDb.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM credit_pull_evidence WHERE tenant_id = $1 AND outcome IS NOT NULL`,
            [TENANT],
          )
        ).rows[0].n === logged[0].n,
      { timeoutMs: 30000, message: 'the evidence caught up' },
    );
    // The grants arrive on the customer topic, the pulls on the credit-check topic: wait for both.
    await waitFor(
      async () =>
        (
          await d.projectorDb.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM credit_pull_evidence WHERE tenant_id = $1 AND consent_granted_at IS NULL`,
            [TENANT],
          )
        ).rows[0].n === 0,
      { timeoutMs: 30000, message: 'every pull joined to its grant' },
    );
    const healthy = await snapshot();

    for (const source of ['kafka', 'event-log']) {
      // Damage the live model: one row's score changed, another row lost.
      await d.projectorDb.query(
        `UPDATE credit_pull_evidence SET score = score + 1
          WHERE tenant_id = $1 AND credit_check_id = (SELECT min(credit_check_id) FROM credit_pull_evidence WHERE tenant_id = $1 AND score IS NOT NULL)`,
        [TENANT],
      );
      await d.projectorDb.query(
        `DELETE FROM credit_pull_evidence
          WHERE tenant_id = $1 AND credit_check_id = (SELECT max(credit_check_id) FROM credit_pull_evidence WHERE tenant_id = $1)`,
        [TENANT],
      );
      const damaged = await snapshot();

      const request = { source, from: { earliest: true } };
      const preview = await finishedReplay('credit-pull-evidence', { ...request, mode: 'preview' });
      expect({ source, state: preview.state, diff: preview.diff }).toEqual({
        source,
        state: 'completed',
        diff: expect.objectContaining({ added: 1, changed: 1, removed: 0 }),
      });
      // A preview changes nothing live.
      expect(await snapshot()).toEqual(damaged);

      expect(await startReplay('credit-pull-evidence', { ...request, mode: 'rebuild' })).toMatchObject({
        status: 409,
        body: { code: 'CONFIRMATION_REQUIRED' },
      });
      const rebuilt = await finishedReplay('credit-pull-evidence', {
        ...request,
        mode: 'rebuild',
        confirm: preview.replayId,
      });
      expect([source, rebuilt.state, rebuilt.outcome?.swapped, rebuilt.error]).toEqual([
        source,
        'completed',
        true,
        undefined,
      ]);
      expect(await snapshot()).toEqual(healthy);
    }
  });

  it('parks a subject at a gap the event log cannot fill and at a poison message; retry and skip release them', async () => {
    const topic = consentsCatalog.topicFor('customer', d.topicPrefix);
    const gapped = newCustomer();
    const poisoned = newCustomer();
    const envelope = (sequence: number, eventType: string, payload: object) => ({
      id: randomUUID(),
      tenantId: TENANT,
      spaceId: 'space-1',
      eventType,
      eventSchemaVersion: eventType === 'ConsentGranted' ? 2 : 1,
      subjectType: 'customer',
      subjectId: gapped,
      actorId: 'test',
      actorType: 'user',
      actionInvocationId: randomUUID(),
      payload,
      sequence,
      occurredAt: new Date().toISOString(),
      recordedAt: new Date().toISOString(),
      correlationId: 'parking',
    });
    const publish = (e: ReturnType<typeof envelope>) =>
      producer.send({ topic, messages: [{ key: `${TENANT}:${e.subjectId}`, value: JSON.stringify(e) }] });
    const grantedV2 = { purpose: 'mortgage', scope: ['standard'], grantedVia: 'branch' };
    await publish(envelope(1, 'ConsentGranted', grantedV2));
    await publish(envelope(3, 'ConsentGranted', grantedV2)); // sequence 2 is in neither Kafka nor the event log
    await producer.send({ topic, messages: [{ key: `${TENANT}:${poisoned}`, value: '{not json' }] });

    const parked = async () =>
      (await adminCall('GET', '/admin/parked')).body.parked as {
        subjectId: string;
        reason: string;
        events: unknown[];
      }[];
    await waitFor(async () => (await parked()).filter((p) => [gapped, poisoned].includes(p.subjectId)).length === 2, {
      timeoutMs: 30000,
      message: 'both subjects parked',
    });
    const list = await parked();
    expect(list.find((p) => p.subjectId === gapped)?.reason).toBe('gap: expected sequence 2, got 3');
    expect(list.find((p) => p.subjectId === poisoned)?.reason).toMatch(/^poison/);
    expect((await consents(gapped, 1))[0]).toMatchObject({ grantedVia: 'branch', sequence: 1 });

    // Another tenant's admin sees none of it.
    const otherAdmin = await bearer(OTHER);
    expect((await call(d.projector.url, 'GET', '/admin/parked', otherAdmin)).body.parked).toEqual([]);

    // The missing event arrives; the retry applies 2 and 3 in order.
    await publish(envelope(2, 'ConsentRevoked', { purpose: 'mortgage', reason: 'late' }));
    await waitFor(async () => (await parked()).find((p) => p.subjectId === gapped)?.events.length === 2, {
      message: 'sequence 2 parked behind the gap',
    });
    expect((await adminCall('POST', `/admin/parked/customer/${gapped}/retry`)).body).toMatchObject({
      state: 'flowing',
      applied: 2,
    });
    expect((await consents(gapped, 3))[0]).toMatchObject({ status: 'active', grantedVia: 'branch', sequence: 3 });

    expect((await adminCall('POST', `/admin/parked/customer/${poisoned}/skip`)).body).toMatchObject({
      state: 'flowing',
      released: 1,
    });
    expect((await parked()).filter((p) => [gapped, poisoned].includes(p.subjectId))).toEqual([]);
  });

  it('keeps tenants apart on every route', async () => {
    const c = newCustomer();
    const mine = await grant(c);
    const pull = await cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'credit-line', bureau: 'b' });
    await consents(c, 1);
    const other = await bearer(OTHER);

    expect(await cmd('GET', `/v1/customers/${c}`, undefined, other)).toMatchObject({ status: 404 });
    expect(await cmd('GET', `/v1/credit-checks/${pull.body.creditCheckId as string}`, undefined, other)).toMatchObject({
      status: 404,
    });
    expect(await cmd('GET', `/v1/subjects/customer/${c}/events`, undefined, other)).toMatchObject({
      status: 404,
      body: { code: 'SUBJECT_NOT_FOUND' },
    });
    expect((await read(`/v1/customers/${c}/consents`, other)).body).toEqual({ consents: [] });
    expect((await read(`/v1/evidence/credit-pulls?customerId=${c}`, other)).body).toEqual({
      pulls: [],
      nextCursor: null,
    });
    // The same customer id in another tenant is another subject: it cannot pull on this tenant's consent.
    expect(
      await cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'credit-line', bureau: 'b' }, other),
    ).toMatchObject({
      status: 409,
      body: { code: 'CONSENT_REQUIRED' },
    });
    const theirs = await cmd(
      'POST',
      `/v1/customers/${c}/consents`,
      { purpose: 'credit-line', grantedVia: 'phone' },
      other,
    );
    expect(theirs).toMatchObject({ status: 201, body: { sequence: 1 } });
    expect(theirs.body.consentEventId).not.toBe(mine.body.consentEventId);
    expect((await consents(c, 1, other))[0]).toMatchObject({ grantedVia: 'phone' });
    expect((await consents(c, 1))[0]).toMatchObject({ grantedVia: 'web' });
  });

  it('refuses bad input on every route with a stable code and the field, and changes nothing', async () => {
    const count = async () =>
      (await d.commandDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM event_log`)).rows[0].n;
    const before = await count();
    const c = newCustomer();
    const past = new Date(Date.now() - 60_000).toISOString();
    const unknownCheck = randomUUID();
    type Case = [string, () => Promise<Reply>, number, string, string?];
    const cases: Case[] = [
      ['bad customer id', () => grant('bad id!'), 400, 'VALIDATION_FAILED', 'customerId'],
      ['unknown purpose', () => grant(c, 'marketing'), 400, 'VALIDATION_FAILED', 'purpose'],
      [
        'missing grantedVia',
        () => cmd('POST', `/v1/customers/${c}/consents`, { purpose: 'identity' }),
        400,
        'VALIDATION_FAILED',
        'grantedVia',
      ],
      ['empty scope', () => grant(c, 'identity', { scope: [] }), 400, 'VALIDATION_FAILED', 'scope'],
      [
        'expiresAt not a time',
        () => grant(c, 'identity', { expiresAt: 'tomorrow' }),
        400,
        'VALIDATION_FAILED',
        'expiresAt',
      ],
      ['expiresAt in the past', () => grant(c, 'identity', { expiresAt: past }), 422, 'EXPIRY_IN_PAST'],
      ['unknown field', () => grant(c, 'identity', { channel: 'web' }), 400, 'VALIDATION_FAILED', 'channel'],
      ['not JSON', () => cmd('POST', `/v1/customers/${c}/consents`, '{"purpose":'), 400, 'MALFORMED_JSON'],
      [
        'revoke: unknown purpose',
        () => cmd('POST', `/v1/customers/${c}/consents/sales/revoke`, { reason: 'r' }),
        400,
        'VALIDATION_FAILED',
        'purpose',
      ],
      [
        'revoke: blank reason',
        () => cmd('POST', `/v1/customers/${c}/consents/identity/revoke`, { reason: ' ' }),
        400,
        'VALIDATION_FAILED',
        'reason',
      ],
      [
        'revoke: nothing to revoke',
        () => cmd('POST', `/v1/customers/${c}/consents/identity/revoke`, { reason: 'r' }),
        409,
        'CONSENT_NOT_ACTIVE',
      ],
      ['pull: empty body', () => cmd('POST', '/v1/credit-checks', {}), 400, 'VALIDATION_FAILED', 'bureau'],
      [
        'pull: bad id',
        () =>
          cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'mortgage', bureau: 'b', creditCheckId: 'nope' }),
        400,
        'VALIDATION_FAILED',
        'creditCheckId',
      ],
      [
        'pull: no consent',
        () => cmd('POST', '/v1/credit-checks', { customerId: c, purpose: 'mortgage', bureau: 'b' }),
        409,
        'CONSENT_REQUIRED',
      ],
      [
        'complete: bad id',
        () => cmd('POST', '/v1/credit-checks/nope/complete', { outcome: 'approved', score: 1 }),
        400,
        'VALIDATION_FAILED',
        'id',
      ],
      [
        'complete: score too high',
        () => cmd('POST', `/v1/credit-checks/${unknownCheck}/complete`, { outcome: 'approved', score: 1001 }),
        400,
        'VALIDATION_FAILED',
        'score',
      ],
      [
        'complete: score not an integer',
        () => cmd('POST', `/v1/credit-checks/${unknownCheck}/complete`, { outcome: 'approved', score: 1.5 }),
        400,
        'VALIDATION_FAILED',
        'score',
      ],
      [
        'complete: unknown outcome',
        () => cmd('POST', `/v1/credit-checks/${unknownCheck}/complete`, { outcome: 'maybe', score: 1 }),
        400,
        'VALIDATION_FAILED',
        'outcome',
      ],
      [
        'complete: unknown check',
        () => cmd('POST', `/v1/credit-checks/${unknownCheck}/complete`, { outcome: 'approved', score: 1 }),
        404,
        'CREDIT_CHECK_NOT_FOUND',
      ],
      [
        'get customer: bad asOf',
        () => cmd('GET', `/v1/customers/${c}?asOf=yesterday`),
        400,
        'VALIDATION_FAILED',
        'asOf',
      ],
      ['get customer: unknown', () => cmd('GET', `/v1/customers/${c}`), 404, 'CUSTOMER_NOT_FOUND'],
      ['get check: bad id', () => cmd('GET', '/v1/credit-checks/nope'), 400, 'VALIDATION_FAILED', 'id'],
      ['get check: unknown', () => cmd('GET', `/v1/credit-checks/${unknownCheck}`), 404, 'CREDIT_CHECK_NOT_FOUND'],
      [
        'subject events: unknown subject type',
        () => cmd('GET', `/v1/subjects/account/${c}/events`),
        400,
        'VALIDATION_FAILED',
        'subjectType',
      ],
      [
        'consents read: bad customer id',
        () => read('/v1/customers/bad%20id/consents'),
        400,
        'VALIDATION_FAILED',
        'customerId',
      ],
      [
        'consents read: minSequence 0',
        () => read(`/v1/customers/${c}/consents?minSequence=0`),
        400,
        'VALIDATION_FAILED',
        'minSequence',
      ],
      [
        'consents read: waitMs not a number',
        () => read(`/v1/customers/${c}/consents?minSequence=1&waitMs=soon`),
        400,
        'VALIDATION_FAILED',
        'waitMs',
      ],
      [
        'consents read: not yet projected',
        () => read(`/v1/customers/${c}/consents?minSequence=1&waitMs=50`),
        503,
        'NOT_YET_PROJECTED',
      ],
      ['evidence: limit 0', () => read('/v1/evidence/credit-pulls?limit=0'), 400, 'VALIDATION_FAILED', 'limit'],
      [
        'evidence: from not a time',
        () => read('/v1/evidence/credit-pulls?from=monday'),
        400,
        'VALIDATION_FAILED',
        'from',
      ],
      [
        'evidence: from after to',
        () => read('/v1/evidence/credit-pulls?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z'),
        400,
        'VALIDATION_FAILED',
        'from',
      ],
      [
        'evidence: a cursor it never gave',
        () => read('/v1/evidence/credit-pulls?after=bm90LWEtY3Vyc29y'),
        400,
        'VALIDATION_FAILED',
        'after',
      ],
      [
        'evidence: bad customer id',
        () => read('/v1/evidence/credit-pulls?customerId=a%20b'),
        400,
        'VALIDATION_FAILED',
        'customerId',
      ],
      [
        'admin: unknown projection',
        () => startReplay('no-such-projection', { mode: 'preview', source: 'kafka', from: { earliest: true } }),
        404,
        'PROJECTION_NOT_FOUND',
      ],
      [
        'admin: bad replay request',
        () => startReplay('consent-status', { mode: 'explode' }),
        400,
        'VALIDATION_FAILED',
        'mode',
      ],
    ];
    const results: string[] = [];
    for (const [name, run, status, code, field] of cases) {
      const res = await run();
      const details = Array.isArray(res.body.details) ? (res.body.details as { field?: string }[]) : [];
      const fields = details.map((f) => f.field);
      const seen = `${name}: ${res.status} ${res.body.code as string}${field ? ` ${fields.includes(field) ? field : fields.join(',')}` : ''}`;
      results.push(seen);
      expect(seen).toBe(`${name}: ${status} ${code}${field ? ` ${field}` : ''}`);
    }
    // No token, or a user who is not an admin on the admin API.
    const user = await bearer(TENANT, []);
    for (const [base, method, path] of [
      [d.commands.url, 'POST', `/v1/customers/${c}/consents`],
      [d.commands.url, 'POST', '/v1/credit-checks'],
      [d.commands.url, 'GET', `/v1/customers/${c}`],
      [d.projector.url, 'GET', `/v1/customers/${c}/consents`],
      [d.projector.url, 'GET', '/v1/evidence/credit-pulls'],
    ] as const) {
      expect((await fetch(`${base}${path}`, { method })).status).toBe(401);
    }
    expect((await call(d.projector.url, 'GET', '/admin/parked', user)).status).toBe(403);
    expect(await count()).toBe(before);
  });
});
