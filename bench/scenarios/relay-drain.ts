import { enqueueOutbox, type Queryable } from '@event-spine/outbox';
import { benchConfig } from '../lib/config';
import { Deployment, kafka, schemaPool } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { relayLikeProducer, toTopicMessages } from '../lib/kafka';
import { Scrape } from '../lib/metrics';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '3. Relay backlog drain';
/** Messages generated per step while filling (generation is never inside a timed section). */
const CHUNK = 10_000;

/**
 * B_prod: the raw kafkajs producer with the relay's settings, sending the same messages (the outbox writer's
 * topic, key, headers, value) in the relay's batch size, one batch after the other as the relay does. Only the
 * sendBatch calls are timed.
 */
async function rawProducerRate(d: Deployment, stream: EventStream) {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const rawTopic = `${d.topicPrefix}raw.spine.account.events`;
  await d.createTopics(admin, [rawTopic]);
  await admin.disconnect();
  const producer = relayLikeProducer(k);
  await producer.connect();
  let sendMs = 0;
  try {
    for (let from = 0; from < stream.total; from += CHUNK) {
      const messages = stream.messages(d.topicPrefix, from, from + CHUNK);
      for (let i = 0; i < messages.length; i += benchConfig.relayBatchSize) {
        const topicMessages = toTopicMessages(messages.slice(i, i + benchConfig.relayBatchSize), () => rawTopic);
        const start = performance.now();
        await producer.sendBatch({ topicMessages, acks: -1 });
        sendMs += performance.now() - start;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return {
    messages: stream.total,
    batch: benchConfig.relayBatchSize,
    seconds: round(sendMs / 1000, 2),
    rate: round(stream.total / (sendMs / 1000)),
  };
}

/** Fills the outbox with SQL through the outbox writer's own statement, as commands would have, relay stopped. */
async function fillOutbox(d: Deployment, stream: EventStream) {
  const pool = schemaPool(d.commandSchema, 2);
  const db: Queryable = {
    query: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T,
  };
  const start = performance.now();
  try {
    for (let from = 0; from < stream.total; from += 2000)
      await enqueueOutbox(db, stream.messages(d.topicPrefix, from, from + 2000));
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox`);
    if (rows[0].n !== stream.total) throw new Error(`outbox holds ${rows[0].n} rows, expected ${stream.total}`);
  } finally {
    await pool.end();
  }
  return round((performance.now() - start) / 1000, 1);
}

/**
 * Scenario 3: a backlog of outbox rows, then the relay process starts; time until it has published them all. The rate
 * is taken between the first and the last sample of relay_cursor.published (every 100 ms), so process start-up and
 * the group of buckets being taken are not in it.
 */
export async function relayDrain(
  results: Results,
): Promise<{ scenario: ScenarioResult; deployment: Deployment; stream: EventStream }> {
  const started = performance.now();
  const d = await Deployment.create('relay');
  await d.migrateCommandSchema();
  const stream = new EventStream('relay', benchConfig.relayDrain.rows, benchConfig.relayDrain.eventsPerAccount);

  const prod = await rawProducerRate(d, stream);
  results.setBaseline({
    id: 'B_prod',
    value: prod.rate,
    unit: 'msg/s',
    how: `kafkajs producer with the relay's settings (idempotent, acks=-1, 1 in flight), the outbox's messages, batches of ${prod.batch}, sequential`,
  });

  const fillSeconds = await fillOutbox(d, stream);
  const pool = schemaPool(d.commandSchema, 1);
  const samples: { at: number; published: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await pool
        .query<{ n: string | null }>(`SELECT sum(published)::text AS n FROM relay_cursor`)
        .catch(() => ({ rows: [{ n: null }] }));
      samples.push({ at: performance.now(), published: Number(rows[0]?.n ?? 0) });
      if (samples.at(-1)!.published >= stream.total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const spawnedAt = performance.now();
  const relay = await d.start('outbox-relay', { RELAY_BATCH_SIZE: String(benchConfig.relayBatchSize) });
  const timeout = setTimeout(() => (sampling = false), 600_000);
  await sampler;
  clearTimeout(timeout);
  sampling = false;
  await pool.end();
  const scrape = await Scrape.of(relay.url);
  await d.stop('outbox-relay');

  const first = samples.find((s) => s.published > 0);
  const last = samples.at(-1);
  if (!first || !last || last.published < stream.total) {
    throw new Error(`the relay published ${last?.published ?? 0} of ${stream.total} rows within the time limit`);
  }
  const rate = (last.published - first.published) / ((last.at - first.at) / 1000);
  const rows = [
    results.ratioRow(
      SCENARIO,
      `drain rate, ${stream.total.toLocaleString('en')} rows`,
      round(rate),
      'msg/s',
      'B_prod',
      0.7,
    ),
    results.infoRow('1. B_prod', 'raw producer, relay settings, same messages', prod.rate, 'msg/s'),
  ];
  return {
    deployment: d,
    stream,
    scenario: {
      id: 'relay-drain',
      title: SCENARIO,
      rows,
      details: {
        rows: stream.total,
        batchSize: benchConfig.relayBatchSize,
        outboxFillSeconds: fillSeconds,
        secondsFromProcessStart: round((last.at - spawnedAt) / 1000, 2),
        secondsFirstToLastPublish: round((last.at - first.at) / 1000, 2),
        published: last.published,
        relayMetrics: {
          published: scrape.value('spine_relay_published_total'),
          backlog: scrape.value('spine_relay_backlog'),
          errors: scrape.value('spine_relay_publish_errors_total'),
        },
        rawProducer: prod,
      },
      wallSeconds: (performance.now() - started) / 1000,
    },
  };
}
