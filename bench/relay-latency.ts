/**
 * Commit-to-Kafka latency of the outbox relay under light load (issue: promptness without a fixed polling delay).
 *
 *   npm run bench:relay-latency            (starts what it needs; writes bench/results/relay-latency.json)
 *
 * Sends commands one at a time with a pause between them (light load), against the real command service and relay
 * processes, and measures for each event: HTTP 201 received → message consumed from Kafka (an upper bound of
 * commit → publish, since the commit happens before the 201). Also reports the relay's own commit-to-ack histogram.
 */
import { Partitioners } from 'kafkajs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { provideInfrastructure, testKafka, waitFor } from '../libs/testing/src';
import { TopicRecorder } from '../apps/outbox-relay/test/relay.harness';
import { call, metric, Pipeline, token } from '../test/support/pipeline';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 300);
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 20);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** p50/p90/p99 upper bounds (ms) from a Prometheus histogram's cumulative buckets. */
async function histogramPercentiles(base: string, name: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({
      le: Number(/le="([^"]+)"/.exec(l)?.[1] ?? 'Infinity'),
      n: Number(l.slice(l.lastIndexOf(' ') + 1)),
    }));
  const total = buckets.at(-1)?.n ?? 0;
  const at = (p: number) => (buckets.find((b) => b.n >= (p / 100) * total)?.le ?? NaN) * 1000;
  const sum = await metric(base, `${name}_sum`);
  return {
    count: total,
    meanMs: total ? (sum / total) * 1000 : NaN,
    p50AtMost: at(50),
    p90AtMost: at(90),
    p99AtMost: at(99),
  };
}

/** Baseline in the same run: a bare idempotent kafkajs send of one ~500 B message, acks=-1, one at a time. */
async function rawSendAckMs(topic: string, n = 200) {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = testKafka().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await producer.send({ topic, acks: -1, messages: [{ key: `raw-${i % 7}`, value: 'x'.repeat(500) }] });
    times.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  await producer.disconnect();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p90: percentile(times, 90), p99: percentile(times, 99) };
}

async function main(): Promise<void> {
  const infra = await provideInfrastructure();
  process.env.DATABASE_URL = infra.databaseUrl;
  process.env.KAFKA_BROKERS = infra.kafkaBrokers;
  const pipeline = await Pipeline.create();
  try {
    const commands = await pipeline.start('command-service', { LOG_LEVEL: 'warn' });
    const relay = await pipeline.start('outbox-relay', { LOG_LEVEL: 'warn' });
    const recorder = await TopicRecorder.start(testKafka(), pipeline.topics);
    const raw = await rawSendAckMs(`${pipeline.topicPrefix}bench.raw`);
    const arrivals = new Map<string, number>();
    const seen = recorder.messages;
    const bearer = await token();
    const opened = await call(commands.url, 'POST', '/v1/accounts', bearer, { ownerName: 'Bench', currency: 'EUR' });
    const accountId = opened.body.accountId as string;
    await waitFor(() => seen.length >= 1, { timeoutMs: 30000, message: 'first event' });

    const sentAt = new Map<number, number>(); // sequence -> time of the 201
    for (let i = 0; i < COMMANDS; i++) {
      const res = await call(commands.url, 'POST', `/v1/accounts/${accountId}/deposits`, bearer, { amount: 1 });
      sentAt.set(res.body.sequence as number, performance.now());
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      for (const m of seen) if (!arrivals.has(m.headers.sequence)) arrivals.set(m.headers.sequence, m.arrivedAt);
    }
    await waitFor(() => seen.length >= COMMANDS + 1, { timeoutMs: 30000, message: 'all events' });
    for (const m of seen) if (!arrivals.has(m.headers.sequence)) arrivals.set(m.headers.sequence, m.arrivedAt);

    const latencies = [...sentAt]
      .map(([seq, t]) => (arrivals.get(String(seq)) ?? NaN) - t)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    const report = {
      scenario: 'relay commit-to-consume latency, light load',
      commands: COMMANDS,
      pauseMs: PAUSE_MS,
      httpOkToConsumedMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
      },
      relayCommitToAckMs: await histogramPercentiles(relay.url, 'spine_relay_commit_to_ack_seconds'),
      baselineRawKafkaSendAckMs: raw,
      targets: { p50Ms: 5, p99Ms: 25 },
      note: 'HTTP 201 → consumed includes consumer fetch latency; the relay histogram measures row insert → Kafka ack.',
    };
    Object.assign(report, {
      ratios: {
        httpOkToConsumedP50OverRawSendP50: report.httpOkToConsumedMs.p50 / raw.p50,
        httpOkToConsumedP99OverRawSendP99: report.httpOkToConsumedMs.p99 / raw.p99,
      },
    });
    writeFileSync(resolve(__dirname, 'results/relay-latency.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    await recorder.stop();
  } finally {
    await pipeline.stop();
    await infra.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
