/**
 * `npm run bench` (via bench/run, which installs dependencies and starts the infrastructure): every scenario of the
 * benchmark issue, each judged against raw baselines measured in the same run, written to bench/results/
 * (report.json, report.md, latency.svg). BENCH_SCALE=0.02 makes a smoke run of a minute or two (written aside).
 *
 * Order matters only for the baselines a scenario is judged against: each is measured before its first use.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchConfig, selected } from './lib/config';
import { Deployment, RUN_ID } from './lib/deployment';
import { typicalEnvelopeBytes } from './lib/events';
import { codeVersion, kafkaBrokerPid, machineInfo, sameCode } from './lib/machine';
import { MachineLoadSampler } from './lib/proc';
import { summarizeProfile } from './lib/profile-summary';
import { markdownReport, type RunInfo } from './lib/report';
import { Results, type ScenarioResult } from './lib/results';
import { latencyChart } from './lib/svg';
import { auditCost } from './scenarios/audit';
import { baselines } from './scenarios/baselines';
import { closeCommandBench, commandRate, type CommandBench } from './scenarios/commands';
import { debeziumSideBySide } from './scenarios/debezium';
import { halfLoad } from './scenarios/latency';
import { projectorLive } from './scenarios/projector-live';
import { projectorRebuild } from './scenarios/rebuild';
import { relayDrain } from './scenarios/relay-drain';
import { tracingCost } from './scenarios/tracing';

const log = (message: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const results = new Results();
  const errors: RunInfo['errors'] = [];
  const machineLoad: RunInfo['machineLoad'] = [];
  const machine = await machineInfo();
  const codeAtStart = codeVersion();
  log(`run ${RUN_ID}, scale ${benchConfig.scale}, ${machine.cores} cores, results → ${benchConfig.outDir}`);

  /** Runs one step; a failure is recorded in the report and the run goes on with the next scenario. */
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const start = performance.now();
    const load = new MachineLoadSampler(kafkaBrokerPid());
    log(`${name} …`);
    try {
      const value = await fn();
      log(`${name} done in ${((performance.now() - start) / 1000).toFixed(0)} s`);
      return value;
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${name} FAILED: ${message}`);
      errors.push({ scenario: name, error: message });
      return undefined;
    } finally {
      const l = load.stop();
      machineLoad.push({ step: name, ...l });
      log(
        `  machine: ${l.busyCores} cores busy; bench ${l.benchCores}, kafka ${l.kafkaCores}, postgres ${l.postgresCores}, other ${l.otherCores}`,
      );
    }
  };
  const keep = (s: ScenarioResult | undefined) => {
    if (!s) return;
    results.scenarios.push(s);
    for (const r of s.rows) {
      const verdict = r.met === undefined ? '' : r.met ? ' ✓' : ' ✗ MISSED';
      log(
        `  ${r.scenario} | ${r.metric}: ${r.measured} ${r.unit}${r.ratio !== undefined ? ` (${(r.ratio * 100).toFixed(0)}% of ${r.baseline?.id})` : ''}${verdict}`,
      );
    }
    if (s.unavailable) log(`  ${s.title}: not available: ${s.unavailable}`);
  };

  try {
    if (selected('baselines'))
      keep(await step('1. raw PostgreSQL baselines (B_pg, B_upsert)', () => baselines(results)));

    if (selected('commands') || selected('latency')) {
      const cmd = await step('2. command rate', () => commandRate(results));
      if (cmd) {
        keep(cmd.scenario);
        const bench: CommandBench = cmd.bench;
        if (selected('latency')) {
          const half = await step('4/5/7. latency and resources at half load', () => halfLoad(results, bench));
          half?.forEach(keep);
        }
        await closeCommandBench(bench).catch(() => undefined);
      }
    }

    if (selected('relay') || selected('projector')) {
      const drain = await step('3. relay backlog drain (and B_prod)', () => relayDrain(results));
      if (drain) {
        keep(drain.scenario);
        if (selected('projector')) {
          keep(
            await step('6. projector live apply (and B_cons)', () =>
              projectorLive(results, drain.deployment, drain.stream),
            ),
          );
        }
        await drain.deployment.destroy().catch(() => undefined);
      }
    }

    if (selected('rebuild')) keep(await step('6. projector rebuild', () => projectorRebuild(results)));

    if (selected('tracing')) keep(await step('8. tracing cost (off / on)', () => tracingCost(results)));

    if (selected('audit')) keep(await step('9. audit and personal-data cost', () => auditCost(results)));

    if (selected('debezium'))
      keep(await step('10. relay vs Debezium, side by side', () => debeziumSideBySide(results)));
  } finally {
    await Deployment.destroyAll().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }

  const run: RunInfo = {
    runId: RUN_ID,
    startedAt: startedAt.toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    scale: benchConfig.scale,
    config: { ...benchConfig, typicalEnvelopeBytes: typicalEnvelopeBytes() },
    loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
    errors,
    machineLoad,
    code: { atStart: codeAtStart, atEnd: codeVersion() },
    profiles: Deployment.profiles
      .filter((p) => existsSync(p.file) && p.readyAt.length > 0 && Number.isFinite(p.stoppedAt))
      .map((p) => ({
        deployment: p.deployment,
        app: p.app,
        ...summarizeProfile(p.file, p.stoppedAt - p.readyAt[0]),
      })),
  };
  mkdirSync(benchConfig.outDir, { recursive: true });
  const json = {
    run,
    machine,
    baselines: Object.fromEntries(results.baselines),
    scenarios: results.scenarios,
    latencyCdf: results.cdfs,
  };
  writeFileSync(join(benchConfig.outDir, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(benchConfig.outDir, 'report.md'), markdownReport(results, machine, run));
  writeFileSync(
    join(benchConfig.outDir, 'latency.svg'),
    latencyChart(results.cdfs, `Latency at half load (${machine.cores} cores, same run as the baselines)`),
  );
  log(
    `done in ${(run.wallSeconds / 60).toFixed(1)} min; wrote report.md, report.json, latency.svg to ${benchConfig.outDir}`,
  );
  if (!sameCode(run.code.atStart, run.code.atEnd)) log('WARNING: the code under test changed during the run');
  if (errors.length > 0) process.exitCode = 1;
}

// Ctrl-C: stop the services this run started and drop its schemas and topics, then leave.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void Deployment.destroyAll().finally(() => process.exit(130));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
