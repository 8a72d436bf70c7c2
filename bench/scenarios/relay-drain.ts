import { createMessageProducer, KAFKA_CLIENTS, type KafkaClientName } from '@event-spine/kafka';
import { enqueueOutbox, type Queryable } from '@event-spine/outbox';
import { RELAY_DEFAULT_COMPRESSION_FROM } from '@event-spine/relay';
import { benchConfig } from '../lib/config';
import { Deployment, kafka, kafkaBrokers, RUN_ID, schemaPool } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { Scrape } from '../lib/metrics';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '3. Relay backlog drain';
/** Messages generated per step while filling (generation is never inside a timed section). */
const CHUNK = 10_000;

/** The client the relay publishes with unless RELAY_KAFKA_CLIENT says otherwise (its config default). */
const RELAY_CLIENT: KafkaClientName = (process.env.RELAY_KAFKA_CLIENT as KafkaClientName | undefined) ?? 'platformatic';

/**
 * B_prod: a raw producer through the relay's own Kafka client port (same adapter, same settings: idempotent,
 * acks=-1, one request in flight), sending the same messages (the outbox writer's topic, key, headers, value) in
 * the relay's batch size, one batch after the other as the relay does. Only the sends are timed, and the process's
 * CPU over them. Measured for both adapters; B_prod is the one the relay runs with.
 */
async function rawProducerRate(d: Deployment, stream: EventStream, client: KafkaClientName) {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const rawTopic = `${d.topicPrefix}raw-${client}.spine.account.events`;
  await d.createTopics(admin, [rawTopic]);
  await admin.disconnect();
  const producer = createMessageProducer(client, k, {
    brokers: kafkaBrokers(),
    clientId: `${RUN_ID}-raw-${client}`,
    compression: { codec: benchConfig.relayCompression, fromMessages: RELAY_DEFAULT_COMPRESSION_FROM },
  });
  await producer.connect();
  let sendMs = 0;
  let cpuMicros = 0;
  try {
    for (let from = 0; from < stream.total; from += CHUNK) {
      const messages = stream
        .messages(d.topicPrefix, from, from + CHUNK)
        .map((m) => ({ topic: rawTopic, key: m.key, value: m.value, headers: m.headers }));
      for (let i = 0; i < messages.length; i += benchConfig.relayBatchSize) {
        const batch = messages.slice(i, i + benchConfig.relayBatchSize);
        const cpu = process.cpuUsage();
        const start = performance.now();
        await producer.send(batch);
        sendMs += performance.now() - start;
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return {
    client,
    messages: stream.total,
    batch: benchConfig.relayBatchSize,
    seconds: round(sendMs / 1000, 2),
    rate: round(stream.total / (sendMs / 1000)),
    cpuMsPer1000: round(cpuMicros / stream.total, 1),
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

  const producers = [];
  for (const client of KAFKA_CLIENTS) producers.push(await rawProducerRate(d, stream, client));
  const prod = producers.find((p) => p.client === RELAY_CLIENT)!;
  results.setBaseline({
    id: 'B_prod',
    value: prod.rate,
    unit: 'msg/s',
    how: `${prod.client} producer through the relay's client port (idempotent, acks=-1, 1 in flight), the outbox's messages, batches of ${prod.batch}, sequential`,
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
    ...producers.map((p) =>
      results.infoRow(
        '1. B_prod',
        `raw producer, relay settings, same messages: ${p.client}${p.client === RELAY_CLIENT ? ' (the relay’s client)' : ''}`,
        p.rate,
        'msg/s',
        `${p.cpuMsPer1000} CPU-ms per 1,000 messages in the sending process`,
      ),
    ),
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
        rawProducers: producers,
        relayClient: RELAY_CLIENT,
      },
      wallSeconds: (performance.now() - started) / 1000,
    },
  };
}
