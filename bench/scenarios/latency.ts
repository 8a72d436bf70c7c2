import { benchConfig } from '../lib/config';
import type { Pool } from 'pg';
import { kafka, RUN_ID } from '../lib/deployment';
import { openLoop, type CommandResult } from '../lib/http-load';
import { kafkaBrokerPid } from '../lib/machine';
import { EventStream } from '../lib/events';
import { relayLikeProducer } from '../lib/kafka';
import { Scrape } from '../lib/metrics';
import { timeUntil } from '../lib/pipeline-watch';
import { UsageSampler, type ProcessUsage } from '../lib/proc';
import type { Results, ScenarioResult } from '../lib/results';
import { cdf, histogramCdf, histogramDelta, histogramSummary, round, shareAtOrBelow, summarize } from '../lib/stats';
import type { CommandBench } from './commands';

const RELAY_HISTOGRAM = 'spine_relay_commit_to_ack_seconds';
const PROJECTOR_HISTOGRAM = 'spine_projector_commit_to_projection_seconds';

/**
 * Records when each account's event arrives on Kafka, via a consumer group of its own that starts at the topics'
 * end: the client-side view of commit → publish (HTTP 201 received → message consumed).
 */
async function arrivalRecorder(topics: string[]) {
  const arrivals = new Map<string, number>();
  const consumer = kafka(`${RUN_ID}-latency`).consumer({
    groupId: `${RUN_ID}-latency-recorder`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  let joined: () => void = () => undefined;
  const hasJoined = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const subject = m.headers?.['subject-id']?.toString();
        if (subject && !arrivals.has(subject)) arrivals.set(subject, now);
      }
    },
  });
  await hasJoined;
  // The first fetch positions the new group at the end; give it a moment before the measured traffic starts.
  await new Promise((r) => setTimeout(r, 1500));
  return { arrivals, stop: () => consumer.disconnect() };
}

/**
 * Polls the projector's read model for the accounts whose 201 arrived: the client-side view of end-to-end latency
 * (HTTP 2xx → read-model row visible). One indexed query every `pollIntervalMs` on one connection, so the poller
 * costs the database little; its resolution is that interval plus a query.
 */
function visibilityPoller(pool: Pool, pollIntervalMs: number) {
  const waiting = new Map<string, number>();
  const visible = new Map<string, number>();
  let running = true;
  let polls = 0;
  const loop = (async () => {
    while (running || waiting.size > 0) {
      if (waiting.size > 0) {
        const issuedAt = performance.now();
        const { rows } = await pool.query<{ account_id: string }>(
          `SELECT account_id FROM account_balances WHERE tenant_id = $1 AND account_id = ANY($2::text[])`,
          [benchConfig.tenantId, [...waiting.keys()]],
        );
        polls++;
        // The row was visible in the snapshot taken when the query was issued.
        for (const r of rows) {
          waiting.delete(r.account_id);
          visible.set(r.account_id, issuedAt);
        }
      }
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
  })();
  return {
    visible,
    expect: (accountId: string) => waiting.set(accountId, performance.now()),
    outstanding: () => waiting.size,
    polls: () => polls,
    async stop(timeoutMs: number) {
      await timeUntil(async () => waiting.size === 0, timeoutMs, 50);
      running = false;
      waiting.clear();
      await loop;
      await pool.end();
    },
  };
}

/**
 * The latency baseline, in the same run: one bare kafkajs send with the relay's producer settings (idempotent,
 * acks=-1) of one outbox-sized message at a time, with a short pause between sends: the least a publish can take here.
 */
async function rawSendLatency(topic: string, count: number) {
  const k = kafka(`${RUN_ID}-raw-send`);
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: benchConfig.partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = relayLikeProducer(k);
  await producer.connect();
  const stream = new EventStream('raw-send', count, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const [m] = stream.messages('', i, i + 1);
      const start = performance.now();
      await producer.send({ topic, acks: -1, messages: [{ key: m.key, value: m.value, headers: m.headers }] });
      times.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await producer.disconnect();
  }
  return summarize(times);
}

export async function halfLoad(results: Results, bench: CommandBench): Promise<ScenarioResult[]> {
  const started = performance.now();
  const send = await rawSendLatency(`${bench.deployment.topicPrefix}raw.send`, benchConfig.halfLoad.rawSends);
  const how = `one kafkajs send (relay settings: idempotent, acks=-1) of one outbox message at a time, ${send.count} sends`;
  results.setBaseline({ id: 'B_send_p50', value: round(send.p50, 2), unit: 'ms', how: `p50 of ${how}` });
  results.setBaseline({ id: 'B_send_p99', value: round(send.p99, 2), unit: 'ms', how: `p99 of ${how}` });
  const { deployment, client } = bench;
  const rate = benchConfig.halfLoad.rate || bench.sustainableRate / 2;
  const { durationMs, maxInFlight, pollIntervalMs } = benchConfig.halfLoad;
  const relay = deployment.service('outbox-relay');
  const projector = deployment.service('projector');
  const commandService = deployment.service('command-service');

  const recorder = await arrivalRecorder(deployment.topics);
  const poller = visibilityPoller(deployment.projectorPool(1), pollIntervalMs);
  const [relayBefore, projectorBefore] = await Promise.all([Scrape.of(relay.url), Scrape.of(projector.url)]);
  const broker = kafkaBrokerPid();
  const sampler = new UsageSampler([
    { name: 'command-service', pid: commandService.child.pid! },
    { name: 'outbox-relay', pid: relay.child.pid! },
    { name: 'projector', pid: projector.child.pid! },
    ...(broker ? [{ name: 'kafka broker (shared)', pid: broker }] : []),
    { name: 'bench client (load generator)', pid: process.pid },
  ]);
  const done: CommandResult[] = [];
  const load = await openLoop(client, rate, durationMs, maxInFlight, (r) => {
    bench.count(r);
    if (!r.ok) return;
    done.push(r);
    poller.expect(r.accountId);
  });
  const usage = sampler.stop();
  await poller.stop(30_000);
  await timeUntil(async () => done.every((r) => recorder.arrivals.has(r.accountId)), 10_000, 50);
  await recorder.stop();
  const [relayAfter, projectorAfter] = await Promise.all([Scrape.of(relay.url), Scrape.of(projector.url)]);

  const consumed = done.filter((r) => recorder.arrivals.has(r.accountId));
  const toConsumed = consumed.map((r) => recorder.arrivals.get(r.accountId)! - r.doneAt);
  const toVisible = done
    .filter((r) => poller.visible.has(r.accountId))
    .map((r) => poller.visible.get(r.accountId)! - r.doneAt);
  const relayHist = histogramDelta(relayAfter.histogram(RELAY_HISTOGRAM), relayBefore.histogram(RELAY_HISTOGRAM));
  const projHist = histogramDelta(
    projectorAfter.histogram(PROJECTOR_HISTOGRAM),
    projectorBefore.histogram(PROJECTOR_HISTOGRAM),
  );
  const consumedSummary = summarize(toConsumed);
  const visibleSummary = summarize(toVisible);
  const relaySummary = histogramSummary(relayHist);
  const relayShare5 = shareAtOrBelow(relayHist, 5);
  const relayShare25 = shareAtOrBelow(relayHist, 25);

  // Scenario 4's targets sit on the relay's histogram: that is the figure they are judged on.
  results.cdfs.push(
    { name: '4. HTTP 201 → consumed from Kafka (client)', points: cdf(toConsumed) },
    {
      name: '4. outbox row written → Kafka ack (relay histogram, bucket bounds)',
      points: histogramCdf(relayHist),
      targets: [
        { ms: 5, q: 0.5 },
        { ms: 25, q: 0.99 },
      ],
    },
    {
      name: '5. HTTP 201 → read-model row visible (client)',
      points: cdf(toVisible),
      targets: [
        { ms: 10, q: 0.5 },
        { ms: 50, q: 0.99 },
      ],
    },
  );

  const loadDetails = {
    targetRate: round(rate),
    achievedRate: round(load.rate),
    ok: load.ok,
    failed: load.failed,
    skippedAtMaxInFlight: load.skipped,
    seconds: round(load.wallMs / 1000, 1),
    clientCores: round(load.clientCores, 2),
  };
  // The relay's histogram starts at the outbox INSERT (before the commit) and ends after the cursor UPDATE that
  // follows the ack, so it overstates commit → ack by about two commits; the client-side figure has the opposite
  // biases (the 201 comes after the commit, the consumer fetch after the ack). Judged on the conservative one.
  const relayEstNote =
    `relay histogram (row INSERT → ack + cursor update): ${round(relayShare5 * 100)}% ≤ 5 ms, ` +
    `${round(relayShare25 * 100)}% ≤ 25 ms, percentiles interpolated within buckets; client-side HTTP 201 → consumed: ` +
    `p50 ${round(consumedSummary.p50)} ms, p99 ${round(consumedSummary.p99)} ms`;
  const scenario4: ScenarioResult = {
    id: 'publish-latency',
    title: '4. Commit-to-publish latency at half load',
    rows: [
      results.infoRow('1. B_send', 'raw Kafka send → ack, one message at a time, p50', round(send.p50, 2), 'ms'),
      results.infoRow('1. B_send', 'raw Kafka send → ack, one message at a time, p99', round(send.p99, 2), 'ms'),
      {
        ...results.against(
          results.maxRow(
            '4. Commit → publish',
            'p50 (relay: row written → Kafka ack)',
            round(relaySummary.p50EstMs),
            'ms',
            5,
            relayEstNote,
          ),
          'B_send_p50',
        ),
        met: Number.isFinite(relayShare5) ? relayShare5 >= 0.5 : undefined,
      },
      {
        ...results.against(
          results.maxRow(
            '4. Commit → publish',
            'p99 (relay: row written → Kafka ack)',
            round(relaySummary.p99EstMs),
            'ms',
            25,
            relayEstNote,
          ),
          'B_send_p99',
        ),
        met: Number.isFinite(relayShare25) ? relayShare25 >= 0.99 : undefined,
      },
      results.against(
        results.infoRow(
          '4. Commit → publish',
          'p50 HTTP 201 → consumed (client)',
          round(consumedSummary.p50),
          'ms',
          'includes the consumer fetch; the 201 comes after the commit',
        ),
        'B_send_p50',
      ),
      results.against(
        results.infoRow('4. Commit → publish', 'p99 HTTP 201 → consumed (client)', round(consumedSummary.p99), 'ms'),
        'B_send_p99',
      ),
    ],
    details: {
      load: loadDetails,
      rawSendMs: send,
      relayCommitToAckMs: { ...relaySummary, shareAtOrBelow5ms: relayShare5, shareAtOrBelow25ms: relayShare25 },
      httpOkToConsumedMs: consumedSummary,
      consumedOf: `${consumed.length} of ${done.length}`,
    },
    wallSeconds: 0,
  };
  const scenario5: ScenarioResult = {
    id: 'e2e-latency',
    title: '5. End-to-end latency at half load',
    rows: [
      results.against(
        results.maxRow(
          '5. HTTP 2xx → row visible',
          'p50',
          round(visibleSummary.p50),
          'ms',
          10,
          `client-side, read-model polled every ${pollIntervalMs} ms (${poller.polls()} polls)`,
        ),
        'B_send_p50',
      ),
      results.against(
        results.maxRow('5. HTTP 2xx → row visible', 'p99', round(visibleSummary.p99), 'ms', 50),
        'B_send_p99',
      ),
      results.infoRow('5. HTTP 2xx → row visible', 'p99.9 (guide: ≤ 150 ms)', round(visibleSummary.p999), 'ms'),
      results.infoRow(
        '5. HTTP 2xx → row visible',
        'p50 projector recordedAt → read-model commit (histogram)',
        round(histogramSummary(projHist).p50EstMs),
        'ms',
      ),
    ],
    details: {
      load: loadDetails,
      httpOkToVisibleMs: visibleSummary,
      visibleOf: `${toVisible.length} of ${done.length}`,
      projectorRecordedToCommitMs: histogramSummary(projHist),
    },
    wallSeconds: 0,
  };
  const byName = (name: string): ProcessUsage | undefined => usage.processes.find((p) => p.name === name);
  const relayCores = byName('outbox-relay')?.cores ?? NaN;
  const projectorCores = byName('projector')?.cores ?? NaN;
  const scenario7: ScenarioResult = {
    id: 'resources',
    title: '7. Resource use at half load',
    rows: [
      results.maxRow(
        '7. Resources',
        'relay + projector CPU',
        round(relayCores + projectorCores, 2),
        'cores',
        0.5,
        `relay ${round(relayCores, 2)}, projector ${round(projectorCores, 2)} over ${round(usage.wallSeconds)} s at ${round(load.rate)} cmd/s`,
      ),
      ...usage.processes.flatMap((p) => [
        results.infoRow('7. Resources', `${p.name}: CPU`, round(p.cores, 2), 'cores'),
        results.infoRow(
          '7. Resources',
          `${p.name}: memory (RSS, max over the window)`,
          round(p.rssMiBMax),
          'MiB',
          `average ${round(p.rssMiBAvg)} MiB, peak since the process started ${round(p.hwmMiB)} MiB (VmHWM)`,
        ),
      ]),
      results.infoRow(
        '7. Resources',
        'whole machine busy (all processes, shared)',
        round(usage.machineBusyCores, 2),
        'cores',
      ),
    ],
    details: { usage },
    wallSeconds: 0,
  };
  const wall = (performance.now() - started) / 1000;
  scenario4.wallSeconds = wall;
  return [scenario4, scenario5, scenario7];
}
