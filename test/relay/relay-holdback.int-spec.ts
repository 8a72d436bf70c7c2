import { randomUUID } from 'node:crypto';
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Admin } from 'kafkajs';
import { Metrics } from '@event-spine/observability';
import type { RelayOptions } from '@event-spine/relay';
import { testKafka, waitFor } from '@event-spine/testing';
import { CommandServiceHarness } from '../../apps/command-service/test/command-service.harness';
import { RelayUnderTest, TopicRecorder } from '../../apps/outbox-relay/test/relay.harness';
import { relayMetrics } from '@event-spine/relay';

type Entry = Record<string, unknown>;
interface Row {
  id: string;
  topic: string;
  key: string;
}

// Rows Kafka will not take while kafkajs calls the error retriable: a topic nobody created (kafkajs would retry it for
// ever, with every bucket behind it), or a refusal that lasts. Only the row's own bucket may wait.
describe('outbox relay: a row Kafka does not take holds back only its bucket', () => {
  let svc: CommandServiceHarness;
  let admin: Admin;
  let recorder: TopicRecorder;
  const lateRecorders: TopicRecorder[] = [];
  const relays: RelayUnderTest[] = [];
  const created: string[] = [];
  let existing: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    const topics = await svc.topicsReady();
    recorder = await TopicRecorder.start(testKafka(), topics);
    admin = testKafka().admin();
    await admin.connect();
    existing = `${svc.topicPrefix}spine.account.events`;
  });
  afterEach(async () => {
    // Each case has a relay of its own (owning every bucket, so its log and metrics see everything).
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await Promise.all(lateRecorders.map((r) => r.stop()));
    await recorder.stop();
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
    await svc.stop();
  });

  async function startRelay(options: Partial<RelayOptions> = {}) {
    const log: { error: Entry[]; warn: Entry[]; info: Entry[] } = { error: [], warn: [], info: [] };
    const metrics = new Metrics('outbox-relay');
    const relay = await RelayUnderTest.start(svc.schema.name, {
      observer: relayMetrics(metrics),
      log: {
        info: (e: Entry) => log.info.push(e),
        warn: (e: Entry) => log.warn.push(e),
        error: (e: Entry) => log.error.push(e),
      },
      ...options,
    });
    relays.push(relay);
    await waitFor(() => relay.relay.ownedBuckets.length === 64, { message: 'the relay owning every bucket' });
    /** The value Prometheus would scrape for the metric with this reason label. */
    const metric = async (name: string, reason: string) => {
      const line = (await metrics.registry.metrics())
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && l.includes(`reason="${reason}"`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    return { relay, log, metric };
  }

  const bucketOf = async (key: string) =>
    (await svc.db.query<{ b: number }>(`SELECT ((hashtext($1) % 64) + 64) % 64 AS b`, [key])).rows[0].b;
  /** A subject key of its own in the bucket, or (`outside`) in none of the buckets listed. */
  const keyIn = async (buckets: number[], outside = false) => {
    for (;;) {
      const key = `tenant-a:subject-${randomUUID()}`;
      if (buckets.includes(await bucketOf(key)) !== outside) return key;
    }
  };
  /** Rows of subjects in buckets other than those given, one bucket each. */
  const rowsElsewhere = async (n: number, taken: number[]) => {
    const rows: Row[] = [];
    const buckets = [...taken];
    for (let i = 0; i < n; i++) {
      const key = await keyIn(buckets, true);
      buckets.push(await bucketOf(key));
      rows.push(row(existing, key));
    }
    return rows;
  };
  const row = (topic: string, key: string): Row => ({ id: randomUUID(), topic, key });
  /** In one transaction: the relay reads them in this order, in one batch. */
  const insert = async (...rows: Row[]) => {
    const client = await svc.db.connect();
    try {
      await client.query('BEGIN');
      for (const r of rows)
        await client.query(
          `INSERT INTO outbox (event_id, topic, message_key, headers, value) VALUES ($1, $2, $3, $4, $5)`,
          [r.id, r.topic, r.key, { 'event-id': r.id }, JSON.stringify({ id: r.id })],
        );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  const behindCursor = async (eventId: string) =>
    (
      await svc.db.query<{ behind: boolean }>(
        `SELECT (o.tx_id, o.position) > (c.tx_id, c.position) AS behind
           FROM outbox o JOIN relay_cursor c ON c.bucket = o.bucket WHERE o.event_id = $1`,
        [eventId],
      )
    ).rows[0]?.behind;
  const createTopic = async (topic: string) => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    created.push(topic);
    const late = await TopicRecorder.start(testKafka(), [topic]);
    lateRecorders.push(late);
    return late;
  };
  const firstSeen = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) === i);

  it('a missing topic: the row is narrowed down, named, held back without the topic being created, and published in order once it exists', async () => {
    const { relay, log, metric } = await startRelay();
    const missing = `${svc.topicPrefix}spine.not-created-yet.events`;
    // Bucket A: two events of one subject for the missing topic, then another subject's event for an existing one.
    const keyA = await keyIn([], true);
    const bucketA = await bucketOf(keyA);
    const [a1, a2, a3] = [row(missing, keyA), row(missing, keyA), row(existing, await keyIn([bucketA]))];
    // Other buckets, interleaved: the first batch mixes them all, and no topic has taken a row yet, so the relay
    // cannot tell which one is missing and narrows the batch down.
    const flowing = await rowsElsewhere(3, [bucketA]);
    const writtenAt = Date.now();
    await insert(a1, flowing[0], a2, flowing[1], a3, flowing[2]);

    // The other buckets are published promptly (a few failed sends to narrow the batch down, not a stall)...
    await recorder.waitForEvents(
      flowing.map((r) => r.id),
      20000,
    );
    const flowedAfterMs = Date.now() - writtenAt;
    // ...while the row for the missing topic is held back, and named: event id, topic, bucket, Kafka's error.
    const named = await waitFor(() => log.error.find((e) => e.eventId === a1.id && e.reason === 'unknown-topic'), {
      message: 'the held-back row named in the error log',
    });
    expect(named).toMatchObject({
      message: expect.stringMatching(/held back/),
      topic: missing,
      bucket: bucketA,
      key: keyA,
      error: expect.stringMatching(/does not host this topic-partition|Unknown topic/),
    });
    expect(await metric('spine_relay_held_buckets', 'unknown-topic')).toBe(1);
    expect(await metric('spine_relay_held_back_total', 'unknown-topic')).toBe(1);
    expect(await metric('spine_relay_held_buckets', 'refused')).toBe(0);

    // Other buckets keep flowing while it is held and retried.
    const [later] = await rowsElsewhere(1, [bucketA]);
    const laterAt = Date.now();
    await insert(later);
    await recorder.waitForEvents([later.id], 10000);
    const laterAfterMs = Date.now() - laterAt;
    await waitFor(() => log.warn.some((e) => e.eventId === a1.id && e.reason === 'unknown-topic'), {
      message: 'a retry of the held-back row',
    });
    // Held, not skipped: bucket A's rows are all behind its cursor, none on Kafka; and the retries did not create
    // the topic.
    for (const r of [a1, a2, a3]) expect(await behindCursor(r.id)).toBe(true);
    expect(recorder.eventIds()).not.toContain(a3.id);
    expect(await admin.listTopics()).not.toContain(missing);
    process.stderr.write(
      `[relay missing topic] other buckets published ${flowedAfterMs} ms after the write; while held, ${laterAfterMs} ms\n`,
    );

    // The topic is created: the held row and those behind it in bucket A go out, in order.
    const late = await createTopic(missing);
    await late.waitForEvents([a1.id, a2.id], 45000);
    await recorder.waitForEvents([a3.id], 10000);
    expect(firstSeen(late.messages.filter((m) => m.key === keyA).map((m) => m.headers['event-id']))).toEqual([
      a1.id,
      a2.id,
    ]);
    await waitFor(async () => (await metric('spine_relay_held_buckets', 'unknown-topic')) === 0, {
      message: 'the bucket no longer held back',
    });
    expect(log.info).toContainEqual(
      expect.objectContaining({ eventId: a1.id, message: expect.stringMatching(/flows again/) }),
    );
    await waitFor(async () => (await behindCursor(a3.id)) !== true, { message: 'bucket A’s cursor past its rows' });

    // Nothing lost; anything twice only as the relay's at-least-once allows (counted re-sends).
    const everything = [...recorder.eventIds(), ...late.eventIds()];
    const expected = [a1, a2, a3, ...flowing, later].map((r) => r.id);
    for (const id of expected) expect(everything).toContain(id);
    const copies = expected.reduce((n, id) => n + everything.filter((e) => e === id).length, 0);
    expect(copies - expected.length).toBeLessThanOrEqual(relay.counts.resent);
  });

  it('a missing topic next to topics that took rows before is blamed from one failed send, without narrowing', async () => {
    const { relay, log } = await startRelay();
    const [warm] = await rowsElsewhere(1, []);
    await insert(warm);
    await recorder.waitForEvents([warm.id]);

    const missing = `${svc.topicPrefix}spine.also-not-created.events`;
    const keyC = await keyIn([], true);
    const bucketC = await bucketOf(keyC);
    const c1 = row(missing, keyC);
    const flowing = await rowsElsewhere(4, [bucketC]);
    const failuresBefore = relay.counts.failures;
    await insert(flowing[0], c1, ...flowing.slice(1));
    await recorder.waitForEvents(
      flowing.map((r) => r.id),
      15000,
    );
    expect(relay.counts.failures - failuresBefore).toBe(1);
    expect(log.warn).toContainEqual(
      expect.objectContaining({ topic: missing, message: expect.stringMatching(/topic/) }),
    );
    expect(log.error).toContainEqual(
      expect.objectContaining({ eventId: c1.id, bucket: bucketC, topic: missing, reason: 'unknown-topic' }),
    );
    expect(relay.counts.held).toMatchObject({ 'unknown-topic': 1 });

    // A held row deleted by hand (an operator's decision, not the relay's) frees its bucket.
    await svc.db.query(`DELETE FROM outbox WHERE event_id = $1`, [c1.id]);
    await waitFor(() => log.info.some((e) => e.eventId === c1.id && /gone/.test(String(e.message))), {
      message: 'the bucket released once its held row is gone',
    });
    expect(relay.counts.held).toMatchObject({ 'unknown-topic': 0 });
  });

  it('a row Kafka keeps refusing as retriable: held back once the bound has passed, published when Kafka takes it', async () => {
    const boundMs = 1500;
    const { relay, log, metric } = await startRelay({ retriableBoundMs: boundMs });
    const keyR = await keyIn([], true);
    const bucketR = await bucketOf(keyR);
    // A single broker cannot be made to refuse one partition for a while (it caps min.insync.replicas at the
    // replication factor), so the producer refuses this subject's rows the way kafkajs reports it after its retries.
    let refusing = true;
    const send = relay.producer.send.bind(relay.producer);
    relay.producer.send = async (messages) => {
      const hit = messages.some((m) => m.key === keyR);
      if (!refusing || !hit) return send(messages);
      await new Promise((r) => setTimeout(r, 200));
      const noReplicas = new KafkaJSProtocolError(
        Object.assign(new Error('Messages are rejected since there are fewer in-sync replicas than required'), {
          type: 'NOT_ENOUGH_REPLICAS',
          code: 19,
          retriable: true,
        }),
      );
      throw new KafkaJSNumberOfRetriesExceeded(noReplicas, { retryCount: 5, retryTime: 200 });
    };

    const [r1, r2] = [row(existing, keyR), row(existing, keyR)];
    const flowing = await rowsElsewhere(3, [bucketR]);
    const writtenAt = Date.now();
    await insert(r1, flowing[0], flowing[1], r2, flowing[2]);

    await recorder.waitForEvents(
      flowing.map((r) => r.id),
      15000,
    );
    // Retried first as Kafka's passing trouble (everything waits), then narrowed down and only its bucket held (the
    // other buckets' rows may go out in the narrowing's steps before the one that isolates it).
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(boundMs);
    await waitFor(() => log.error.some((e) => e.eventId === r1.id), { message: 'the refused row held back' });
    expect(log.error).toContainEqual(
      expect.objectContaining({
        eventId: r1.id,
        bucket: bucketR,
        key: keyR,
        reason: 'retrying-too-long',
        error: expect.stringMatching(/in-sync replicas/),
      }),
    );
    expect(await metric('spine_relay_held_buckets', 'retrying-too-long')).toBe(1);
    expect(recorder.eventIds()).not.toContain(r1.id);
    expect(await behindCursor(r1.id)).toBe(true);

    refusing = false;
    await recorder.waitForEvents([r1.id, r2.id], 20000);
    expect(firstSeen(recorder.messages.filter((m) => m.key === keyR).map((m) => m.headers['event-id']))).toEqual([
      r1.id,
      r2.id,
    ]);
    await waitFor(async () => (await metric('spine_relay_held_buckets', 'retrying-too-long')) === 0, {
      message: 'the bucket no longer held back',
    });
  });
});
