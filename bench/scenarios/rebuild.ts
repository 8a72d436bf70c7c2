import { benchConfig, remainingBudgetMs } from '../lib/config';
import { benchToken, Deployment, dropSchema, kafka } from '../lib/deployment';
import { EventStream } from '../lib/events';
import { relayLikeProducer, toTopicMessages, topicEnds } from '../lib/kafka';
import type { Results, Row, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '6. Projector rebuild';
const PROJECTION = 'account-balances';

/** GET /admin/replays/:id, as the replay API contract describes it (fields beyond it are optional). */
interface ReplayView {
  state: 'running' | 'completed' | 'failed' | 'cancelled';
  phase?: string;
  progress: { processed: number; total: number; eventsPerSecond: number; etaSeconds: number | null };
  error?: string;
}

class Unavailable extends Error {}

/** Puts `total` events on the deployment's topics, quickly (bigger batches than the relay's; not a measurement). */
async function produce(d: Deployment, stream: EventStream): Promise<number> {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  await d.createTopics(admin);
  await admin.disconnect();
  const producer = relayLikeProducer(k);
  await producer.connect();
  const start = performance.now();
  try {
    for (let from = 0; from < stream.total; from += 2000) {
      await producer.sendBatch({
        topicMessages: toTopicMessages(stream.messages(d.topicPrefix, from, from + 2000)),
        acks: -1,
      });
    }
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - start) / 1000;
}

/**
 * A live projection that stands at the head of the topics with an empty account-balances read model: the state after
 * that read model was lost (or a new projection was added) while the projector kept its bookkeeping. Its stored
 * offsets are the topics' ends and every subject's last applied sequence is its last event (as if it had applied
 * everything), written before the projector starts, so the live consumer has nothing to do and the rebuild's shadow
 * can end exactly where live stands. A rebuild into an empty read model needs no sign-off (SPEC section 9).
 */
async function projectorAtHead(d: Deployment, stream: EventStream) {
  await d.migrateProjectorSchema();
  const admin = kafka().admin();
  await admin.connect();
  const ends = await topicEnds(admin, d.topics);
  await admin.disconnect();
  const pool = d.projectorPool(1);
  try {
    for (const [key, high] of ends) {
      const at = key.lastIndexOf(':');
      await pool.query(
        `INSERT INTO projector_offsets (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $4)`,
        [d.projectorConsumer, key.slice(0, at), Number(key.slice(at + 1)), high],
      );
    }
    for (let from = 0; from < stream.accounts; from += 5000) {
      const accounts = Array.from({ length: Math.min(5000, stream.accounts - from) }, (_, k) => from + k);
      await pool.query(
        `INSERT INTO projector_subjects (tenant_id, subject_type, subject_id, last_sequence)
         SELECT $1, 'account', s, l FROM unnest($2::text[], $3::int[]) AS x(s, l)`,
        [benchConfig.tenantId, accounts.map((a) => stream.accountId(a)), accounts.map((a) => stream.lastSequence(a))],
      );
    }
  } finally {
    await pool.end();
  }
  return d.start('projector');
}

/**
 * One rebuild through the admin API, timed from the 202 to the terminal state. Given up (cancelled) when it passes
 * `timeoutMs` or its progress stands still for `stallMs`; the rate is then over what it processed meanwhile.
 */
async function rebuild(baseUrl: string, token: string, batchSize: number, timeoutMs: number) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`${baseUrl}/admin/projections/${PROJECTION}/replays`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ mode: 'rebuild', source: 'kafka', from: { earliest: true }, batchSize }),
  });
  const text = await res.text();
  if (res.status === 404) {
    throw new Unavailable(
      `POST /admin/projections/${PROJECTION}/replays answered 404 (the replay API is not in this build)`,
    );
  }
  if (res.status !== 202) {
    throw new Unavailable(
      `POST /admin/projections/${PROJECTION}/replays answered ${res.status}: ${text.slice(0, 300)}`,
    );
  }
  const acceptedAt = performance.now();
  const { replayId } = JSON.parse(text) as { replayId: string };
  let view: ReplayView | undefined;
  let gaveUp: string | undefined;
  const progress: { s: number; processed: number; phase?: string }[] = [];
  let movedAt = acceptedAt;
  let scannedAt: number | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const poll = await fetch(`${baseUrl}/admin/replays/${replayId}`, { headers });
    if (poll.status !== 200) throw new Unavailable(`GET /admin/replays/${replayId} answered ${poll.status}`);
    const next = (await poll.json()) as ReplayView;
    const now = performance.now();
    // Progress is a moving count or a new phase (a swap may legitimately take a moment with the count at its total).
    if (next.progress.processed !== view?.progress.processed || next.phase !== view?.phase) movedAt = now;
    if (scannedAt === undefined && next.progress.total > 0 && next.progress.processed >= next.progress.total) {
      scannedAt = now;
    }
    view = next;
    progress.push({ s: round((now - acceptedAt) / 1000, 2), processed: view.progress.processed, phase: view.phase });
    if (view.state !== 'running') break;
    if (now - acceptedAt > timeoutMs) gaveUp = `still running after ${round(timeoutMs / 1000)} s`;
    else if (now - movedAt > benchConfig.rebuild.stallMs) {
      gaveUp = `no progress for ${round(benchConfig.rebuild.stallMs / 1000)} s (phase: ${view.phase ?? '?'})`;
    }
    if (gaveUp) {
      await fetch(`${baseUrl}/admin/replays/${replayId}/cancel`, { method: 'POST', headers }).catch(() => undefined);
      break;
    }
  }
  const endedAt = gaveUp ? movedAt : performance.now();
  const seconds = (endedAt - acceptedAt) / 1000;
  const processed = view?.progress.processed ?? 0;
  return {
    replayId,
    state: gaveUp ? `given up: ${gaveUp}` : (view?.state ?? 'unknown'),
    completed: !gaveUp && view?.state === 'completed',
    phase: view?.phase,
    error: view?.error,
    processed,
    total: view?.progress.total,
    /** From the 202 to the terminal state (or to the last progress when given up): includes catch-up and swap. */
    seconds: round(seconds, 2),
    rate: round(processed / seconds),
    /** From the 202 until every event was processed: the scan alone, without the hand-over to live. */
    scanSeconds: scannedAt === undefined ? undefined : round((scannedAt - acceptedAt) / 1000, 2),
    reportedEventsPerSecond: view?.progress.eventsPerSecond,
    progress: progress.filter((_, i) => i % Math.max(1, Math.floor(progress.length / 40)) === 0),
  };
}

async function rebuildRun(name: string, events: number, batchSize: number) {
  const d = await Deployment.create(name);
  let replayId: string | undefined;
  try {
    const stream = new EventStream(name, events, benchConfig.rebuild.eventsPerAccount);
    const produceSeconds = await produce(d, stream);
    const projector = await projectorAtHead(d, stream);
    // Never past the run's time budget (keep a minute for what follows); never past BENCH_REBUILD_TIMEOUT_S.
    const timeoutMs = Math.max(30_000, Math.min(benchConfig.rebuild.timeoutMs, remainingBudgetMs() - 60_000));
    const outcome = await rebuild(projector.url, await benchToken(), batchSize, timeoutMs);
    replayId = outcome.replayId;
    const pool = d.projectorPool(1);
    const { rows } = await pool
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM account_balances WHERE tenant_id = $1`, [
        benchConfig.tenantId,
      ])
      .finally(() => pool.end());
    return {
      events,
      accounts: stream.accounts,
      batchSize,
      produceSeconds: round(produceSeconds, 1),
      ...outcome,
      accountsAfter: rows[0]?.n,
    };
  } finally {
    // Gracefully: a replay drops its shadow schema (outside the deployment's schemas) as it ends. Should one survive
    // (a replay given up, a projector that did not finish shutting down), drop it by the engine's naming.
    await d.stop('projector').catch(() => undefined);
    if (replayId)
      await dropSchema(`spine_replay_${replayId.replace(/-/g, '')}`, d.projectorDatabaseUrl).catch(() => undefined);
    await d.destroy();
  }
}

/**
 * Scenario 6, rebuild: `POST /admin/projections/account-balances/replays {mode: rebuild, source: kafka, from:
 * {earliest: true}}` over the full event count, then the same request with batchSize 1 (one event per transaction,
 * the naive rebuild) over a smaller sample; rates compared as events per second.
 */
export async function projectorRebuild(results: Results): Promise<ScenarioResult> {
  const started = performance.now();
  const { events, naiveEvents, batchSize } = benchConfig.rebuild;
  try {
    // The small naive run first: if the replay API is missing, that is known before 500k events are produced.
    const naive = await rebuildRun('naive', naiveEvents, 1);
    const batched = await rebuildRun('rebuild', events, batchSize);
    if (naive.completed) {
      results.setBaseline({
        id: 'B_naive_rebuild',
        value: naive.rate,
        unit: 'events/s',
        how: `the same rebuild request with batchSize 1 (one event per transaction), ${naiveEvents.toLocaleString('en')} events`,
      });
    }
    const note = (r: Awaited<ReturnType<typeof rebuildRun>>) =>
      r.completed
        ? `${r.processed} events in ${r.seconds} s from the 202 to completed (scan ${r.scanSeconds} s); ${r.accountsAfter} of ${r.accounts} accounts in the read model after`
        : `did not complete: ${r.state} at ${r.processed}/${r.total ?? '?'}${r.error ? ` (${r.error})` : ''}; rate over what it processed`;
    // A rebuild that did not complete does not meet a target, whatever its rate.
    const judged = (row: Row, r: { completed: boolean }): Row => (r.completed ? row : { ...row, met: false });
    return {
      id: 'rebuild',
      title: SCENARIO,
      rows: [
        judged(
          results.ratioRow(
            SCENARIO,
            `rebuild from earliest, ${events.toLocaleString('en')} events`,
            batched.rate,
            'events/s',
            'B_upsert',
            0.5,
            note(batched),
          ),
          batched,
        ),
        judged(
          results.ratioRow(
            SCENARIO,
            'rebuild vs one event per transaction',
            batched.rate,
            'events/s',
            'B_naive_rebuild',
            10,
          ),
          batched,
        ),
        results.infoRow(
          SCENARIO,
          `one event per transaction (batchSize 1), ${naiveEvents.toLocaleString('en')} events`,
          naive.rate,
          'events/s',
          note(naive),
        ),
      ],
      details: { batched, naive },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } catch (error) {
    if (!(error instanceof Unavailable)) throw error;
    return {
      id: 'rebuild',
      title: SCENARIO,
      rows: [],
      details: {},
      unavailable: error.message,
      wallSeconds: (performance.now() - started) / 1000,
    };
  }
}
