import { resolve } from 'node:path';
import { KAFKA_COMPRESSIONS, type KafkaCompression } from '@event-spine/kafka';
import { RELAY_DEFAULT_COMPRESSION } from '@event-spine/relay';

/**
 * Environment knobs of `npm run bench`. BENCH_SCALE shrinks every size and duration at once, so a smoke run
 * (`BENCH_SCALE=0.02 npm run bench`) exercises every scenario in a minute or two; the defaults are the full run.
 */
function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

const scale = num('BENCH_SCALE', 1);
const startedAt = performance.now();
/** A count scaled down for smoke runs, never below `min` (the scenario stops meaning anything below it). */
const count = (full: number, min: number) => Math.max(min, Math.round(full * scale));
/** A duration in ms scaled down for smoke runs, never below `minMs`. */
const duration = (fullMs: number, minMs: number) => Math.max(minMs, Math.round(fullMs * scale));

export const benchConfig = {
  scale,
  /** Scenario ids to run (comma-separated, e.g. "baselines,commands"); empty: all. */
  only: (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  /** Full runs write where the committed results live; smoke runs write aside (ignored by git). */
  outDir: resolve(
    __dirname,
    '..',
    process.env.BENCH_OUT ??
      (process.env.BENCH_CPU_PROF === '1'
        ? 'results/profiled'
        : scale === 1
          ? 'results'
          : `results/smoke-${String(scale).replace('.', '_')}`),
  ),
  /** BENCH_CPU_PROF=1: every service writes a V8 CPU profile (results/profiles/); slower, for finding limits. */
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  tenantId: 'bench-tenant',
  jwtSecret: 'bench-secret-that-is-long-enough-0123456789',
  /** Partitions per topic: the services' production default. */
  partitions: num('BENCH_PARTITIONS', 6),
  /**
   * How the relays compress their batches (BENCH_RELAY_COMPRESSION; the relay's default unless set). B_prod and
   * Debezium's producer use the same, so every publisher puts the same kind of batch on the wire.
   */
  relayCompression: compression(process.env.BENCH_RELAY_COMPRESSION || RELAY_DEFAULT_COMPRESSION),
  /** The relay's production batch size; B_prod uses the same. */
  relayBatchSize: num('BENCH_RELAY_BATCH', 500),

  pgbench: {
    clients: (process.env.BENCH_PG_CLIENTS ?? '4,8,16').split(',').map(Number),
    durationMs: duration(6000, 1500),
    accounts: 10_000,
  },
  upsert: { rows: count(200_000, 4000), batch: 1000, accounts: 20_000 },
  commands: {
    /** Closed-loop client concurrencies tried; the best rate counts. */
    concurrencies: (process.env.BENCH_CONCURRENCY ?? '16,48').split(',').map(Number),
    warmupMs: duration(3000, 1000),
    levelMs: duration(10_000, 2000),
  },
  halfLoad: {
    durationMs: duration(30_000, 4000),
    maxInFlight: 256,
    pollIntervalMs: 2,
    rawSends: count(300, 50),
    /** BENCH_LATENCY_RATE: a fixed rate instead of half the sustainable one (for seeing latency without load). */
    rate: num('BENCH_LATENCY_RATE', 0),
  },
  relayDrain: { rows: count(200_000, 2000), eventsPerAccount: 20 },
  projectorLive: { timeoutMs: num('BENCH_LIVE_TIMEOUT_S', 60) * 1000 },
  rebuild: {
    events: count(500_000, 5000),
    // One event per transaction is slow: 10k events give a steady rate in well under a minute. At least ~100
    // accounts even in smoke runs, so every partition holds events.
    naiveEvents: count(10_000, 2000),
    eventsPerAccount: 20,
    batchSize: 1000,
    timeoutMs: num('BENCH_REBUILD_TIMEOUT_S', 420) * 1000,
    /** A replay whose progress does not move for this long is given up (cancelled) and reported as stalled. */
    stallMs: duration(60_000, 20_000),
  },
  /** Debezium side by side (scenario 10): the relay and Debezium on the same rows, server, broker and consumer. */
  debezium: {
    /** Steady load: single-row transactions per second, and for how long. */
    steadyRate: num('BENCH_DBZ_RATE', 200),
    steadyMs: duration(20_000, 5000),
    /** Rows inserted as fast as one writer can while the publisher runs, in multi-row INSERTs of `insertBatch`. */
    burstRows: count(200_000, 5000),
    /** Rows inserted while the publisher is stopped, then drained. */
    drainRows: count(200_000, 5000),
    insertBatch: 500,
    /** Bursts and drains per publisher: their figures are over every round (BENCH_DBZ_ROUNDS). */
    rounds: num('BENCH_DBZ_ROUNDS', 2),
    /** Concurrent writers of the burst (one alone is slower than either publisher on this machine). */
    burstWriters: num('BENCH_DBZ_WRITERS', 3),
    eventsPerAccount: 20,
    /** Longest wait for a publisher to deliver what was written. */
    deliverTimeoutMs: num('BENCH_DBZ_TIMEOUT_S', 300) * 1000,
    /** BENCH_DBZ_RELAY_ONLY=1: measure the relay alone (for working on it; reports no ratios, meets no target). */
    relayOnly: process.env.BENCH_DBZ_RELAY_ONLY === '1',
    /**
     * How both relays of the scenario find rows (RELAY_MODE): `logical` (the default here: the private cluster runs
     * with wal_level=logical, as Debezium needs) or `polling` (BENCH_DBZ_RELAY_MODE=polling).
     */
    relayMode: relayMode(process.env.BENCH_DBZ_RELAY_MODE ?? 'logical'),
  },
  /** The whole run should end within this; the open-ended steps (rebuilds) cut their waits to fit. */
  budgetMs: num('BENCH_BUDGET_S', 17 * 60) * 1000,
} as const;

export type BenchConfig = typeof benchConfig;

/** What is left of the run's time budget, in ms. */
export function remainingBudgetMs(): number {
  return benchConfig.budgetMs - (performance.now() - startedAt);
}

export function selected(id: string): boolean {
  return benchConfig.only.length === 0 || benchConfig.only.includes(id);
}

function compression(raw: string): KafkaCompression {
  if (!(KAFKA_COMPRESSIONS as readonly string[]).includes(raw))
    throw new Error(`BENCH_RELAY_COMPRESSION must be one of ${KAFKA_COMPRESSIONS.join(', ')}, got ${raw}`);
  return raw as KafkaCompression;
}

function relayMode(raw: string): 'logical' | 'polling' {
  if (raw !== 'logical' && raw !== 'polling')
    throw new Error(`BENCH_DBZ_RELAY_MODE must be logical or polling, got ${raw}`);
  return raw;
}
