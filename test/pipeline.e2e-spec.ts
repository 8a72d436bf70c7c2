import { execFileSync } from 'node:child_process';
import { Partitioners } from 'kafkajs';
import { testKafka, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, token } from './support/pipeline';

interface Envelope {
  id: string;
  eventType: string;
  subjectType: string;
  subjectId: string;
  sequence: number;
  payload: Record<string, number | string>;
}

/** The read models as a pure fold of the canonical event log: what every projector state must equal. */
function foldLog(events: Envelope[]) {
  const balances = new Map<string, { balance: number; status: string; sequence: number; currency: string }>();
  for (const e of events.filter((x) => x.subjectType === 'account').sort((a, b) => a.sequence - b.sequence)) {
    const b = balances.get(e.subjectId);
    if (e.eventType === 'AccountOpened')
      balances.set(e.subjectId, { balance: 0, status: 'open', sequence: 1, currency: String(e.payload.currency) });
    else if (b) {
      b.sequence = e.sequence;
      if (e.eventType === 'FundsDeposited') b.balance += Number(e.payload.amount);
      if (e.eventType === 'FundsWithdrawn') b.balance -= Number(e.payload.amount);
      if (e.eventType === 'EntryReversed') b.balance += Number(e.payload.balanceDelta);
      if (e.eventType === 'AccountClosed') b.status = 'closed';
    }
  }
  return balances;
}

describe('the whole pipeline: HTTP commands → outbox → relay → Kafka → projector → read models', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let relay: ServiceProcess;
  let bearer: string;
  const startProjector = () => pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    relay = await pipeline.start('outbox-relay');
    projector = await startProjector();
    bearer = await token();
  });
  afterAll(() => pipeline.stop());

  const cmd = (method: 'GET' | 'POST', path: string, body?: unknown) => call(commands.url, method, path, bearer, body);
  const read = (path: string) => call(projector.url, 'GET', path, bearer);

  async function logEvents(): Promise<Envelope[]> {
    const { rows } = await pipeline.commandSchema.pool.query<{ value: string }>(
      `SELECT json_build_object('id', id, 'eventType', event_type, 'subjectType', subject_type, 'subjectId', subject_id,
              'sequence', sequence, 'payload', payload)::text AS value FROM event_log`,
    );
    return rows.map((r) => JSON.parse(r.value) as Envelope);
  }

  async function expectReadModelsEqualTheFold() {
    const fold = foldLog(await logEvents());
    for (const [accountId, expected] of fold) {
      const res = await read(`/v1/accounts/${accountId}?minSequence=${expected.sequence}&waitMs=20000`);
      expect({ accountId, httpStatus: res.status, ...pick(res.body) }).toEqual({
        accountId,
        httpStatus: 200,
        ...expected,
      });
    }
    const totals = await read('/v1/tenant/totals');
    const eur = [...fold.values()].filter((a) => a.currency === 'EUR');
    expect(totals.body.totals).toEqual([
      {
        currency: 'EUR',
        accounts: eur.length,
        openAccounts: eur.filter((a) => a.status === 'open').length,
        totalBalance: eur.reduce((s, a) => s + a.balance, 0),
      },
    ]);
  }
  const pick = (b: Record<string, unknown>) => ({
    balance: b.balance,
    status: b.status,
    sequence: b.sequence,
    currency: b.currency,
  });

  it('projects accounts, a transfer, a reversal and a close; reads wait for their writes', async () => {
    const a = (await cmd('POST', '/v1/accounts', { ownerName: 'Ann', currency: 'EUR' })).body.accountId as string;
    const b = (await cmd('POST', '/v1/accounts', { ownerName: 'Ben', currency: 'EUR' })).body.accountId as string;
    await cmd('POST', `/v1/accounts/${a}/deposits`, { amount: 1000 });
    const w = await cmd('POST', `/v1/accounts/${a}/withdrawals`, { amount: 100 });
    expect(w.status).toBe(201);
    const t = await cmd('POST', '/v1/transfers', { fromAccountId: a, toAccountId: b, amount: 250 });
    expect(t.status).toBe(201);
    const history = await cmd('GET', `/v1/subjects/account/${a}/events`);
    const withdrawal = (history.body.events as Envelope[]).find(
      (e) => e.eventType === 'FundsWithdrawn' && !('transferId' in e.payload),
    )!;
    const reversed = await cmd('POST', `/v1/accounts/${a}/reversals`, { eventId: withdrawal.id, reason: 'refund' });
    expect(reversed.body.balance).toBe(750);
    await cmd('POST', `/v1/accounts/${b}/withdrawals`, { amount: 250 });
    const closed = await cmd('POST', `/v1/accounts/${b}/close`, {});
    expect(closed.status).toBe(200);

    // Read-your-writes: the projector answers once it has reached the sequence the command returned.
    const balance = await read(`/v1/accounts/${a}?minSequence=${reversed.body.sequence as number}&waitMs=20000`);
    expect(balance.body).toMatchObject({
      accountId: a,
      ownerName: 'Ann',
      currency: 'EUR',
      balance: 750,
      status: 'open',
      sequence: 5,
    });
    const statement = await read(`/v1/accounts/${a}/statement`);
    expect(
      (statement.body.entries as { eventType: string; amount: number; balanceAfter: number }[]).map((e) => [
        e.eventType,
        e.amount,
        e.balanceAfter,
      ]),
    ).toEqual([
      ['FundsDeposited', 1000, 1000],
      ['FundsWithdrawn', -100, 900],
      ['FundsWithdrawn', -250, 650],
      ['EntryReversed', 100, 750],
    ]);
    const notYet = await call(projector.url, 'GET', `/v1/accounts/${a}?minSequence=99&waitMs=50`, bearer);
    expect(notYet.status).toBe(503);
    await expectReadModelsEqualTheFold();

    // Another tenant sees nothing of it.
    const stranger = await token('tenant-stranger');
    expect((await call(projector.url, 'GET', `/v1/accounts/${a}`, stranger)).status).toBe(404);
    expect((await call(projector.url, 'GET', '/v1/tenant/totals', stranger)).body.totals).toEqual([]);
  });

  it('changes nothing when every event is delivered twice, and counts the duplicates', async () => {
    const before = await read(`/v1/tenant/totals`);
    // A separate producer re-publishes every message already on the topics.
    const kafka = testKafka();
    const consumer = kafka.consumer({ groupId: `dup-${Date.now()}`, maxWaitTimeInMs: 50 });
    const seen: { topic: string; key: string; value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: pipeline.topics, fromBeginning: true });
    const events = (await logEvents()).length;
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        seen.push({ topic, key: message.key!.toString(), value: message.value!.toString(), headers });
      },
    });
    await waitFor(() => seen.length >= events, { timeoutMs: 30000, message: 'reading the topics' });
    await consumer.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (const m of seen)
      await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value, headers: m.headers }] });
    await producer.disconnect();

    await waitFor(
      async () => {
        const status = await call(projector.url, 'GET', '/admin/projections', bearer);
        const partitions = (status.body.projections as { partitions: { duplicates: number; lag: number }[] }[])[0]
          .partitions;
        return partitions.reduce((s, p) => s + p.duplicates, 0) >= events && partitions.every((p) => p.lag === 0);
      },
      { timeoutMs: 30000, message: 'the duplicates to be consumed and counted' },
    );
    expect((await read('/v1/tenant/totals')).body).toEqual(before.body);
    await expectReadModelsEqualTheFold();
  });

  it('loses nothing and applies nothing twice when the projector is killed with -9 under load', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 6; i++)
      accounts.push(
        (await cmd('POST', '/v1/accounts', { ownerName: `K${i}`, currency: 'EUR' })).body.accountId as string,
      );
    let running = true;
    const load = Promise.all(
      accounts.map(async (id) => {
        while (running) await cmd('POST', `/v1/accounts/${id}/deposits`, { amount: 3 });
      }),
    );
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 500));
      await projector.stop('SIGKILL');
      projector = await startProjector();
    }
    running = false;
    await load;
    await expectReadModelsEqualTheFold();
  });

  it('changes nothing when partitions are replayed from an earlier offset', async () => {
    await expectReadModelsEqualTheFold();
    const before = (await read('/v1/tenant/totals')).body;
    await projector.stop('SIGTERM');
    // Rewind both the stored positions and the group's Kafka offsets to the beginning.
    await pipeline.projectorSchema.pool.query(`UPDATE projector_offsets SET next_offset = 0`);
    const admin = testKafka().admin();
    await admin.connect();
    const groupId = `${pipeline.topicPrefix}spine-projector`;
    for (const topic of pipeline.topics)
      await admin.setOffsets({
        groupId,
        topic,
        partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })),
      });
    await admin.disconnect();
    const {
      rows: [{ d: duplicatesBefore }],
    } = await pipeline.projectorSchema.pool.query<{ d: number }>(
      `SELECT sum(duplicates)::int AS d FROM projector_offsets`,
    );
    const events = (await logEvents()).length;

    projector = await startProjector();
    await waitFor(
      async () =>
        (
          await pipeline.projectorSchema.pool.query<{ d: number }>(
            `SELECT sum(duplicates)::int AS d FROM projector_offsets`,
          )
        ).rows[0].d -
          duplicatesBefore >=
        events,
      { timeoutMs: 30000, message: 'every replayed event recognised as a duplicate' },
    );
    expect((await read('/v1/tenant/totals')).body).toEqual(before);
    await expectReadModelsEqualTheFold();
  });

  it('repairs a sequence gap from the command service’s event log instead of parking', async () => {
    const id = (await cmd('POST', '/v1/accounts', { ownerName: 'Repair', currency: 'EUR' })).body.accountId as string;
    await read(`/v1/accounts/${id}?minSequence=1&waitMs=20000`);
    await relay.stop('SIGKILL'); // events 2 and 3 stay in the outbox: a "lost" stretch for the projector
    await cmd('POST', `/v1/accounts/${id}/deposits`, { amount: 20 });
    await cmd('POST', `/v1/accounts/${id}/deposits`, { amount: 30 });
    const { rows } = await pipeline.commandSchema.pool.query<{
      topic: string;
      message_key: string;
      headers: Record<string, string>;
      value: string;
    }>(`SELECT topic, message_key, headers, value FROM outbox WHERE message_key = $1 AND headers->>'sequence' = '3'`, [
      `tenant-e2e:${id}`,
    ]);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: rows[0].topic,
      messages: [{ key: rows[0].message_key, value: rows[0].value, headers: rows[0].headers }],
    });
    await producer.disconnect();

    const repaired = await read(`/v1/accounts/${id}?minSequence=3&waitMs=20000`);
    expect(repaired.body).toMatchObject({ balance: 50, sequence: 3 });
    expect((await call(projector.url, 'GET', '/admin/parked', bearer)).body.parked).toEqual([]);
    relay = await pipeline.start('outbox-relay'); // re-publishes 2 and 3: duplicates, ignored
    await expectReadModelsEqualTheFold();
  });

  it('shares partitions between instances and loses or repeats nothing across rebalances', async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 6; i++)
      accounts.push(
        (await cmd('POST', '/v1/accounts', { ownerName: `R${i}`, currency: 'EUR' })).body.accountId as string,
      );
    let running = true;
    const load = Promise.all(
      accounts.map(async (id) => {
        while (running) await cmd('POST', `/v1/accounts/${id}/deposits`, { amount: 2 });
      }),
    );
    const second = await startProjector();
    await new Promise((r) => setTimeout(r, 1000));
    const third = await startProjector();
    await new Promise((r) => setTimeout(r, 1000));
    await second.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    running = false;
    await load;
    await expectReadModelsEqualTheFold();
    await third.stop('SIGTERM');
  });

  it('is readable by a consumer that is not the projector (kcat)', () => {
    const out = execFileSync(
      'kcat',
      [
        '-C',
        '-b',
        pipeline.kafkaBrokers,
        '-t',
        pipeline.topics[0],
        '-o',
        'beginning',
        '-e',
        '-q',
        '-c',
        '3',
        '-f',
        '%k|%h|%s\\n',
      ],
      { encoding: 'utf8', timeout: 20000 },
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const [key, headers, value] = line.split('|');
      const envelope = JSON.parse(value) as { tenantId: string; subjectId: string; id: string };
      expect(key).toBe(`${envelope.tenantId}:${envelope.subjectId}`);
      expect(headers).toContain(`event-id=${envelope.id}`);
      expect(headers).toContain('content-type=application/json');
    }
  });
});
