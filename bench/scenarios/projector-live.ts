import { benchConfig } from '../lib/config';
import { kafka, schemaPool, type Deployment } from '../lib/deployment';
import type { EventStream } from '../lib/events';
import { consumeAll } from '../lib/kafka';
import { Scrape } from '../lib/metrics';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '6. Projector live apply';

/**
 * B_cons and the projector's live apply rate, on the same messages: the events the relay just published (valid
 * envelopes, per-subject sequences from 1). The raw consumer reads them with the projector's consumer settings and a
 * no-op handler, timed from its group join to the last message; then the projector process starts on an empty read
 * model and applies them, its rate taken between the first and the last sample of its applied counter (so process
 * start-up and the group join are not in it), for at most BENCH_LIVE_TIMEOUT_S.
 */
export async function projectorLive(results: Results, d: Deployment, stream: EventStream): Promise<ScenarioResult> {
  const started = performance.now();
  const raw = await consumeAll(kafka(), d.topics, stream.total, 300_000);
  if (raw.consumed < stream.total) throw new Error(`the raw consumer got ${raw.consumed} of ${stream.total} messages`);
  const rawRate = raw.consumed / ((raw.lastAt - raw.joinedAt) / 1000);
  results.setBaseline({
    id: 'B_cons',
    value: round(rawRate),
    unit: 'msg/s',
    how: 'kafkajs consumer, eachBatch with a no-op handler, maxWaitTimeInMs 50 (the projector’s settings), the relay-published events',
  });

  // Polls the projector's own bookkeeping (its offsets table appears once the projector has migrated).
  const pool = schemaPool(d.projectorSchema, 1);
  const samples: { at: number; applied: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    const deadline = performance.now() + benchConfig.projectorLive.timeoutMs;
    while (sampling && performance.now() < deadline) {
      const { rows } = await pool
        .query<{ n: string | null }>(`SELECT sum(applied)::text AS n FROM projector_offsets WHERE consumer = $1`, [
          d.projectorConsumer,
        ])
        .catch(() => ({ rows: [{ n: null }] }));
      samples.push({ at: performance.now(), applied: Number(rows[0]?.n ?? 0) });
      if (samples.at(-1)!.applied >= stream.total) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const projector = await d.start('projector');
  await sampler;
  sampling = false;
  const scrape = await Scrape.of(projector.url);
  const { rows: counts } = await pool.query<{ accounts: number }>(
    `SELECT count(*)::int AS accounts FROM account_balances WHERE tenant_id = $1`,
    [benchConfig.tenantId],
  );
  await pool.end();
  await d.stop('projector');

  const first = samples.find((s) => s.applied > 0);
  const last = samples.at(-1);
  if (!first || !last) throw new Error('the projector applied nothing');
  const rate = (last.applied - first.applied) / ((last.at - first.at) / 1000);
  const complete = last.applied >= stream.total;
  return {
    id: 'projector-live',
    title: SCENARIO,
    rows: [
      results.ratioRow(
        SCENARIO,
        `apply rate, ${stream.total.toLocaleString('en')} events`,
        round(rate),
        'events/s',
        'B_cons',
        0.5,
        complete
          ? undefined
          : `stopped after ${benchConfig.projectorLive.timeoutMs / 1000} s with ${last.applied} applied; the rate is over that window`,
      ),
      results.infoRow('1. B_cons', 'raw consumer, no-op handler, same messages', round(rawRate), 'msg/s'),
    ],
    details: {
      events: stream.total,
      accounts: stream.accounts,
      applied: last.applied,
      accountsInReadModel: counts[0]?.accounts,
      secondsFirstToLastApplied: round((last.at - first.at) / 1000, 2),
      projectorMetrics: {
        applied: scrape.value('spine_projector_applied_total'),
        duplicates: scrape.value('spine_projector_duplicates_total'),
        parked: scrape.value('spine_projector_parked_total'),
        gaps: scrape.value('spine_projector_gaps_total'),
      },
      rawConsumer: {
        messages: raw.consumed,
        seconds: round((raw.lastAt - raw.joinedAt) / 1000, 2),
        rate: round(rawRate),
      },
    },
    wallSeconds: (performance.now() - started) / 1000,
  };
}
