import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { signToken } from '@event-spine/auth';
import { keysTableOpener } from '@event-spine/event-log';
import { rowsOf } from '@event-spine/persistence';
import { personalDataOpener } from '@event-spine/projections';
import { waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from './support/pipeline';
import { expectReadModelsToEqualTheFold } from './support/read-models';

interface ReplayView {
  state: string;
  diff?: { added: number; changed: number; removed: number };
  error?: string;
}

/**
 * Crypto-shredding end to end: a personal field (the ledger's `ownerName`) is sealed in the log and on Kafka with
 * its data subject's key; forgetting destroys the key, recorded as an event, and from then on every read path shows
 * the field as null (the API, `asOf`, the subject history, the feed, the live read model, previews rebuilt from Kafka
 * and from the log) while the hash chains still verify and nothing else changes.
 */
describe('erasable personal data (crypto-shredding)', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let admin: string;
  let ada: string;
  let bob: string;
  let beforeForget: string;

  const cmd = (method: 'GET' | 'POST', path: string, body?: unknown, bearer = admin) =>
    call(commands.url, method, path, bearer, body);
  const balanceRow = async (accountId: string) =>
    (
      await pipeline.projectorSchema.pool.query<{ owner_name: string | null; balance: string }>(
        `SELECT owner_name, balance FROM account_balances WHERE account_id = $1`,
        [accountId],
      )
    ).rows[0];

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    await pipeline.start('outbox-relay');
    // The projector opens sealed fields with the keys table itself, as `npm run up` runs it; the other e2e suites run
    // it opening them through the command service's route.
    projector = await pipeline.start('projector', {
      COMMAND_SERVICE_URL: commands.url,
      PERSONAL_DATA_KEYS_DATABASE_URL: pipeline.databaseUrl,
      PERSONAL_DATA_KEYS_DATABASE_SCHEMA: pipeline.commandSchema.name,
    });
    admin = await token();
    ada = (await cmd('POST', '/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR' })).body.accountId as string;
    bob = (await cmd('POST', '/v1/accounts', { ownerName: 'Bob Babbage', currency: 'EUR' })).body.accountId as string;
    await cmd('POST', `/v1/accounts/${ada}/deposits`, { amount: 500 });
    await cmd('POST', '/v1/transfers', { fromAccountId: ada, toAccountId: bob, amount: 120 });
    await waitFor(async () => (await balanceRow(ada))?.owner_name === 'Ada Lovelace', {
      timeoutMs: 30000,
      message: 'the projector to open the sealed name with the keys table',
    });
    beforeForget = new Date().toISOString();
  });
  afterAll(() => pipeline.stop());

  it('stores the personal field sealed in the log and on Kafka, and opens it on the read paths', async () => {
    const { rows } = await pipeline.commandSchema.pool.query<{ payload: string; data_subject_id: string | null }>(
      `SELECT payload::text, data_subject_id FROM event_log WHERE subject_id = $1 AND event_type = 'AccountOpened'`,
      [ada],
    );
    expect(rows[0].payload).not.toContain('Ada');
    expect(JSON.parse(rows[0].payload)).toEqual({
      currency: 'EUR',
      ownerName: { $pii: { ds: ada, c: expect.any(String) } },
    });
    expect(rows[0].data_subject_id).toBe(ada);

    const values = await topicValues(`${pipeline.topicPrefix}spine.account.events`, 4);
    const opened = values.find((v) => v.includes(ada) && v.includes('AccountOpened'))!;
    expect(opened).toContain('"$pii"');
    expect(values.join('\n')).not.toMatch(/Ada Lovelace|Bob Babbage/);

    expect((await cmd('GET', `/v1/accounts/${ada}`)).body).toMatchObject({ ownerName: 'Ada Lovelace', balance: 380 });
    const history = await cmd('GET', `/v1/subjects/account/${ada}/events`);
    expect((history.body.events as { payload: unknown }[])[0].payload).toEqual({
      ownerName: 'Ada Lovelace',
      currency: 'EUR',
    });
  });

  it('refuses a forget without the admin role, a malformed id, and opening keys for anyone but a service', async () => {
    const user = await signToken(
      { actorId: 'u', actorType: 'user', tenantId: 'tenant-e2e', spaceId: 'space-1', roles: [] },
      E2E_SECRET,
      '1h',
    );
    expect((await cmd('POST', `/admin/data-subjects/${ada}/forget`, {}, user)).status).toBe(403);
    const bad = await cmd('POST', `/admin/data-subjects/${encodeURIComponent('no spaces allowed')}/forget`, {});
    expect(bad.status).toBe(400);
    const open = await cmd('POST', '/v1/personal-data/open', { events: [] });
    expect({ status: open.status, code: open.body.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect((await cmd('GET', `/v1/accounts/${ada}`)).body.ownerName).toBe('Ada Lovelace');
  });

  it('forgets once, as an event; after it every read path shows the field as null and nothing else changes', async () => {
    const forget = await cmd('POST', `/admin/data-subjects/${ada}/forget`, { reason: 'erasure request #17' });
    expect(forget.status).toBe(200);
    expect(forget.body).toMatchObject({
      dataSubjectId: ada,
      forgottenNow: true,
      eventId: expect.any(String),
      subjects: [{ subjectType: 'account', subjectId: ada }],
    });
    const again = await cmd('POST', `/admin/data-subjects/${ada}/forget`, {});
    expect(again.body).toMatchObject({
      forgottenNow: false,
      eventId: forget.body.eventId,
      forgottenAt: forget.body.forgottenAt,
    });

    const recorded = await cmd('GET', `/v1/subjects/ledger-data-subject/${ada}/events`);
    expect(recorded.body.events).toEqual([
      expect.objectContaining({
        id: forget.body.eventId,
        eventType: 'DataSubjectForgotten',
        actorId: 'e2e',
        payload: { subjects: [{ subjectType: 'account', subjectId: ada }], reason: 'erasure request #17' },
      }),
    ]);

    // The command side: current state, state as of before the forget, the history, the feed.
    expect((await cmd('GET', `/v1/accounts/${ada}`)).body).toMatchObject({
      ownerName: null,
      balance: 380,
      currency: 'EUR',
    });
    const asOf = await cmd('GET', `/v1/accounts/${ada}?asOf=${encodeURIComponent(beforeForget)}`);
    expect(asOf.body).toMatchObject({ ownerName: null, balance: 380 });
    const history = await cmd('GET', `/v1/subjects/account/${ada}/events`);
    expect((history.body.events as { payload: unknown }[])[0].payload).toEqual({ ownerName: null, currency: 'EUR' });
    const feed = await cmd('GET', '/v1/events?limit=100');
    const feedOpened = (feed.body.events as { eventType: string; subjectId: string; payload: unknown }[]).filter(
      (e) => e.eventType === 'AccountOpened',
    );
    expect(feedOpened.find((e) => e.subjectId === ada)!.payload).toEqual({ ownerName: null, currency: 'EUR' });
    expect(feedOpened.find((e) => e.subjectId === bob)!.payload).toEqual({ ownerName: 'Bob Babbage', currency: 'EUR' });
    expect((await cmd('GET', `/v1/accounts/${bob}`)).body.ownerName).toBe('Bob Babbage');

    // The live read model erases what it copied, and equals the fold of the log as it reads now.
    await waitFor(async () => (await balanceRow(ada))?.owner_name === null, {
      timeoutMs: 30000,
      message: 'the projector to apply DataSubjectForgotten',
    });
    expect(await balanceRow(ada)).toEqual({ owner_name: null, balance: '380' });
    expect((await balanceRow(bob)).owner_name).toBe('Bob Babbage');
    await expectReadModelsToEqualTheFold(pipeline);

    // Nothing stored changed: every chain still verifies.
    const verify = await cmd('GET', '/admin/audit/verify?checkpoint=none');
    expect(verify.body).toMatchObject({ ok: true, broken: [], unhashed: 0 });
  });

  it('rebuilds the read model as null from Kafka (which holds only the old ciphertext) and from the event log', async () => {
    for (const source of ['kafka', 'event-log']) {
      const started = await call(projector.url, 'POST', '/admin/projections/account-balances/replays', admin, {
        mode: 'preview',
        source,
        from: { earliest: true },
      });
      expect(started.status).toBe(202);
      const view = await waitFor(
        async () => {
          const v = (await call(projector.url, 'GET', `/admin/replays/${started.body.replayId as string}`, admin))
            .body as unknown as ReplayView;
          return v.state !== 'running' && v;
        },
        { timeoutMs: 120000, intervalMs: 200, message: `the ${source} preview` },
      );
      // The shadow rebuilt from the source equals the live model: Ada's name null there too, Bob's opened.
      expect({ source, state: view.state, diff: view.diff }).toMatchObject({
        source,
        state: 'completed',
        diff: { added: 0, changed: 0, removed: 0 },
      });
    }
  });

  it('refuses new personal data of a forgotten data subject, and keeps the forget in place across tenants', async () => {
    const later = randomUUID();
    expect((await cmd('POST', `/admin/data-subjects/${later}/forget`, {})).body).toMatchObject({
      forgottenNow: true,
      subjects: [],
    });
    const refused = await cmd('POST', '/v1/accounts', { accountId: later, ownerName: 'Late Comer', currency: 'EUR' });
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 409,
      code: 'DATA_SUBJECT_FORGOTTEN',
    });
    expect((await cmd('GET', `/v1/accounts/${later}`)).status).toBe(404);

    // Another tenant's data subject with the same id is someone else: untouched.
    const other = await token('tenant-other');
    const opened = await cmd(
      'POST',
      '/v1/accounts',
      { accountId: later, ownerName: 'Same Id', currency: 'EUR' },
      other,
    );
    expect(opened.status).toBe(201);
    expect((await cmd('GET', `/v1/accounts/${later}`, undefined, other)).body.ownerName).toBe('Same Id');
  });

  it('parks the subject of an event whose sealed value does not open (moved or changed), and the rest flows', async () => {
    // Bob's sealed name copied into another account's event: bound to Bob's event id, it does not open there.
    const { rows } = await pipeline.commandSchema.pool.query<{ value: string }>(
      `SELECT payload::text AS value FROM event_log WHERE subject_id = $1 AND event_type = 'AccountOpened'`,
      [bob],
    );
    const moved = randomUUID();
    const envelope = {
      id: randomUUID(),
      tenantId: 'tenant-e2e',
      spaceId: 'space-1',
      eventType: 'AccountOpened',
      eventSchemaVersion: 2,
      subjectType: 'account',
      subjectId: moved,
      actorId: 'intruder',
      actorType: 'user',
      actionInvocationId: randomUUID(),
      payload: JSON.parse(rows[0].value) as unknown,
      sequence: 1,
      occurredAt: new Date().toISOString(),
      recordedAt: new Date().toISOString(),
      correlationId: 'moved',
    };
    const kafka = new Kafka({ brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${pipeline.topicPrefix}spine.account.events`,
        messages: [{ key: `tenant-e2e:${moved}`, value: JSON.stringify(envelope) }],
      });
    } finally {
      await producer.disconnect();
    }
    const parked = await waitFor(
      async () => {
        const list = (await call(projector.url, 'GET', '/admin/parked', admin)).body.parked as {
          subjectId: string;
          reason: string;
        }[];
        return list.find((p) => p.subjectId === moved);
      },
      { timeoutMs: 30000, message: 'the moved sealed value to park its subject' },
    );
    expect(parked.reason).toMatch(/^poison: a sealed personal field of data subject .* does not open/);
    expect(await balanceRow(moved)).toBeUndefined();
    // The partition still flows: a new account's name is opened and applied.
    const carol = (await cmd('POST', '/v1/accounts', { ownerName: 'Carol', currency: 'EUR' })).body.accountId as string;
    await waitFor(async () => (await balanceRow(carol))?.owner_name === 'Carol', {
      timeoutMs: 30000,
      message: 'a later account applied',
    });
  });

  it('opens a batch larger than the command service accepts in one body, in several requests', async () => {
    const { rows } = await pipeline.commandSchema.pool.query<{ id: string; payload: unknown }>(
      `SELECT id, payload FROM event_log WHERE tenant_id = 'tenant-e2e' AND data_subject_id IS NOT NULL`,
    );
    // 400 copies of each sealed event: far beyond the 64 KiB body limit in one request.
    const many = Array.from({ length: 400 }, () => rows).flat();
    const bytes = Buffer.byteLength(JSON.stringify({ events: many }));
    expect(bytes).toBeGreaterThan(64 * 1024);
    const oneBody = await fetch(`${commands.url}/v1/personal-data/open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await serviceToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: many.slice(0, 1000) }),
    });
    expect(oneBody.status).toBe(413);
    const opened = await personalDataOpener(commands.url, E2E_SECRET)('tenant-e2e', many);
    expect(opened).toHaveLength(many.length);
    const names = new Set(opened.map((o) => ('payload' in o ? (o.payload as { ownerName?: unknown }).ownerName : o)));
    // Ada forgotten (null), Bob and Carol opened; the moved copy was never stored.
    expect([...names].sort()).toEqual(['Bob Babbage', 'Carol', null].sort());

    // Another tenant's service cannot open them: its tenant holds no key for these data subjects.
    const foreign = await personalDataOpener(commands.url, E2E_SECRET)('tenant-other', rows);
    expect(foreign.map((o) => ('payload' in o ? (o.payload as { ownerName?: unknown }).ownerName : o))).toEqual(
      rows.map(() => null),
    );

    // Opening with the keys table answers exactly what the route answers, a value bound elsewhere included.
    const keysTable = keysTableOpener(rowsOf(pipeline.commandSchema.pool));
    // Bob's name under another event id: his key exists, and the value is bound to his event, so it does not open.
    const bobs = (
      await pipeline.commandSchema.pool.query<{ id: string; payload: unknown }>(
        `SELECT id, payload FROM event_log WHERE subject_id = $1 AND event_type = 'AccountOpened'`,
        [bob],
      )
    ).rows[0];
    const moved = { ...bobs, id: randomUUID() };
    for (const [tenantId, events] of [
      ['tenant-e2e', [...rows, moved]],
      ['tenant-other', rows],
    ] as const) {
      const direct = await keysTable(tenantId, events);
      expect(direct).toEqual(await personalDataOpener(commands.url, E2E_SECRET)(tenantId, events));
      expect(direct.filter((o) => 'error' in o)).toHaveLength(tenantId === 'tenant-e2e' ? 1 : 0);
    }
  });

  const serviceToken = () =>
    signToken(
      { actorId: 'projector', actorType: 'service', tenantId: 'tenant-e2e', spaceId: 'projector', roles: ['service'] },
      E2E_SECRET,
      '5m',
    );

  /** Every message value on a topic, from the beginning (at least `atLeast` of them). */
  async function topicValues(topic: string, atLeast: number): Promise<string[]> {
    const kafka = new Kafka({ brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 });
    const consumer = kafka.consumer({ groupId: `pii-check-${randomUUID()}` });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') });
      await waitFor(() => values.length >= atLeast, { timeoutMs: 30000, message: `${atLeast} messages on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return values;
  }
});
