import type { Pool } from 'pg';
import { benchConfig } from '../lib/config';
import { benchToken, Deployment, schemaPool } from '../lib/deployment';
import { closedLoop, HttpClient, openLoop, type CommandResult, type LoadOutcome } from '../lib/http-load';
import { PipelineWatch, timeUntil } from '../lib/pipeline-watch';
import { kafkaBrokerPid } from '../lib/machine';
import { MachineLoadSampler, UsageSampler, type MachineLoad, type UsageReport } from '../lib/proc';
import type { Results, ScenarioResult } from '../lib/results';
import { round, summarize } from '../lib/stats';

/** The command deployment, kept running for the half-load scenarios after scenario 2. */
export interface CommandBench {
  deployment: Deployment;
  client: HttpClient;
  watch: PipelineWatch;
  pools: Pool[];
  /** Successful commands (= events) so far in this deployment. */
  committed: () => number;
  count: (r: CommandResult) => void;
  /** The highest command rate at which relay and projector kept up. */
  sustainableRate: number;
}

const SCENARIO = '2. Command rate';
/** Kept up: everything committed is published and applied within this long after the load stops. */
const CATCH_UP_MS = 2000;

function loadSummary(o: LoadOutcome) {
  const latency = summarize(o.results.filter((r) => r.ok).map((r) => r.doneAt - r.sentAt));
  return {
    rate: round(o.rate),
    ok: o.ok,
    failed: o.failed,
    statuses: o.statuses,
    seconds: round(o.wallMs / 1000, 1),
    httpLatencyMs: { p50: round(latency.p50), p99: round(latency.p99), max: round(latency.max) },
    clientCores: round(o.clientCores, 2),
  };
}

/**
 * CPU of the services during a load, in cores and in CPU milliseconds per command: on 2 cores, whether a service's
 * single event loop (at most one core) or the machine is the limit.
 */
function cpuPerCommand(usage: UsageReport, rate: number) {
  return {
    machineBusyCores: round(usage.machineBusyCores, 2),
    serviceCpu: Object.fromEntries(
      usage.processes.map((p) => [
        p.name,
        { cores: round(p.cores, 2), cpuMsPerCommand: round((p.cores * 1000) / rate, 2) },
      ]),
    ),
  };
}

/**
 * The machine's CPU per command while the whole pipeline runs (HTTP in → read-model row): the three services, every
 * PostgreSQL process and the Kafka broker, in CPU milliseconds per command; the load generator is shown beside it,
 * not counted.
 */
function pipelineCpu(usage: UsageReport, machine: MachineLoad, rate: number, clientCores: number) {
  const perCommand = (cores: number) => round((cores * 1000) / rate, 3);
  const services = Object.fromEntries(usage.processes.map((p) => [p.name, perCommand(p.cores)]));
  const parts: Record<string, number> = {
    ...services,
    postgres: perCommand(machine.postgresCores),
    'kafka broker': perCommand(machine.kafkaCores),
  };
  const total = round(
    Object.values(parts).reduce((sum, x) => sum + x, 0),
    3,
  );
  return { parts, total, loadGenerator: perCommand(clientCores), otherOnMachine: perCommand(machine.otherCores) };
}

/** Runs one load while sampling how far relay and projector fall behind; then how long they take to catch up. */
async function underWatch(bench: CommandBench, load: () => Promise<LoadOutcome>) {
  const before = await bench.watch.snapshot();
  const committedBefore = bench.committed();
  let maxBacklog = 0;
  let maxLag = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, 500));
      const s = await bench.watch.snapshot().catch(() => undefined);
      if (!s) continue;
      maxBacklog = Math.max(maxBacklog, bench.committed() - s.published);
      maxLag = Math.max(maxLag, s.published - s.applied);
    }
  })();
  const o = await load();
  sampling = false;
  await sampler;
  const after = await bench.watch.snapshot();
  const seconds = (after.at - before.at) / 1000;
  const caughtUpMs = await timeUntil(
    async () => {
      const s = await bench.watch.snapshot();
      return s.published >= bench.committed() && s.applied >= bench.committed();
    },
    60_000,
    50,
  );
  return {
    load: o,
    summary: {
      ...loadSummary(o),
      relayPublishRate: round((after.published - before.published) / seconds),
      projectorApplyRate: round((after.applied - before.applied) / seconds),
      commandsInWindow: bench.committed() - committedBefore,
      relayBacklogMax: maxBacklog,
      relayBacklogAtEnd: bench.committed() - after.published,
      projectorLagMax: maxLag,
      projectorLagAtEnd: after.published - after.applied,
      caughtUpAfterMs: round(caughtUpMs),
      keptUp: caughtUpMs <= CATCH_UP_MS,
    },
  };
}

export async function commandRate(results: Results): Promise<{ scenario: ScenarioResult; bench: CommandBench }> {
  const started = performance.now();
  const { concurrencies, warmupMs, levelMs } = benchConfig.commands;
  const deployment = await Deployment.create('cmd');
  const commandService = await deployment.start('command-service');
  const client = new HttpClient(commandService.url, await benchToken(), Math.max(...concurrencies));
  let committed = 0;
  const count = (r: CommandResult) => void (r.ok && committed++);

  // Warm-up: JIT, connection pools, keep-alive sockets. Not measured.
  await closedLoop(client, Math.min(...concurrencies), warmupMs, count);

  // Relay and projector idle (not running): the command path alone.
  const idle: Record<string, unknown>[] = [];
  let best = { rate: 0, concurrency: concurrencies[0] };
  for (const c of concurrencies) {
    const usage = new UsageSampler([{ name: 'command-service', pid: commandService.child.pid! }]);
    const o = await closedLoop(client, c, levelMs, count);
    idle.push({ concurrency: c, ...loadSummary(o), ...cpuPerCommand(usage.stop(), o.rate) });
    if (o.rate > best.rate) best = { rate: o.rate, concurrency: c };
  }

  // The whole pipeline: relay and projector running; first let them catch up with the idle phase's commands.
  await deployment.start('outbox-relay');
  await deployment.start('projector', { COMMAND_SERVICE_URL: commandService.url });
  const pools = [schemaPool(deployment.commandSchema, 1), deployment.projectorPool(1)];
  const watch = new PipelineWatch(pools[0], pools[1], deployment.projectorConsumer);
  const bench: CommandBench = {
    deployment,
    client,
    watch,
    pools,
    committed: () => committed,
    count,
    sustainableRate: 0,
  };
  const initialCatchUpMs = await timeUntil(
    async () => {
      const s = await watch.snapshot();
      return s.published >= committed && s.applied >= committed;
    },
    300_000,
    250,
  );

  const full: Record<string, unknown>[] = [];
  const usage = new UsageSampler(
    (['command-service', 'outbox-relay', 'projector'] as const).map((name) => ({
      name,
      pid: deployment.service(name).child.pid!,
    })),
  );
  const machineLoad = new MachineLoadSampler(kafkaBrokerPid());
  const closed = await underWatch(bench, () => closedLoop(client, best.concurrency, levelMs, count));
  const closedUsage = usage.stop();
  const closedCpu = pipelineCpu(closedUsage, machineLoad.stop(), closed.summary.rate, closed.load.clientCores);
  full.push({
    mode: `closed loop, ${best.concurrency} clients`,
    ...closed.summary,
    ...cpuPerCommand(closedUsage, closed.summary.rate),
    pipelineCpuMsPerCommand: closedCpu,
  });
  let sustainable = closed.summary.keptUp ? closed.summary.rate : NaN;
  // Not kept up: the pipeline's pace is set by its slowest stage. Try that pace, open loop, and verify it keeps up.
  let pace = Math.min(closed.summary.rate, closed.summary.relayPublishRate, closed.summary.projectorApplyRate) * 0.95;
  let sustainableCpu = closed.summary.keptUp ? closedCpu : undefined;
  for (let attempt = 0; !Number.isFinite(sustainable) && attempt < 3; attempt++) {
    const services = new UsageSampler(
      (['command-service', 'outbox-relay', 'projector'] as const).map((name) => ({
        name,
        pid: deployment.service(name).child.pid!,
      })),
    );
    const machine = new MachineLoadSampler(kafkaBrokerPid());
    const o = await underWatch(bench, () => openLoop(client, pace, levelMs, benchConfig.halfLoad.maxInFlight, count));
    const cpu = pipelineCpu(services.stop(), machine.stop(), o.summary.rate, o.load.clientCores);
    full.push({ mode: `open loop at ${round(pace)}/s`, ...o.summary, pipelineCpuMsPerCommand: cpu });
    if (o.summary.keptUp) {
      sustainable = o.summary.rate;
      sustainableCpu = cpu;
    } else pace *= 0.8;
  }
  bench.sustainableRate = Number.isFinite(sustainable) ? sustainable : pace;

  const rows = [
    results.ratioRow(
      SCENARIO,
      'HTTP commands/s, pipeline running and keeping up',
      round(bench.sustainableRate),
      'cmd/s',
      'B_pg',
      0.4,
      Number.isFinite(sustainable)
        ? closed.summary.keptUp
          ? `closed loop, ${best.concurrency} clients; relay and projector caught up ${closed.summary.caughtUpAfterMs} ms after the load`
          : `the closed loop (${closed.summary.rate}/s) outran the pipeline (relay ${closed.summary.relayPublishRate}/s, projector ${closed.summary.projectorApplyRate}/s); this is the highest open-loop rate that kept up`
        : 'no tried rate kept up; the figure is the last rate tried',
    ),
    results.ratioRow(
      SCENARIO,
      'HTTP commands/s, relay and projector idle',
      round(best.rate),
      'cmd/s',
      'B_pg',
      0.6,
      `closed loop, best of ${concurrencies.join('/')} clients: ${best.concurrency}`,
    ),
    results.ratioRow(
      SCENARIO,
      'HTTP commands/s, relay and projector idle, against the bare HTTP route',
      round(best.rate),
      'cmd/s',
      'B_http',
      0.7,
      `the same figure as the row above, against B_http`,
    ),
  ];
  const cpu = sustainableCpu ?? closedCpu;
  const cpuNote = `at ${round(sustainableCpu ? bench.sustainableRate : closed.summary.rate)} cmd/s${sustainableCpu ? '' : ' (closed loop; no rate kept up)'}; load generator ${cpu.loadGenerator} ms/command not counted`;
  rows.push(
    results.maxRow(
      SCENARIO,
      'whole-pipeline CPU per command (HTTP in → read-model row), pipeline running',
      cpu.total,
      'CPU-ms',
      1.5,
      `${Object.entries(cpu.parts)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(', ')}; ${cpuNote}`,
    ),
    ...Object.entries(cpu.parts).map(([name, ms]) =>
      results.infoRow(SCENARIO, `CPU per command, pipeline running: ${name}`, ms, 'CPU-ms'),
    ),
  );
  if (!closed.summary.keptUp) {
    rows.push(
      results.infoRow(
        SCENARIO,
        'HTTP commands/s, pipeline running, not keeping up',
        closed.summary.rate,
        'cmd/s',
        `closed loop at ${best.concurrency} clients; the backlog grew to ${closed.summary.relayBacklogMax} (relay) / ${closed.summary.projectorLagMax} (projector)`,
      ),
    );
  }
  return {
    bench,
    scenario: {
      id: 'commands',
      title: SCENARIO,
      rows,
      details: {
        command:
          'POST /v1/accounts with Idempotency-Key (one subject, one event: the B_pg transaction plus locks and reads)',
        idle,
        initialCatchUpMs: round(initialCatchUpMs),
        full,
        keptUpMeans: `within ${CATCH_UP_MS} ms after the load stops, every committed event is published and applied`,
      },
      wallSeconds: (performance.now() - started) / 1000,
    },
  };
}

export async function closeCommandBench(bench: CommandBench): Promise<void> {
  bench.client.close();
  await Promise.all(bench.pools.map((p) => p.end()));
  await bench.deployment.destroy();
}
