import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { Pool } from 'pg';
import type { KafkaClientName } from '@event-spine/kafka';
import { enqueueOutbox, OutboxSignal, outboxChannel, type OutboxMessage } from '@event-spine/outbox';
import { benchConfig } from '../lib/config';
import { ConnectStandalone, CONNECT_VERSION, DEBEZIUM_VERSION, ensureDebezium } from '../lib/debezium';
import { Deployment, kafka, kafkaBrokers, RUN_ID } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { timeUntil } from '../lib/pipeline-watch';
import { PrivateCluster } from '../lib/private-cluster';
import { cpuSeconds } from '../lib/proc';
import type { Results, Row, ScenarioResult } from '../lib/results';
import { cdf, round, summarize } from '../lib/stats';

const SCENARIO = '10. Relay vs Debezium';
const DBZ_SCHEMA = 'dbz';
const log = (message: string) =>
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}]   debezium: ${message}\n`);

/** One publisher under test: the relay or Debezium, with the outbox it reads and the topics it writes. */
interface Publisher {
  name: 'relay' | 'relay-kafkajs' | 'debezium';
  topicPrefix: string;
  topics: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The publisher's own process (the relay's Node.js process, Connect's JVM). */
  pid(): number | undefined;
  /** Writes `messages` into its outbox in one autocommit statement (what a command transaction writes). */
  insert(pool: Pool, messages: readonly OutboxMessage[]): Promise<void>;
}

/**
 * The consumer both publishers are measured with: kafkajs with the projector's consumer settings (eachBatch,
 * maxWaitTimeInMs 50), its own group, reading the publisher's topics. It notes when each event (by the envelope's id,
 * in the value both publish byte for byte) first arrives; duplicates (at-least-once) are not counted twice.
 */
class Arrivals {
  private arrivals = new Map<string, number>();
  firstAt = NaN;
  lastAt = NaN;

  private constructor(private readonly consumer: Consumer) {}

  static async start(topics: string[], name: string): Promise<Arrivals> {
    const consumer = kafka(`${RUN_ID}-${name}-consumer`).consumer({
      groupId: `${RUN_ID}-${name}-consumer`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
    });
    const a = new Arrivals(consumer);
    let joined: () => void = () => undefined;
    const hasJoined = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) a.arrived(m, now);
      },
    });
    await hasJoined;
    return a;
  }

  private arrived(m: KafkaMessage, now: number): void {
    const id = eventIdOf(m.value);
    if (id === undefined || this.arrivals.has(id)) return;
    this.arrivals.set(id, now);
    if (Number.isNaN(this.firstAt)) this.firstAt = now;
    this.lastAt = now;
  }

  /** Starts a new phase: forgets earlier arrivals. */
  reset(): void {
    this.arrivals = new Map();
    this.firstAt = NaN;
    this.lastAt = NaN;
  }

  get count(): number {
    return this.arrivals.size;
  }

  at(eventId: string): number | undefined {
    return this.arrivals.get(eventId);
  }

  async waitFor(expected: number, timeoutMs: number): Promise<void> {
    await timeUntil(async () => this.count >= expected, timeoutMs, 20);
    if (this.count < expected) throw new Error(`${this.count} of ${expected} events arrived within ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** The envelope's id: serializeEnvelope writes it first (`{"id":"<uuid>",…`), so no JSON parse per message. */
function eventIdOf(value: Buffer | null): string | undefined {
  if (!value) return undefined;
  if (value.toString('latin1', 0, 7) === '{"id":"') return value.toString('latin1', 7, 43);
  try {
    return (JSON.parse(value.toString()) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

/**
 * CPU of the publisher's process and of its PostgreSQL backends (every client backend and walsender of the private
 * cluster that is not the bench's own), sampled every 100 ms, so any window (first to last arrival) can be read off.
 */
class CpuTimeline {
  private readonly last = new Map<number, number>();
  private readonly samples: { at: number; cpu: Map<number, number> }[] = [];
  private backends: number[] = [];
  /** What each backend is (application name, or its type when unnamed), for the breakdown of the backends' CPU. */
  private readonly names = new Map<number, string>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly db: Pool,
    private readonly publisherPid: () => number | undefined,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let n = 0;
    while (this.running) {
      if (n++ % 3 === 0) {
        const { rows } = await this.db
          .query<{ pid: number; name: string }>(
            `SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS name FROM pg_stat_activity
              WHERE backend_type IN ('client backend', 'walsender') AND pid <> pg_backend_pid()
                AND coalesce(application_name, '') NOT LIKE $1`,
            [`${RUN_ID}%`],
          )
          .catch(() => ({ rows: [] as { pid: number; name: string }[] }));
        this.backends = rows.map((r) => r.pid);
        for (const r of rows) this.names.set(r.pid, r.name);
      }
      this.sample();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private sample(): void {
    const pid = this.publisherPid();
    for (const p of [...(pid ? [pid] : []), ...this.backends]) {
      const cpu = cpuSeconds(p);
      if (Number.isFinite(cpu)) this.last.set(p, cpu);
    }
    this.samples.push({ at: performance.now(), cpu: new Map(this.last) });
  }

  /** CPU seconds used between the last sample at or before `from` and the first at or after `to`. */
  cpuBetween(
    from: number,
    to: number,
  ): { cpuSeconds: number; publisherSeconds: number; seconds: number; backends: Record<string, number> } {
    this.sample();
    const start = [...this.samples].reverse().find((s) => s.at <= from) ?? this.samples[0];
    const end = this.samples.find((s) => s.at >= to) ?? this.samples[this.samples.length - 1];
    const publisher = this.publisherPid();
    let cpu = 0;
    let own = 0;
    const backends: Record<string, number> = {};
    for (const [pid, value] of end.cpu) {
      const used = value - (start.cpu.get(pid) ?? 0);
      cpu += used;
      if (pid === publisher) own += used;
      else {
        const name = this.names.get(pid) ?? 'backend';
        backends[name] = (backends[name] ?? 0) + used;
      }
    }
    return { cpuSeconds: cpu, publisherSeconds: own, seconds: (end.at - start.at) / 1000, backends };
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Figures {
  warmupRows: number;
  steady: {
    targetRate: number;
    achievedRate: number;
    transactions: number;
    consumed: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    cpuMsPer1000: number;
    cores: number;
  };
  /** Rows per round, rates over every round (rows / seconds, each summed), and each round's own rate. */
  burst: {
    rows: number;
    insertRate: number;
    backlogAtInsertEnd: number;
    deliveredRate: number;
    secondsFirstToLast: number;
    cpuMsPer1000: number;
    rounds: number[];
  };
  drain: {
    rows: number;
    startSeconds: number;
    rate: number;
    secondsFirstToLast: number;
    cpuMsPer1000: number;
    /** The publisher's own process only (the rest is its PostgreSQL backends). */
    processCpuMsPer1000: number;
    /** The backends' part, by application name (or backend type): where PostgreSQL's share goes. */
    backendsCpuMsPer1000: Record<string, number>;
    cores: number;
    rounds: number[];
  };
}

/** One round of a burst or a drain: first to last arrival, and the CPU spent meanwhile. */
interface Round {
  seconds: number;
  cpuSeconds: number;
  publisherSeconds: number;
  backends?: Record<string, number>;
  insertSeconds?: number;
  backlog?: number;
  /** Milliseconds from the publisher's spawn to the first arrival. */
  start?: number;
}

const rate = (rows: number, seconds: number) => round(rows / seconds, 1);

const sumOf = (rounds: readonly Round[], of: (r: Round) => number) => rounds.reduce((acc, r) => acc + of(r), 0);

function perBackend(rounds: readonly Round[], rows: number): Record<string, number> {
  const seconds = new Map<string, number>();
  for (const r of rounds)
    for (const [name, used] of Object.entries(r.backends ?? {})) seconds.set(name, (seconds.get(name) ?? 0) + used);
  return Object.fromEntries([...seconds].map(([name, used]) => [name, round((used * 1e6) / rows, 1)]));
}

/** Rounds of the same size taken together: rows over summed seconds, CPU over summed rows. */
function overRounds(rounds: readonly Round[], rowsPerRound: number) {
  const rows = rowsPerRound * rounds.length;
  const seconds = sumOf(rounds, (r) => r.seconds);
  const cpu = sumOf(rounds, (r) => r.cpuSeconds);
  return {
    rate: rate(rows, seconds),
    seconds: round(seconds, 2),
    cpuMsPer1000: round((cpu * 1e6) / rows, 1),
    processCpuMsPer1000: round((sumOf(rounds, (r) => r.publisherSeconds) * 1e6) / rows, 1),
    backendsCpuMsPer1000: perBackend(rounds, rows),
    cores: round(cpu / seconds, 3),
    rounds: rounds.map((r) => rate(rowsPerRound, r.seconds)),
  };
}

/** The three measured phases for one publisher, with the other one stopped. */
async function measure(p: Publisher, db: Pool, writers: Pool): Promise<{ figures: Figures; latencies: number[] }> {
  const cfg = benchConfig.debezium;
  const stream = new EventStream(
    `dbz-${p.name}`,
    (cfg.burstRows + cfg.drainRows) * cfg.rounds + 1_000_000,
    cfg.eventsPerAccount,
  );
  let next = 0;
  const take = (n: number) => {
    const messages = stream.messages(p.topicPrefix, next, next + n);
    next += n;
    return messages;
  };
  const arrivals = await Arrivals.start(p.topics, p.name);
  const cpu = new CpuTimeline(db, () => p.pid());
  try {
    await p.start();

    // Warm-up (JIT of both, connections, metadata): a few hundred rows, all delivered before anything is timed.
    const warmupRows = 500;
    for (let i = 0; i < warmupRows; i += 50) {
      await p.insert(writers, take(50));
      await sleep(20);
    }
    await arrivals.waitFor(warmupRows, cfg.deliverTimeoutMs);
    await sleep(500);

    // 1. Steady load: single-row transactions at a fixed rate (open loop), commit → consumed per event.
    arrivals.reset();
    const committed: { id: string; at: number }[] = [];
    const interval = 1000 / cfg.steadyRate;
    const total = Math.round((cfg.steadyMs / 1000) * cfg.steadyRate);
    const inFlight = new Set<Promise<void>>();
    const loadStart = performance.now();
    for (let i = 0; i < total; i++) {
      await sleep(loadStart + i * interval - performance.now());
      const [m] = take(1);
      const tx = p.insert(writers, [m]).then(() => void committed.push({ id: m.eventId, at: performance.now() }));
      inFlight.add(tx);
      void tx.finally(() => inFlight.delete(tx));
      if (inFlight.size >= 32) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const loadEnd = performance.now();
    await arrivals.waitFor(total, cfg.deliverTimeoutMs);
    const latencies = committed.map((c) => arrivals.at(c.id)! - c.at);
    const lat = summarize(latencies);
    const steadyCpu = cpu.cpuBetween(loadStart, loadEnd);
    const steady = {
      targetRate: cfg.steadyRate,
      achievedRate: round(total / ((loadEnd - loadStart) / 1000)),
      transactions: total,
      consumed: arrivals.count,
      p50: round(lat.p50, 2),
      p90: round(lat.p90, 2),
      p99: round(lat.p99, 2),
      max: round(lat.max, 2),
      cpuMsPer1000: round((steadyCpu.cpuSeconds * 1e6) / total, 1),
      cores: round(steadyCpu.cpuSeconds / steadyCpu.seconds, 3),
    };
    log(`${p.name} steady: p50 ${steady.p50} ms, p99 ${steady.p99} ms, ${steady.cores} cores`);
    await sleep(500);

    // 2 and 3, in rounds: one run of each swings by a sixth or more on this machine, and a ratio of two such runs more.
    const batches = (rows: number) => {
      const out: OutboxMessage[][] = [];
      for (let i = 0; i < rows; i += cfg.insertBatch) out.push(take(Math.min(cfg.insertBatch, rows - i)));
      return out;
    };
    const bursts: Round[] = [];
    const drains: Round[] = [];
    for (let n = 0; n < cfg.rounds; n++) {
      // 2. As fast as the writers can (multi-row INSERTs, messages made beforehand) while the publisher runs.
      const queue = batches(cfg.burstRows);
      arrivals.reset();
      const burstStart = performance.now();
      // Several writers at once: one alone inserts slower than either publisher delivers here, which would measure it.
      const lane = async () => {
        for (let batch = queue.shift(); batch; batch = queue.shift()) await p.insert(writers, batch);
      };
      await Promise.all(Array.from({ length: cfg.burstWriters }, lane));
      const burstEnd = performance.now();
      const backlog = cfg.burstRows - arrivals.count;
      await arrivals.waitFor(cfg.burstRows, cfg.deliverTimeoutMs);
      const burstCpu = cpu.cpuBetween(arrivals.firstAt, arrivals.lastAt);
      bursts.push({
        ...burstCpu,
        seconds: (arrivals.lastAt - arrivals.firstAt) / 1000,
        insertSeconds: (burstEnd - burstStart) / 1000,
        backlog,
      });
      log(`${p.name} burst ${n + 1}: ${rate(cfg.burstRows, bursts[n].seconds)} rows/s delivered, backlog ${backlog}`);

      // 3. Backlog drain: rows written while the publisher is stopped, then it starts.
      await p.stop();
      for (const batch of batches(cfg.drainRows)) await p.insert(writers, batch);
      arrivals.reset();
      const spawnedAt = performance.now();
      await p.start();
      await arrivals.waitFor(cfg.drainRows, cfg.deliverTimeoutMs);
      // CPU during the drain: first to last arrival (process start-up is not in it).
      const drainCpu = cpu.cpuBetween(arrivals.firstAt, arrivals.lastAt);
      drains.push({
        ...drainCpu,
        seconds: (arrivals.lastAt - arrivals.firstAt) / 1000,
        start: arrivals.firstAt - spawnedAt,
      });
      log(`${p.name} drain ${n + 1}: ${rate(cfg.drainRows, drains[n].seconds)} rows/s`);
    }
    const b = overRounds(bursts, cfg.burstRows);
    const d = overRounds(drains, cfg.drainRows);
    const burst = {
      rows: cfg.burstRows,
      insertRate: rate(
        cfg.burstRows * cfg.rounds,
        sumOf(bursts, (r) => r.insertSeconds ?? 0),
      ),
      backlogAtInsertEnd: Math.round(sumOf(bursts, (r) => r.backlog ?? 0) / cfg.rounds),
      deliveredRate: b.rate,
      secondsFirstToLast: b.seconds,
      cpuMsPer1000: b.cpuMsPer1000,
      rounds: b.rounds,
    };
    const drain = {
      rows: cfg.drainRows,
      startSeconds: round(sumOf(drains, (r) => r.start ?? 0) / 1000 / cfg.rounds, 2),
      rate: d.rate,
      secondsFirstToLast: d.seconds,
      cpuMsPer1000: d.cpuMsPer1000,
      processCpuMsPer1000: d.processCpuMsPer1000,
      backendsCpuMsPer1000: d.backendsCpuMsPer1000,
      cores: d.cores,
      rounds: d.rounds,
    };
    log(
      `${p.name} burst: ${burst.deliveredRate} rows/s delivered over ${cfg.rounds} rounds; drain: ${drain.rate} rows/s, ${drain.cpuMsPer1000} CPU-ms per 1,000 rows (${drain.processCpuMsPer1000} its process; backends ${JSON.stringify(drain.backendsCpuMsPer1000)})`,
    );
    return { figures: { warmupRows, steady, burst, drain }, latencies };
  } finally {
    await cpu.stop();
    await p.stop().catch(() => undefined);
    await arrivals.stop().catch(() => undefined);
  }
}

/**
 * Scenario 10: the relay and Debezium (PostgreSQL connector, pgoutput, Outbox Event Router, Connect standalone) side
 * by side on a private PostgreSQL cluster with wal_level=logical, the same message keys and values, the same broker,
 * topics of the same shape and the same consumer. Each publisher is measured with the other stopped: steady 200 tx/s
 * (commit → consumed), a burst from several writers (delivered rows/s, backlog), a backlog drain (rate, CPU per row).
 */
export async function debeziumSideBySide(results: Results): Promise<ScenarioResult> {
  const started = performance.now();
  const cfg = benchConfig.debezium;
  if (!cfg.relayOnly) ensureDebezium(log);
  const cluster = await PrivateCluster.start(`bench-dbz-${RUN_ID}`);
  // Ctrl-C or a crash of the bench: neither the server nor the JVM may outlive it.
  let connect: ConnectStandalone | undefined;
  const onExit = () => {
    if (connect?.pid) process.kill(connect.pid, 'SIGKILL');
    cluster.destroy();
  };
  process.once('exit', onExit);
  const admin = kafka(`${RUN_ID}-dbz-admin`).admin();
  let deployment: Deployment | undefined;
  let other: Deployment | undefined;
  let db: Pool | undefined;
  let writers: Pool | undefined;
  const dbzPrefix = `${RUN_ID}.dbz.`;
  let succeeded = false;
  try {
    await admin.connect();
    deployment = await Deployment.create('dbzrelay', { databaseUrl: cluster.url });
    const d = deployment;
    await d.migrateCommandSchema();
    db = new Pool({ connectionString: cluster.url, max: 2, application_name: `${RUN_ID}-dbz-bench` });
    await db.query(`
      CREATE SCHEMA ${DBZ_SCHEMA};
      CREATE TABLE ${DBZ_SCHEMA}.outbox (
        id            uuid PRIMARY KEY,
        aggregatetype text NOT NULL,
        aggregateid   text NOT NULL,
        type          text NOT NULL,
        payload       text NOT NULL
      )`);
    const relayTopics = d.topics;
    const dbzTopics = relayTopics.map((t) => dbzPrefix + t.slice(d.topicPrefix.length));
    await d.createTopics(admin, relayTopics);
    await d.createTopics(admin, dbzTopics);
    writers = new Pool({ connectionString: cluster.url, max: 4, application_name: `${RUN_ID}-dbz-writer` });
    const relay = relayPublisher('relay', d, cluster.url, 'platformatic');
    // The same relay with the other Kafka client, on a deployment (schema, topics) of its own.
    other = await Deployment.create('dbzrelaykjs', { databaseUrl: cluster.url });
    await other.migrateCommandSchema();
    await other.createTopics(admin, other.topics);
    const relayKafkajs = relayPublisher('relay-kafkajs', other, cluster.url, 'kafkajs');

    const port = Number(new URL(cluster.url).port);
    connect = ConnectStandalone.prepare(resolve(__dirname, '../../.local/debezium/runs', RUN_ID), {
      name: `${RUN_ID.replace(/[^a-z0-9_]/g, '_')}_dbz`,
      database: { host: '127.0.0.1', port, user: 'postgres', dbname: 'postgres' },
      table: `${DBZ_SCHEMA}.outbox`,
      brokers: kafkaBrokers(),
      // The same kind of batch on the wire as the relay's (Kafka's names for the codecs are the same).
      worker: { 'producer.compression.type': benchConfig.relayCompression },
    });
    const c = connect;
    const debezium: Publisher = {
      name: 'debezium',
      topicPrefix: dbzPrefix,
      topics: dbzTopics,
      start: () => c.start(),
      stop: () => c.stop(),
      pid: () => c.pid,
      insert: async (pool, messages) => {
        await pool.query(
          `INSERT INTO ${DBZ_SCHEMA}.outbox (id, aggregatetype, aggregateid, type, payload)
           SELECT i, t, k, y, v
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS m(i, t, k, y, v, n)
            ORDER BY n`,
          [
            messages.map((m) => m.eventId),
            messages.map((m) => m.topic),
            messages.map((m) => m.key),
            messages.map((m) => m.headers['event-type'] ?? 'event'),
            messages.map((m) => m.value),
          ],
        );
      },
    };

    // The relay first: Debezium's replication slot does not exist yet, so no slot retains WAL while the relay runs.
    let relayRun: { figures: Figures; latencies: number[] };
    let kafkajsRun: { figures: Figures; latencies: number[] };
    try {
      relayRun = await measure(relay, db, writers);
      kafkajsRun = await measure(relayKafkajs, db, writers);
    } finally {
      await relay.close();
      await relayKafkajs.close();
    }
    if (cfg.relayOnly) return relayAlone(results, relayRun.figures, kafkajsRun.figures, started);
    const dbzRun = await measure(debezium, db, writers);
    results.cdfs.push(
      { name: `10. commit → consumed at ${cfg.steadyRate} tx/s, relay`, points: cdf(relayRun.latencies) },
      { name: `10. commit → consumed at ${cfg.steadyRate} tx/s, Debezium`, points: cdf(dbzRun.latencies) },
    );
    const dbz = dbzRun.figures;
    succeeded = true;
    const how = (what: string) =>
      `Debezium ${DEBEZIUM_VERSION} (pgoutput, Outbox Event Router, Connect standalone ${CONNECT_VERSION}), ${what}, same rows, server, broker and consumer, this run`;
    results.setBaseline({
      id: 'D_dbz_rate',
      value: dbz.burst.deliveredRate,
      unit: 'rows/s',
      how: how(
        `delivered rows/s while ${cfg.burstWriters} writers insert ${dbz.burst.rows.toLocaleString('en')} rows, over ${cfg.rounds} rounds (${dbz.burst.rounds.join(', ')})`,
      ),
    });
    results.setBaseline({
      id: 'D_dbz_drain',
      value: dbz.drain.rate,
      unit: 'rows/s',
      how: how(
        `drain of ${dbz.drain.rows.toLocaleString('en')} rows written while stopped, over ${cfg.rounds} rounds (${dbz.drain.rounds.join(', ')})`,
      ),
    });
    results.setBaseline({
      id: 'D_dbz_cpu',
      value: dbz.drain.cpuMsPer1000,
      unit: 'CPU-ms/1k rows',
      how: how('CPU of the Connect JVM and its PostgreSQL backends during the drain'),
    });
    results.setBaseline({
      id: 'D_dbz_p99',
      value: dbz.steady.p99,
      unit: 'ms',
      how: how(`commit → consumed p99 at ${cfg.steadyRate} single-row tx/s`),
    });
    const r = relayRun.figures;
    const rows: Row[] = [
      results.ratioRow(
        SCENARIO,
        `relay: delivered rows/s, ${cfg.burstWriters} writers inserting ${r.burst.rows.toLocaleString('en')} rows`,
        r.burst.deliveredRate,
        'rows/s',
        'D_dbz_rate',
        1.2,
        `relay mode ${cfg.relayMode}; rounds ${r.burst.rounds.join(', ')}; writer ${r.burst.insertRate} rows/s; backlog at insert end: relay ${r.burst.backlogAtInsertEnd}, Debezium ${dbz.burst.backlogAtInsertEnd} rows`,
      ),
      results.ratioRow(
        SCENARIO,
        `relay: backlog drain, ${r.drain.rows.toLocaleString('en')} rows`,
        r.drain.rate,
        'rows/s',
        'D_dbz_drain',
        1.2,
        `relay mode ${cfg.relayMode}; rounds ${r.drain.rounds.join(', ')}; Debezium ${dbz.drain.rounds.join(', ')}`,
      ),
      results.ratioMaxRow(
        SCENARIO,
        'relay: CPU-ms per 1,000 rows during the drain (relay + its PostgreSQL backends)',
        r.drain.cpuMsPer1000,
        'CPU-ms',
        'D_dbz_cpu',
        1,
        `relay mode ${cfg.relayMode}; relay process ${r.drain.processCpuMsPer1000}, Debezium's JVM ${dbz.drain.processCpuMsPer1000}`,
      ),
      results.ratioMaxRow(
        SCENARIO,
        `relay: commit → consumed p99 at ${cfg.steadyRate} tx/s`,
        r.steady.p99,
        'ms',
        'D_dbz_p99',
        0.5,
        `relay mode ${cfg.relayMode}; p50 relay ${r.steady.p50} ms, Debezium ${dbz.steady.p50} ms`,
      ),
      results.infoRow(SCENARIO, `relay: commit → consumed p50 at ${cfg.steadyRate} tx/s`, r.steady.p50, 'ms'),
      results.infoRow(
        SCENARIO,
        `relay: CPU at ${cfg.steadyRate} tx/s (relay + backends)`,
        r.steady.cpuMsPer1000,
        'CPU-ms/1k rows',
        `${r.steady.cores} cores`,
      ),
      results.infoRow(SCENARIO, 'relay: backlog at the end of inserting', r.burst.backlogAtInsertEnd, 'rows'),
      ...relayRows(results, 'relay with kafkajs', kafkajsRun.figures),
      results.infoRow(
        SCENARIO,
        `Debezium: delivered rows/s, ${cfg.burstWriters} writers`,
        dbz.burst.deliveredRate,
        'rows/s',
        `writer ${dbz.burst.insertRate} rows/s`,
      ),
      results.infoRow(SCENARIO, 'Debezium: backlog at the end of inserting', dbz.burst.backlogAtInsertEnd, 'rows'),
      results.infoRow(SCENARIO, 'Debezium: backlog drain', dbz.drain.rate, 'rows/s'),
      results.infoRow(
        SCENARIO,
        'Debezium: CPU-ms per 1,000 rows during the drain (JVM + backends)',
        dbz.drain.cpuMsPer1000,
        'CPU-ms',
      ),
      results.infoRow(SCENARIO, `Debezium: commit → consumed p50 at ${cfg.steadyRate} tx/s`, dbz.steady.p50, 'ms'),
      results.infoRow(SCENARIO, `Debezium: commit → consumed p99 at ${cfg.steadyRate} tx/s`, dbz.steady.p99, 'ms'),
      results.infoRow(
        SCENARIO,
        `Debezium: CPU at ${cfg.steadyRate} tx/s (JVM + backends)`,
        dbz.steady.cpuMsPer1000,
        'CPU-ms/1k rows',
        `${dbz.steady.cores} cores`,
      ),
    ];
    return {
      id: 'debezium',
      title: SCENARIO,
      rows,
      details: {
        debezium: { version: DEBEZIUM_VERSION, connect: CONNECT_VERSION, ...dbz },
        relay: { batchSize: benchConfig.relayBatchSize, kafkaClient: 'platformatic', ...r },
        relayKafkajs: { batchSize: benchConfig.relayBatchSize, kafkaClient: 'kafkajs', ...kafkajsRun.figures },
        partitions: benchConfig.partitions,
        topics: { relay: relayTopics, debezium: dbzTopics },
      },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await connect?.stop().catch(() => undefined);
    await deployment?.destroy().catch(() => undefined);
    await other?.destroy().catch(() => undefined);
    await writers?.end().catch(() => undefined);
    await db?.end().catch(() => undefined);
    const topics = (await admin.listTopics().catch(() => [] as string[])).filter(
      (t) =>
        t.startsWith(dbzPrefix) ||
        (deployment && t.startsWith(deployment.topicPrefix)) ||
        (other && t.startsWith(other.topicPrefix)),
    );
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    cluster.destroy();
    process.removeListener('exit', onExit);
    if (connect?.pid) execFileSync('kill', ['-9', String(connect.pid)]);
    // Connect's configuration, offsets and log stay in .local/debezium/runs/<run> when something failed.
    if (connect && succeeded) rmSync(connect.dir, { recursive: true, force: true });
  }
}

/** The relay's figures without Debezium's (BENCH_DBZ_RELAY_ONLY): for working on the relay, no target is judged. */
function relayAlone(results: Results, r: Figures, kafkajs: Figures, started: number): ScenarioResult {
  return {
    id: 'debezium',
    title: SCENARIO,
    rows: [...relayRows(results, 'relay alone', r), ...relayRows(results, 'relay alone, kafkajs', kafkajs)],
    details: { relay: { batchSize: benchConfig.relayBatchSize, ...r }, relayKafkajs: kafkajs },
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** A relay run's figures as information rows (the relay with the other Kafka client, or without Debezium). */
function relayRows(results: Results, who: string, r: Figures): Row[] {
  const info = (metric: string, value: number, unit: string, note?: string) =>
    results.infoRow(SCENARIO, `${who}: ${metric}`, value, unit, note);
  return [
    info(
      `delivered rows/s, ${benchConfig.debezium.burstWriters} writers`,
      r.burst.deliveredRate,
      'rows/s',
      `writer ${r.burst.insertRate} rows/s; backlog at insert end ${r.burst.backlogAtInsertEnd}`,
    ),
    info('backlog drain', r.drain.rate, 'rows/s', `rounds ${r.drain.rounds.join(', ')}`),
    info(
      'CPU-ms per 1,000 rows during the drain (relay + backends)',
      r.drain.cpuMsPer1000,
      'CPU-ms',
      `relay process ${r.drain.processCpuMsPer1000}`,
    ),
    info(`commit → consumed p99 at ${r.steady.targetRate} tx/s`, r.steady.p99, 'ms', `p50 ${r.steady.p50} ms`),
  ];
}

/**
 * The relay as a publisher: its own process on a deployment's schema, rows written through the outbox writer's own
 * statement, and the command service's wake-up after commits (one NOTIFY per turn of the event loop, on a connection
 * of its own so it never queues behind the writers' INSERTs).
 */
function relayPublisher(
  name: 'relay' | 'relay-kafkajs',
  d: Deployment,
  url: string,
  client: KafkaClientName,
): Publisher & { close(): Promise<void> } {
  const relayWriters = new Pool({
    connectionString: url,
    max: 4,
    application_name: `${RUN_ID}-dbz-writer`,
    options: `-c search_path=${d.commandSchema}`,
  });
  const notifier = new Pool({ connectionString: url, max: 1, application_name: `${RUN_ID}-dbz-writer` });
  const signal = new OutboxSignal(
    { query: async <T>(sql: string, params?: unknown[]) => (await notifier.query(sql, params)).rows as T },
    outboxChannel(d.commandSchema),
  );
  return {
    name,
    topicPrefix: d.topicPrefix,
    topics: d.topics,
    start: async () =>
      void (await d.start('outbox-relay', {
        RELAY_BATCH_SIZE: String(benchConfig.relayBatchSize),
        RELAY_KAFKA_CLIENT: client,
        RELAY_MODE: benchConfig.debezium.relayMode,
      })),
    stop: () => d.stop('outbox-relay'),
    pid: () => {
      try {
        return d.service('outbox-relay').child.pid;
      } catch {
        return undefined;
      }
    },
    insert: async (_pool, messages) => {
      await enqueueOutbox(
        { query: async <T>(sql: string, params?: unknown[]) => (await relayWriters.query(sql, params)).rows as T },
        messages,
      );
      signal.committed(messages.map((m) => m.key));
    },
    close: async () => {
      await relayWriters.end();
      await notifier.end();
    },
  };
}
