import { benchConfig } from '../lib/config';
import { KAFKA_CLIENTS, type KafkaClientName } from '@event-spine/kafka';
import type { Deployment } from '../lib/deployment';
import type { EventStream } from '../lib/events';
import { consumeAll, type ConsumeTiming } from '../lib/kafka';
import { Scrape } from '../lib/metrics';
import type { Results, ScenarioResult } from '../lib/results';
import { round } from '../lib/stats';

const SCENARIO = '6. Projector live apply';

/** The client the projector consumes with unless PROJECTOR_KAFKA_CLIENT says otherwise (its config default). */
const PROJECTOR_CLIENT: KafkaClientName =
  (process.env.PROJECTOR_KAFKA_CLIENT as KafkaClientName | undefined) ?? 'platformatic';

interface ApplyRun {
  client: KafkaClientName;
  rate: number;
  complete: boolean;
  applied: number;
  seconds: number;
  accounts: number | undefined;
  metrics: Record<string, number | undefined>;
}

/**
 * The projector process on an empty read model, consuming with `client`, until it has applied every event: its rate
 * is taken between the first and the last sample of its applied counter (so process start-up and the group join are
 * not in it), for at most BENCH_LIVE_TIMEOUT_S.
 */
async function applyRun(d: Deployment, stream: EventStream, client: KafkaClientName): Promise<ApplyRun> {
  await d.resetProjectorSchema();
  // Polls the projector's own bookkeeping (its offsets table appears once the projector has migrated).
  const pool = d.projectorPool(1);
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
  const projector = await d.start('projector', { PROJECTOR_KAFKA_CLIENT: client });
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
  if (!first || !last) throw new Error(`the projector (${client}) applied nothing`);
  return {
    client,
    rate: (last.applied - first.applied) / ((last.at - first.at) / 1000),
    complete: last.applied >= stream.total,
    applied: last.applied,
    seconds: round((last.at - first.at) / 1000, 2),
    accounts: counts[0]?.accounts,
    metrics: {
      applied: scrape.value('spine_projector_applied_total'),
      duplicates: scrape.value('spine_projector_duplicates_total'),
      parked: scrape.value('spine_projector_parked_total'),
      gaps: scrape.value('spine_projector_gaps_total'),
    },
  };
}

/**
 * B_cons and the projector's live apply rate, on the same messages: the events the relay just published (valid
 * envelopes, per-subject sequences from 1), each with both Kafka clients. The raw consumer reads them through the
 * consumer port with the projector's settings and a no-op handler, timed from its first assignment to the last
 * message; then the projector applies them from an empty read model, once per client. B_cons and the target row are
 * the projector's configured client; the other client's figures are shown beside them.
 */
export async function projectorLive(results: Results, d: Deployment, stream: EventStream): Promise<ScenarioResult> {
  const started = performance.now();
  const raws: ConsumeTiming[] = [];
  for (const client of KAFKA_CLIENTS) {
    const raw = await consumeAll(client, d.topics, stream.total, 300_000);
    if (raw.consumed < stream.total)
      throw new Error(`the raw ${client} consumer got ${raw.consumed} of ${stream.total} messages`);
    raws.push(raw);
  }
  const rawRate = (t: ConsumeTiming) => t.consumed / ((t.lastAt - t.joinedAt) / 1000);
  const raw = raws.find((r) => r.client === PROJECTOR_CLIENT)!;
  results.setBaseline({
    id: 'B_cons',
    value: round(rawRate(raw)),
    unit: 'msg/s',
    how: `${raw.client} consumer through the projector's client port (no-op handler, maxWaitMs 50, 3 partitions at once), the relay-published events`,
  });
  const runs: ApplyRun[] = [];
  for (const client of [PROJECTOR_CLIENT, ...KAFKA_CLIENTS.filter((c) => c !== PROJECTOR_CLIENT)])
    runs.push(await applyRun(d, stream, client));
  const main = runs[0];
  const incomplete = (r: ApplyRun) =>
    r.complete
      ? undefined
      : `stopped after ${benchConfig.projectorLive.timeoutMs / 1000} s with ${r.applied} applied; the rate is over that window`;
  return {
    id: 'projector-live',
    title: SCENARIO,
    rows: [
      results.ratioRow(
        SCENARIO,
        `apply rate, ${stream.total.toLocaleString('en')} events (${main.client}, the projector’s client)`,
        round(main.rate),
        'events/s',
        'B_cons',
        0.5,
        incomplete(main),
      ),
      ...runs
        .slice(1)
        .map((r) =>
          results.infoRow(
            SCENARIO,
            `apply rate, ${stream.total.toLocaleString('en')} events (${r.client})`,
            round(r.rate),
            'events/s',
            incomplete(r),
          ),
        ),
      ...raws.map((r) =>
        results.infoRow(
          '1. B_cons',
          `raw consumer, no-op handler, same messages: ${r.client}${r.client === PROJECTOR_CLIENT ? ' (the projector’s client)' : ''}`,
          round(rawRate(r)),
          'msg/s',
          `${round((r.cpuMs / r.consumed) * 1000, 1)} CPU-ms per 1,000 messages in the consuming process`,
        ),
      ),
    ],
    details: {
      events: stream.total,
      accounts: stream.accounts,
      projectorRuns: runs,
      rawConsumers: raws.map((r) => ({
        client: r.client,
        messages: r.consumed,
        seconds: round((r.lastAt - r.joinedAt) / 1000, 2),
        rate: round(rawRate(r)),
        cpuMsPer1000: round((r.cpuMs / r.consumed) * 1000, 1),
      })),
    },
    wallSeconds: (performance.now() - started) / 1000,
  };
}
