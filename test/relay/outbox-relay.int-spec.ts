import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { OutboxSignal, outboxChannel, publicationOf } from '@event-spine/outbox';
import { testDatabaseUrl, testKafka, waitFor } from '@event-spine/testing';
import { CommandServiceHarness, tokenFor } from '../../apps/command-service/test/command-service.harness';
import { RelayUnderTest, TopicRecorder } from '../../apps/outbox-relay/test/relay.harness';

// The relay engine against the real PostgreSQL and Kafka, fed by the real command service.
describe('outbox relay', () => {
  let svc: CommandServiceHarness;
  let recorder: TopicRecorder;
  let token: string;
  const relays: RelayUnderTest[] = [];

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    const topics = await svc.topicsReady();
    recorder = await TopicRecorder.start(testKafka(), topics);
    token = await tokenFor();
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop().catch(() => undefined)));
    await recorder.stop();
    await svc.stop();
  });

  const startRelay = async (overrides = {}) => {
    const r = await RelayUnderTest.start(svc.schema.name, overrides);
    relays.push(r);
    return r;
  };
  const post = (url: string, body: unknown) => svc.request('POST', url, { token, body });
  const outboxEventIds = async () =>
    (
      await svc.db.query<{ event_id: string }>(`SELECT event_id FROM event_log e JOIN outbox o ON o.event_id = e.id`)
    ).rows.map((r) => r.event_id);
  const allEventIds = async () =>
    (await svc.db.query<{ id: string }>(`SELECT id FROM event_log`)).rows.map((r) => r.id);

  it('records where each event landed on Kafka (partition and offset), as a consumer finds it', async () => {
    // Its own relay, stopped at the end: the later tests count the instances sharing the buckets.
    const relay = await startRelay();
    try {
      await placedAsConsumed();
    } finally {
      await relay.stop();
      relays.splice(relays.indexOf(relay), 1);
    }
  });

  async function placedAsConsumed() {
    const accounts: string[] = [];
    // Enough subjects that their keys spread over more than one partition (with 2 partitions, all 20 on one: 2e-6).
    for (let i = 0; i < 20; i++) {
      const opened = await post('/v1/accounts', { ownerName: `Placed ${i}`, currency: 'EUR' });
      accounts.push(opened.body.accountId as string);
      await post(`/v1/accounts/${accounts[i]}/deposits`, { amount: 5 });
    }
    const { rows: events } = await svc.db.query<{ id: string }>(`SELECT id FROM event_log WHERE subject_id = ANY($1)`, [
      accounts,
    ]);
    await recorder.waitForEvents(events.map((e) => e.id));
    // Where a batch landed is written with the relay's next cursor save, which may come up to 10 ms after Kafka's
    // ack (it rides on the next read): a consumer can see the last messages first.
    // Read as the causality query reads them.
    const db = { query: async <T>(sql: string, p?: unknown[]) => (await svc.db.query(sql, p)).rows as T };
    const placed = await waitFor(
      async () => {
        const found = await publicationOf(
          db,
          events.map((e) => e.id),
        );
        const all = [...found].filter(([, p]) => p.topic !== undefined);
        return all.length === events.length && all;
      },
      { timeoutMs: 10_000, message: 'every event placed' },
    );
    expect(placed).toHaveLength(events.length);
    expect(new Set(placed.map(([, p]) => p.partition)).size).toBeGreaterThan(1);
    for (const [eventId, p] of placed) {
      const message = recorder.messages.find((m) => m.headers['event-id'] === eventId)!;
      expect(p).toEqual({
        published: true,
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
      });
    }
  }

  it('publishes every event with the spec topic, key, headers and the envelope as value', async () => {
    await startRelay();
    const opened = await post('/v1/accounts', { ownerName: 'Relay', currency: 'EUR' });
    const accountId = opened.body.accountId as string;
    await post(`/v1/accounts/${accountId}/deposits`, { amount: 10 });
    const ids = await allEventIds();
    await recorder.waitForEvents(ids);

    const history = await svc.request<{ events: Record<string, unknown>[] }>(
      'GET',
      `/v1/subjects/account/${accountId}/events`,
      { token },
    );
    const deposit = history.body.events[1];
    const message = recorder.messages.find((m) => m.headers['event-id'] === deposit.id)!;
    expect(message.topic).toBe(`${svc.topicPrefix}spine.account.events`);
    expect(message.key).toBe(`tenant-a:${accountId}`);
    expect(message.value).toEqual(deposit);
    expect(message.headers).toEqual({
      'event-id': deposit.id,
      'event-type': 'FundsDeposited',
      'event-schema-version': '1',
      'tenant-id': 'tenant-a',
      'subject-type': 'account',
      'subject-id': accountId,
      sequence: '2',
      'correlation-id': deposit.correlationId,
      'causation-id': deposit.causationId,
      'content-type': 'application/json',
    });
    // Published rows are cleaned up.
    await waitFor(async () => (await outboxEventIds()).length === 0, { message: 'outbox cleanup' });
  });

  it('publishes a row whose transaction commits after later rows were published (no gap skipping)', async () => {
    const opened = await post('/v1/accounts', { ownerName: 'Gap', currency: 'EUR' });
    const accountId = opened.body.accountId as string;
    await recorder.waitForEvents(await allEventIds());

    // Hold a transaction that has written an outbox row (a smaller id), then commit later ones.
    const held = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    await held.connect();
    await held.query('BEGIN');
    const heldEventId = randomUUID();
    await held.query(`INSERT INTO outbox (event_id, topic, message_key, headers, value) VALUES ($1, $2, $3, $4, $5)`, [
      heldEventId,
      `${svc.topicPrefix}spine.account.events`,
      `tenant-a:${randomUUID()}`,
      { 'event-id': heldEventId },
      JSON.stringify({ id: heldEventId, held: true }),
    ]);
    const later: string[] = [];
    for (let i = 0; i < 5; i++) await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 });
    for (const id of await allEventIds()) if (!recorder.eventIds().includes(id)) later.push(id);
    expect(later).toHaveLength(5);
    // The relay keeps running while the transaction is open: it must not move past it.
    await new Promise((r) => setTimeout(r, 500));
    expect(recorder.eventIds()).not.toContain(heldEventId);

    await held.query('COMMIT');
    await held.end();
    await recorder.waitForEvents([heldEventId, ...later]);
    expect(recorder.eventIds().filter((id) => id === heldEventId)).toHaveLength(1);
  });

  it('keeps per-subject order across three instances, and a dead instance’s buckets are taken over', async () => {
    await startRelay();
    await startRelay();
    await waitFor(() => relays.filter((r) => r.relay.ownedBuckets.length > 0).length === 3, {
      message: 'three instances sharing the buckets',
    });
    const owned = relays.flatMap((r) => r.relay.ownedBuckets);
    expect(new Set(owned).size).toBe(owned.length); // no bucket owned twice

    const accounts: string[] = [];
    for (let i = 0; i < 24; i++)
      accounts.push((await post('/v1/accounts', { ownerName: `S${i}`, currency: 'EUR' })).body.accountId as string);
    const writes = async (rounds: number) => {
      for (let round = 0; round < rounds; round++) {
        await Promise.all(accounts.map((id) => post(`/v1/accounts/${id}/deposits`, { amount: 1 })));
      }
    };
    await writes(3);
    // Kill one instance abruptly: its connection (and so its bucket locks) vanish, its heartbeat stays behind.
    const victim = relays[0];
    const orphaned = victim.relay.ownedBuckets;
    expect(orphaned.length).toBeGreaterThan(0);
    await victim.crash();
    relays.splice(0, 1);
    const killedAt = Date.now();
    await writes(3);
    await waitFor(() => orphaned.every((b) => relays.some((r) => r.relay.ownedBuckets.includes(b))), {
      timeoutMs: 10000,
      message: 'the dead instance’s buckets taken over',
    });
    expect(Date.now() - killedAt).toBeLessThan(10000);
    const ids = await allEventIds();
    await recorder.waitForEvents(ids, 30000);

    for (const accountId of accounts) {
      const sequences = recorder.messages
        .filter((m) => m.key === `tenant-a:${accountId}`)
        .map((m) => Number(m.headers.sequence));
      const firstSeen = sequences.filter((s, i) => sequences.indexOf(s) === i);
      expect(firstSeen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // A resend after recovery repeats a suffix, never reorders: each message is followed by its successor or an
      // earlier sequence being re-sent.
      for (let i = 1; i < sequences.length; i++) {
        if (sequences[i] > sequences[i - 1]) expect(sequences[i]).toBe(sequences[i - 1] + 1);
      }
    }
  });

  it('holds back, never drops, a row Kafka refuses for good; it names the row, and other subjects keep flowing', async () => {
    // One instance owns every bucket, so its log is where the refusal shows.
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    const errors: Record<string, unknown>[] = [];
    const relay = await startRelay({
      log: { info: () => undefined, warn: () => undefined, error: (e: Record<string, unknown>) => errors.push(e) },
    });
    const bucketOf = async (key: string) =>
      (await svc.db.query<{ b: number }>(`SELECT ((hashtext($1) % 64) + 64) % 64 AS b`, [key])).rows[0].b;
    const opened = await post('/v1/accounts', { ownerName: 'Flowing', currency: 'EUR' });
    const healthyKey = `tenant-a:${opened.body.accountId as string}`;
    let hugeKey = '';
    for (let i = 0; !hugeKey || (await bucketOf(hugeKey)) === (await bucketOf(healthyKey)); i++)
      hugeKey = `tenant-a:too-large-${i}`;
    // Larger than the broker's message.max.bytes (1 MiB by default): Kafka refuses it, and retrying cannot help.
    const hugeId = randomUUID();
    await svc.db.query(
      `INSERT INTO outbox (event_id, topic, message_key, headers, value) VALUES ($1, $2, $3, '{}', $4)`,
      [hugeId, `${svc.topicPrefix}spine.account.events`, hugeKey, JSON.stringify({ blob: 'x'.repeat(1_200_000) })],
    );
    const failuresBefore = relays.reduce((n, r) => n + r.counts.failures, 0);
    await waitFor(() => errors.some((e) => e.eventId === hugeId && e.bucket !== undefined), {
      timeoutMs: 30000,
      message: 'the refused row named in the error log',
    });
    expect(relays.reduce((n, r) => n + r.counts.failures, 0)).toBeGreaterThan(failuresBefore);
    expect(errors.find((e) => e.eventId === hugeId)).toMatchObject({ key: hugeKey, bytes: expect.any(Number) });

    // Another subject, written after it, still reaches Kafka...
    await post(`/v1/accounts/${opened.body.accountId as string}/deposits`, { amount: 3 });
    await recorder.waitForEvents(await allEventIds());
    expect(recorder.messages.some((m) => m.key === healthyKey && m.headers.sequence === '2')).toBe(true);
    // ...while the refused row stays in the outbox, unpublished: not dropped, not counted as published.
    const { rows } = await svc.db.query<{ behind: boolean }>(
      `SELECT (o.tx_id, o.position) > (c.tx_id, c.position) AS behind
         FROM outbox o JOIN relay_cursor c ON c.bucket = o.bucket WHERE o.event_id = $1`,
      [hugeId],
    );
    expect(rows).toEqual([{ behind: true }]);
    expect(recorder.eventIds()).not.toContain(hugeId);
    await svc.db.query(`DELETE FROM outbox WHERE event_id = $1`, [hugeId]);
    expect(relay.relay.ownedBuckets.length).toBeGreaterThan(0);
  });

  // What a restore leaves: cursors and an unpublished row carrying ids the new server has not handed out yet; or, from
  // a database whose relay had published nothing, the row alone (its cursors were still at zero).
  it.each([
    ['cursors and an outbox row carry', true],
    ['only an outbox row carries', false],
  ])(
    'after a restore into another cluster (%s transaction ids not handed out yet) it rebases and loses nothing',
    async (_, cursorsToo) => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      const future = `(pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text::xid8`;
      if (cursorsToo) await svc.db.query(`UPDATE relay_cursor SET tx_id = ${future}`);
      const restoredId = randomUUID();
      const opened = await post('/v1/accounts', { ownerName: 'Restored', currency: 'EUR' });
      const key = `tenant-a:${opened.body.accountId as string}`;
      await svc.db.query(
        `INSERT INTO outbox (event_id, topic, message_key, headers, value, tx_id) VALUES ($1, $2, $3, $4, $5, ${future})`,
        [
          restoredId,
          `${svc.topicPrefix}spine.account.events`,
          `tenant-a:restored-subject`,
          JSON.stringify({ 'event-id': restoredId }),
          JSON.stringify({ id: restoredId }),
        ],
      );
      const warnings: Record<string, unknown>[] = [];
      await startRelay({
        log: { info: () => undefined, warn: (e: Record<string, unknown>) => warnings.push(e), error: () => undefined },
      });
      // New rows, written with the new, lower ids, and the restored one all reach Kafka.
      await post(`/v1/accounts/${opened.body.accountId as string}/deposits`, { amount: 5 });
      await recorder.waitForEvents([...(await allEventIds()), restoredId]);
      expect(recorder.messages.filter((m) => m.key === key).map((m) => m.headers.sequence)).toEqual(['1', '2']);
      expect(warnings).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/rebased/) }));
    },
  );
});

describe('the AsyncAPI document', () => {
  it('describes the real messages: every value and header set the relay published validates against it', async () => {
    const svc = await CommandServiceHarness.start();
    const topics = await svc.topicsReady();
    const recorder = await TopicRecorder.start(testKafka(), topics);
    const relay = await RelayUnderTest.start(svc.schema.name);
    try {
      const bearer = await tokenFor();
      const post = (url: string, body: unknown) => svc.request('POST', url, { token: bearer, body });
      const a = (await post('/v1/accounts', { ownerName: 'Doc', currency: 'EUR' })).body.accountId as string;
      const b = (await post('/v1/accounts', { ownerName: 'Doc2', currency: 'EUR' })).body.accountId as string;
      await post(`/v1/accounts/${a}/deposits`, { amount: 100, reference: 'ref' });
      await post(`/v1/accounts/${a}/withdrawals`, { amount: 10 });
      await post('/v1/transfers', { fromAccountId: a, toAccountId: b, amount: 5 });
      const events = await svc.request<{ events: { id: string; eventType: string }[] }>(
        'GET',
        `/v1/subjects/account/${a}/events`,
        {
          token: bearer,
        },
      );
      const withdrawal = events.body.events.find((e) => e.eventType === 'FundsWithdrawn')!;
      await post(`/v1/accounts/${a}/reversals`, { eventId: withdrawal.id, reason: 'doc' });
      await post(`/v1/accounts/${b}/withdrawals`, { amount: 5 });
      await post(`/v1/accounts/${b}/close`, {});
      // The platform's own event, on the catalog's data-subject topic: forgetting b's holder.
      const forgot = await svc.request('POST', `/admin/data-subjects/${b}/forget`, {
        token: await tokenFor({ roles: ['admin'] }),
        body: {},
      });
      expect(forgot.statusCode).toBe(200);
      const { rows } = await svc.db.query<{ id: string }>(`SELECT id FROM event_log`);
      await recorder.waitForEvents(rows.map((r) => r.id));

      const doc = JSON.parse(readFileSync(resolve(__dirname, '../../docs/asyncapi.json'), 'utf8')) as {
        components: { messages: Record<string, { headers: object; payload: object }> };
      };
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      const seenTypes = new Set<string>();
      for (const m of recorder.messages) {
        const spec = doc.components.messages[m.headers['event-type']];
        expect(spec).toBeDefined();
        const validPayload = ajv.validate(spec.payload, m.value);
        expect({ type: m.headers['event-type'], errors: ajv.errors ?? null, valid: validPayload }).toMatchObject({
          valid: true,
        });
        const validHeaders = ajv.validate(spec.headers, m.headers);
        expect({ type: m.headers['event-type'], errors: ajv.errors ?? null, valid: validHeaders }).toMatchObject({
          valid: true,
        });
        seenTypes.add(m.headers['event-type']);
      }
      expect([...seenTypes].sort()).toEqual(Object.keys(doc.components.messages).sort());
    } finally {
      await relay.stop();
      await recorder.stop();
      await svc.stop();
    }
  });
});

describe('outbox relay under a backlog', () => {
  it('publishes a backlog over many batches, the busy subject beyond its share, each row once and in order per subject', async () => {
    const svc = await CommandServiceHarness.start();
    const [topic] = await svc.topicsReady();
    const recorder = await TopicRecorder.start(testKafka(), [topic]);
    const written: { id: string; key: string; sequence: number }[] = [];
    const next = new Map<string, number>();
    // One transaction of rows, written as the outbox writer would; `sequence` numbers each key's rows in commit order.
    const write = async (keys: string[]) => {
      const rows = keys.map((key) => {
        const sequence = (next.get(key) ?? 0) + 1;
        next.set(key, sequence);
        return { id: randomUUID(), key, sequence };
      });
      await svc.db.query(
        `INSERT INTO outbox (event_id, topic, message_key, headers, value)
         SELECT i, $1, k, jsonb_build_object('event-id', i::text, 'sequence', s::text), jsonb_build_object('id', i)::text
           FROM unnest($2::uuid[], $3::text[], $4::int[]) WITH ORDINALITY AS r(i, k, s, n) ORDER BY n`,
        [topic, rows.map((r) => r.id), rows.map((r) => r.key), rows.map((r) => r.sequence)],
      );
      written.push(...rows);
    };
    const hot = 'tenant-a:hot-subject';
    const cold = Array.from({ length: 30 }, (_, i) => `tenant-a:cold-${i}`);
    // The backlog before the relay starts: the hot subject alone holds far more than a batch.
    for (let t = 0; t < 10; t++) await write([...Array<string>(40).fill(hot), ...cold.slice(0, 10)]);
    const relay = await RelayUnderTest.start(svc.schema.name, { batchSize: 100 });
    try {
      // More while it drains: reads run ahead of Kafka's acknowledgements.
      for (let t = 0; t < 10; t++) await write([hot, hot, ...cold]);
      await recorder.waitForEvents(
        written.map((r) => r.id),
        60000,
      );

      for (const key of [hot, ...cold]) {
        const sequences = recorder.messages.filter((m) => m.key === key).map((m) => Number(m.headers.sequence));
        const firstSeen = sequences.filter((s, i) => sequences.indexOf(s) === i);
        expect(firstSeen).toEqual(Array.from({ length: next.get(key)! }, (_, i) => i + 1));
      }
      // No crash, no rebalance away: nothing is sent twice.
      expect(recorder.messages).toHaveLength(written.length);
      expect(relay.counts.resent).toBe(0);
      // What Kafka took is written down: cursors count every row, and where each event landed is recorded.
      await relay.stop();
      const { rows } = await svc.db.query<{ published: string; placed: string }>(
        `SELECT (SELECT sum(published) FROM relay_cursor)::text AS published,
                (SELECT count(DISTINCT e) FROM outbox_placement, unnest(event_ids) e WHERE e = ANY($1::uuid[]))::text AS placed`,
        [written.map((r) => r.id)],
      );
      expect(rows[0]).toEqual({ published: String(written.length), placed: String(written.length) });
    } finally {
      await relay.stop().catch(() => undefined);
      await recorder.stop();
      await svc.stop();
    }
  });
});

// Without its periodic read of every bucket (maxIdleMs of a minute), the relay finds new rows only through the wake-up
// a commit sends, which names the buckets of its rows.
describe('outbox relay woken by commits', () => {
  /** A command service, a recorder of its topics, and a relay that reads only what wake-ups name. */
  async function woken() {
    const svc = await CommandServiceHarness.start();
    const topics = await svc.topicsReady();
    const recorder = await TopicRecorder.start(testKafka(), topics);
    const token = await tokenFor();
    const post = (url: string, body: unknown) => svc.request('POST', url, { token, body });
    const unpublished = async () =>
      (await svc.db.query<{ id: string }>(`SELECT id FROM event_log`)).rows
        .map((r) => r.id)
        .filter((id) => !recorder.eventIds().includes(id));
    const relay = await RelayUnderTest.start(svc.schema.name, { maxIdleMs: 60_000 });
    return { svc, topics, recorder, post, unpublished, relay };
  }

  it('publishes what the command service commits, and a row held back behind an older transaction once it ended', async () => {
    const { svc, topics, recorder, post, unpublished, relay } = await woken();
    const held = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    try {
      const opened = await post('/v1/accounts', { ownerName: 'Woken', currency: 'EUR' });
      const accountId = opened.body.accountId as string;
      for (let i = 0; i < 3; i++) await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 });
      // All of them, published or not yet: a woken relay may have sent the first before this reads.
      const first = (await svc.db.query<{ id: string }>(`SELECT id FROM event_log`)).rows.map((r) => r.id);
      expect(first).toHaveLength(4);
      await recorder.waitForEvents(first, 15_000);

      // An older transaction in flight holds the next deposit back (the gap guard); it ends without a wake-up.
      await held.connect();
      await held.query('BEGIN');
      const heldEventId = randomUUID();
      const heldKey = `tenant-a:${randomUUID()}`;
      await held.query(
        `INSERT INTO outbox (event_id, topic, message_key, headers, value) VALUES ($1, $2, $3, $4, $5)`,
        [heldEventId, topics[0], heldKey, { 'event-id': heldEventId }, JSON.stringify({ id: heldEventId })],
      );
      await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 });
      const [deposit] = await unpublished();
      await new Promise((r) => setTimeout(r, 500));
      expect(recorder.eventIds()).not.toContain(deposit);
      await held.query('COMMIT');
      // The deposit's bucket stays to be read again (its row was there, held back), so it goes out without a wake-up.
      await recorder.waitForEvents([deposit], 15_000);

      // A row written by another writer, announced with its key: the wake-up's bucket is the outbox's own.
      const signal = new OutboxSignal(
        { query: async <T>(sql: string, params?: unknown[]) => (await svc.db.query(sql, params)).rows as T },
        outboxChannel(svc.schema.name),
      );
      signal.committed([heldKey]);
      await recorder.waitForEvents([heldEventId], 15_000);
      expect(relay.counts.failures).toBe(0);
    } finally {
      await held.end().catch(() => undefined);
      await relay.stop().catch(() => undefined);
      await recorder.stop();
      await svc.stop();
    }
  });

  it('passes over a transaction in flight in another database, and still waits for one in its own', async () => {
    const { svc, recorder, post, unpublished, relay } = await woken();
    const elsewhere = new URL(testDatabaseUrl());
    elsewhere.pathname = '/postgres';
    const otherDatabase = new Client({ connectionString: elsewhere.toString() });
    const sameDatabase = new Client({ connectionString: testDatabaseUrl() });
    try {
      const opened = await post('/v1/accounts', { ownerName: 'Elsewhere', currency: 'EUR' });
      const accountId = opened.body.accountId as string;
      await recorder.waitForEvents(await unpublished(), 15_000);

      // A transaction of another database holds a transaction id (older than the deposit's) all along.
      await otherDatabase.connect();
      await otherDatabase.query('BEGIN');
      await otherDatabase.query('SELECT pg_current_xact_id()');
      await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 });
      await recorder.waitForEvents(await unpublished(), 15_000);

      // One of this database holds the next deposit back until it ends, though it writes no outbox row.
      await sameDatabase.connect();
      await sameDatabase.query('BEGIN');
      await sameDatabase.query('SELECT pg_current_xact_id()');
      await post(`/v1/accounts/${accountId}/deposits`, { amount: 1 });
      const [deposit] = await unpublished();
      await new Promise((r) => setTimeout(r, 500));
      expect(recorder.eventIds()).not.toContain(deposit);
      await sameDatabase.query('COMMIT');
      await recorder.waitForEvents([deposit], 15_000);
      expect(relay.counts.failures).toBe(0);
    } finally {
      await otherDatabase.end().catch(() => undefined);
      await sameDatabase.end().catch(() => undefined);
      await relay.stop().catch(() => undefined);
      await recorder.stop();
      await svc.stop();
    }
  });

  it('publishes the same with commits that wait for the WAL flush (RELAY_WAIT_FOR_FLUSH=true)', async () => {
    const svc = await CommandServiceHarness.start();
    const topics = await svc.topicsReady();
    const recorder = await TopicRecorder.start(testKafka(), topics);
    const token = await tokenFor();
    const relay = await RelayUnderTest.start(svc.schema.name, { maxIdleMs: 60_000, waitForFlush: true });
    try {
      const opened = await svc.request('POST', '/v1/accounts', {
        token,
        body: { ownerName: 'Async', currency: 'EUR' },
      });
      const accountId = opened.body.accountId as string;
      await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token, body: { amount: 2 } });
      const ids = (await svc.db.query<{ id: string }>(`SELECT id FROM event_log`)).rows.map((r) => r.id);
      expect(ids).toHaveLength(2);
      await recorder.waitForEvents(ids, 15_000);
      const own = (relay.relay as unknown as { client: Client }).client;
      expect((await own.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]).toEqual({
        synchronous_commit: 'on',
      });
      await relay.stop();
      const { rows } = await svc.db.query<{ published: string }>(
        `SELECT sum(published)::text AS published FROM relay_cursor`,
      );
      expect(rows[0].published).toBe('2');
      // Unless told to, they do not.
      const byDefault = await RelayUnderTest.start(svc.schema.name, { maxIdleMs: 60_000 });
      const its = (byDefault.relay as unknown as { client: Client }).client;
      const setting = (await its.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0];
      await byDefault.stop();
      expect(setting).toEqual({ synchronous_commit: 'off' });
    } finally {
      await relay.stop().catch(() => undefined);
      await recorder.stop();
      await svc.stop();
    }
  });
});
