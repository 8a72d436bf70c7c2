import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { enqueueOutbox, outboxMigrations, type OutboxMessage } from '@event-spine/outbox';
import { dataSourceOptions, migrate, rowsOf } from '@event-spine/persistence';
import { LogicalRelay, OutboxRelay, readSlotWal, type LogicalRelayOptions } from '@event-spine/relay';
import { freePort, testDatabaseUrl, testKafka, uniqueName, waitFor } from '@event-spine/testing';
import { relayProducer, TopicRecorder } from '../../apps/outbox-relay/test/relay.harness';
import { PrivatePostgres } from '../support/private-postgres';

// The relay's logical-replication mode against a PostgreSQL server of its own with wal_level = logical (the shared
// one runs without), real Kafka, and rows written straight into the outbox as the command service writes them.
const describeIf = PrivatePostgres.available() ? describe : describe.skip;

describeIf('logical relay (RELAY_MODE=logical)', () => {
  let pg: PrivatePostgres;
  let url: string;
  let writers: Pool;
  let topic: string;
  let recorder: TopicRecorder;
  const schema = 'spine_logical';
  const keys = ['tenant-a:1', 'tenant-a:2', 'tenant-a:3', 'tenant-b:4', 'tenant-b:5'];
  const next = new Map<string, number>();
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pg = PrivatePostgres.start(await freePort(), { wal_level: 'logical', max_replication_slots: '4' });
    url = pg.url;
    const dataSource = new DataSource(
      dataSourceOptions({ url, schema, poolSize: 2, applicationName: 'logical-test', migrations: outboxMigrations }),
    );
    await dataSource.initialize();
    await migrate(dataSource, schema);
    await dataSource.destroy();
    writers = new Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
    topic = uniqueName('logical');
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    recorder = await TopicRecorder.start(testKafka(), [topic]);
  });

  afterAll(async () => {
    await recorder?.stop();
    await writers?.end();
    pg?.destroy();
  });

  /** `n` messages, spread over the keys; each key's values count up, so order per key can be checked. */
  function messages(n: number, over: readonly string[] = keys): OutboxMessage[] {
    return Array.from({ length: n }, (_, i) => {
      const key = over[i % over.length];
      const seq = (next.get(key) ?? 0) + 1;
      next.set(key, seq);
      const eventId = randomUUID();
      return { eventId, topic, key, headers: { 'event-id': eventId }, value: JSON.stringify({ key, seq }) };
    });
  }

  const write = async (n: number) => {
    const batch = messages(n);
    await enqueueOutbox({ query: async (sql, params) => (await writers.query(sql, params)).rows as never }, batch);
    return batch.map((m) => m.eventId);
  };

  async function startLogical(overrides: Partial<LogicalRelayOptions> = {}) {
    const producer = relayProducer(testKafka());
    await producer.connect();
    const relay = new LogicalRelay({
      database: { connectionString: url },
      schema,
      producer,
      batchSize: 7,
      standbyRetryMs: 100,
      cleanupIntervalMs: 200,
      cleanupBatch: 1000,
      log: { info: (e) => logs.push(e), warn: (e) => logs.push(e), error: (e) => logs.push(e) },
      ...overrides,
    });
    await relay.start();
    return {
      relay,
      stop: async () => {
        await relay.stop();
        await producer.disconnect();
      },
    };
  }

  /** Every event arrived exactly once, and each key's values in order. */
  function expectOnceInOrder(expected: readonly string[]) {
    const ids = recorder.eventIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => expected.includes(id))).toHaveLength(expected.length);
    for (const key of keys) {
      const seqs = recorder.messages.filter((m) => m.key === key).map((m) => m.value.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  }

  const outboxRows = async () => Number((await writers.query(`SELECT count(*) FROM outbox`)).rows[0].count);

  it('refuses to start on a server without wal_level = logical', async () => {
    const relay = new LogicalRelay({
      database: { connectionString: testDatabaseUrl() },
      schema,
      producer: relayProducer(testKafka()),
      batchSize: 10,
      standbyRetryMs: 100,
      cleanupIntervalMs: 200,
      cleanupBatch: 100,
    });
    await expect(relay.start()).rejects.toThrow(/wal_level = logical/);
  });

  it('publishes rows written before its slot from the table and later ones from the stream, once each, in order', async () => {
    const before = await write(40);
    const logical = await startLogical();
    try {
      await recorder.waitForEvents(before);
      const after = await write(30);

      // A transaction takes its id first and commits last: the stream carries it in commit order, nothing waits. (Its
      // subject is its own: on the command side, a subject's lock keeps its events in commit order.)
      const held = new Client({ connectionString: url, options: `-c search_path=${schema}` });
      await held.connect();
      try {
        await held.query('BEGIN');
        const late = messages(1, ['tenant-c:6']);
        await enqueueOutbox({ query: async (sql, params) => (await held.query(sql, params)).rows as never }, late);
        const meanwhile = await write(5);
        await recorder.waitForEvents(meanwhile);
        expect(recorder.eventIds()).not.toContain(late[0].eventId);
        await held.query('COMMIT');
        await recorder.waitForEvents([...after, late[0].eventId]);
        expectOnceInOrder([...before, ...after, ...meanwhile, late[0].eventId]);
      } finally {
        await held.end();
      }

      // Every published row leaves the outbox, and where its event landed is recorded.
      await waitFor(async () => (await outboxRows()) === 0, { timeoutMs: 10_000, message: 'outbox emptied' });
      const { rows } = await writers.query<{ n: number }>(
        `SELECT count(DISTINCT e.event_id)::int AS n FROM outbox_placement, unnest(event_ids) AS e(event_id)`,
      );
      expect(rows[0].n).toBe(recorder.eventIds().length);
    } finally {
      await logical.stop();
    }
  });

  it('streams on from its slot after an orderly restart: what was written meanwhile arrives once', async () => {
    const seen = recorder.messages.length;
    const { rows: slots } = await writers.query(`SELECT slot_name, active FROM pg_replication_slots`);
    expect(slots).toEqual([{ slot_name: 'spine_outbox_spine_logical', active: false }]);
    const meanwhile = await write(25);
    logs.length = 0;
    const logical = await startLogical();
    try {
      await recorder.waitForEvents(meanwhile);
      await new Promise((r) => setTimeout(r, 300));
      expect(recorder.messages.length - seen).toBe(meanwhile.length);
      expectOnceInOrder(meanwhile);
      // Streamed, not handed off: the slot was kept, not made again.
      expect(logs.some((e) => String(e.message).startsWith('replication slot made'))).toBe(false);
    } finally {
      await logical.stop();
    }
  });

  it('starts again from the slot after its connections are cut, and loses nothing', async () => {
    logs.length = 0;
    const logical = await startLogical();
    try {
      const first = await write(20);
      await recorder.waitForEvents(first);
      const cut = await writers.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'outbox-relay-logical' OR (datname = current_database() AND backend_type = 'walsender')`,
      );
      expect(cut.rowCount).toBeGreaterThan(0);
      const during = await write(20);
      await recorder.waitForEvents(during, 30_000);
      expect(logs.some((e) => e.message === 'logical relay failed; starting over from the slot')).toBe(true);
      expectOnceInOrderOrResent([...first, ...during]);
    } finally {
      await logical.stop();
    }
  });

  /** After a cut, a batch Kafka took but the slot was not confirmed for may come again; order per key still holds. */
  function expectOnceInOrderOrResent(expected: readonly string[]) {
    const ids = recorder.eventIds();
    expect(expected.every((id) => ids.includes(id))).toBe(true);
    for (const key of keys) {
      const seqs = recorder.messages.filter((m) => m.key === key).map((m) => m.value.seq as number);
      // A resend repeats a run it had sent; the first arrival of each value is in order.
      const firsts = seqs.filter((s, i) => seqs.indexOf(s) === i);
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    }
  }

  it('runs one of two logical instances; the other takes over from the slot when it stops or its connections die', async () => {
    const seen = recorder.messages.length;
    const a = await startLogical();
    let b: Awaited<ReturnType<typeof startLogical>> | undefined;
    let c: Awaited<ReturnType<typeof startLogical>> | undefined;
    try {
      await waitFor(() => a.relay.ownedBuckets.length === 64, { timeoutMs: 10_000, message: 'a is active' });
      b = await startLogical();
      const first = await write(20);
      await recorder.waitForEvents(first);
      // b tried (every 100 ms) all along and never became active beside a.
      expect(b.relay.ownedBuckets).toEqual([]);
      expect(recorder.messages.length - seen).toBe(first.length);

      await a.stop();
      await waitFor(() => b!.relay.ownedBuckets.length === 64, { timeoutMs: 10_000, message: 'b takes over' });
      const second = await write(20);
      await recorder.waitForEvents(second, 30_000);
      expect(recorder.messages.length - seen).toBe(first.length + second.length);
      expectOnceInOrder([...first, ...second]);

      // Now b dies as a killed process would: its connections cut, then gone, with no orderly last confirmation.
      c = await startLogical();
      await writers.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'outbox-relay-logical' OR (datname = current_database() AND backend_type = 'walsender')`,
      );
      await b.stop();
      const third = await write(20);
      await waitFor(() => c!.relay.ownedBuckets.length === 64, { timeoutMs: 20_000, message: 'c takes over' });
      await recorder.waitForEvents(third, 30_000);
      // What b had sent but not confirmed may come again; nothing is lost and each key keeps its order.
      expectOnceInOrderOrResent([...first, ...second, ...third]);
    } finally {
      await a.stop().catch(() => undefined);
      await b?.stop().catch(() => undefined);
      await c?.stop().catch(() => undefined);
    }
  });

  it('waits while a polling relay publishes the same outbox, and takes over once it stops', async () => {
    const polling = new OutboxRelay({
      database: { connectionString: url },
      schema,
      producer: relayProducer(testKafka()),
      instanceId: uniqueName('polling'),
      batchSize: 50,
      maxIdleMs: 50,
      rebalanceMs: 100,
      instanceTtlMs: 1500,
      cleanupIntervalMs: 200,
      cleanupBatch: 1000,
    });
    await polling.start();
    await waitFor(() => polling.ownedBuckets.length === 64, { timeoutMs: 10_000, message: 'polling relay owns all' });
    logs.length = 0;
    const logical = await startLogical();
    try {
      await waitFor(() => logs.some((e) => String(e.message).startsWith('a polling relay publishes this outbox')), {
        timeoutMs: 10_000,
        message: 'the logical relay stands by',
      });
      const byPolling = await write(10);
      await recorder.waitForEvents(byPolling);
      await polling.stop();
      const byLogical = await write(10);
      await recorder.waitForEvents(byLogical, 30_000);
      const ids = recorder.eventIds();
      expect([...byPolling, ...byLogical].every((id) => ids.filter((x) => x === id).length === 1)).toBe(true);
    } finally {
      await polling.stop().catch(() => undefined);
      await logical.stop();
    }
  });
  it('reports the WAL its slot holds: it grows while no relay runs, and the unconfirmed part drains once one has published', async () => {
    const slot = 'spine_outbox_spine_logical';
    expect(await readSlotWal(rowsOf(writers), 'spine_outbox_no_such_schema')).toBeUndefined();
    const before = (await readSlotWal(rowsOf(writers), slot))!;
    expect(before.retained).toBeGreaterThanOrEqual(before.unconfirmed);
    const written = await write(400);
    const after = (await readSlotWal(rowsOf(writers), slot))!;
    const grown = after.unconfirmed - before.unconfirmed;
    // Each row's value and headers alone are well over 100 bytes of WAL.
    expect(grown).toBeGreaterThan(400 * 100);
    expect(after.retained - before.retained).toBeGreaterThanOrEqual(grown);
    const logical = await startLogical();
    try {
      await recorder.waitForEvents(written);
      // Confirmed past the rows, then past what follows them while the outbox is idle (its own deletes included).
      await waitFor(async () => (await readSlotWal(rowsOf(writers), slot))!.unconfirmed < grown / 4, {
        timeoutMs: 20_000,
        message: 'the slot confirmed past what was published',
      });
    } finally {
      await logical.stop();
    }
  });

  // Unlike the polling relay (relay-holdback.int-spec.ts), this mode has no buckets to hold back one at a time: every
  // transaction after the refused one waits with it, and nothing is skipped.
  it('stops at a row Kafka does not take (its topic is missing), names it, and goes on in order once Kafka takes it', async () => {
    const missing = uniqueName('logical-missing');
    const enqueue = (batch: OutboxMessage[]) =>
      enqueueOutbox({ query: async (sql, params) => (await writers.query(sql, params)).rows as never }, batch);
    logs.length = 0;
    const admin = testKafka().admin();
    await admin.connect();
    const logical = await startLogical();
    let late: TopicRecorder | undefined;
    try {
      // Streaming from its slot (rows from before a new slot are handed off from the table, bucket by bucket).
      await recorder.waitForEvents(await write(1));
      const before = messages(10);
      const refusedId = randomUUID();
      const refused: OutboxMessage = {
        eventId: refusedId,
        topic: missing,
        key: 'tenant-a:1',
        headers: { 'event-id': refusedId },
        value: JSON.stringify({ key: 'tenant-a:1', seq: 0 }),
      };
      const after = messages(10);
      // Three transactions: the stream sends whole ones, so the refused row's batch holds it alone.
      await enqueue(before);
      await enqueue([refused]);
      await enqueue(after);
      await recorder.waitForEvents(before.map((m) => m.eventId));
      const refusals = () =>
        logs.filter((e) => String(e.message).startsWith('Kafka did not take a batch') && e.firstEventId === refusedId);
      await waitFor(async () => refusals().length >= 3, { timeoutMs: 20_000, message: 'three refusals logged' });
      // Refused and retried, with everything after it waiting: published, none of it; kept, all of it.
      expect(recorder.eventIds().some((id) => after.some((m) => m.eventId === id))).toBe(false);
      expect(
        refusals()
          .map((e) => e.failures)
          .slice(0, 3),
      ).toEqual([1, 2, 3]);
      const { rows } = await writers.query<{ event_id: string }>(`SELECT event_id FROM outbox`);
      expect(rows.map((r) => r.event_id).sort()).toEqual([refusedId, ...after.map((m) => m.eventId)].sort());

      await admin.createTopics({ topics: [{ topic: missing, numPartitions: 1 }], waitForLeaders: true });
      late = await TopicRecorder.start(testKafka(), [missing]);
      await late.waitForEvents([refusedId], 30_000);
      await recorder.waitForEvents(
        after.map((m) => m.eventId),
        30_000,
      );
      expect(late.eventIds()).toEqual([refusedId]);
      // The refused row went before the transaction after it: their placements are recorded in the order sent.
      const placedAt = async (eventId: string) => {
        const { rows: placed } = await writers.query<{ id: string }>(
          `SELECT id::text FROM outbox_placement WHERE $1::uuid = ANY(event_ids)`,
          [eventId],
        );
        return BigInt(placed[0].id);
      };
      expect(await placedAt(refusedId)).toBeLessThan(await placedAt(after[0].eventId));
      expectOnceInOrder([...before, ...after].map((m) => m.eventId));
      await waitFor(async () => (await outboxRows()) === 0, { timeoutMs: 10_000, message: 'outbox emptied' });
    } finally {
      await logical.stop();
      await late?.stop();
      await admin.deleteTopics({ topics: [missing] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
