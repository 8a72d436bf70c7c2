import { sameCode, type CodeVersion, type MachineInfo } from './machine';
import type { MachineLoad } from './proc';
import type { ProfileSummary } from './profile-summary';
import type { Results, Row } from './results';

export interface RunInfo {
  runId: string;
  startedAt: string;
  wallSeconds: number;
  scale: number;
  config: unknown;
  loadAverageAtEnd: number[];
  errors: { scenario: string; error: string }[];
  /** Who used the CPUs during each step (the machine is shared). */
  machineLoad: ({ step: string } & MachineLoad)[];
  code: { atStart: CodeVersion; atEnd: CodeVersion };
  /** BENCH_CPU_PROF=1: where each service's CPU went while it was ready. */
  profiles?: ({ deployment: string; app: string } & ProfileSummary)[];
}

const fmt = (x: number | undefined): string => {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
};

function targetText(r: Row): string {
  switch (r.target.kind) {
    case 'ratio':
      return `≥ ${r.target.min < 1 ? `${Math.round(r.target.min * 100)}% of` : `${r.target.min}×`} ${r.target.baseline}`;
    case 'max':
      return `≤ ${r.target.max} ${r.unit}`;
    default:
      return '—';
  }
}

const metText = (r: Row) => (r.target.kind === 'none' ? '' : r.met === undefined ? 'n/a' : r.met ? 'yes' : '**NO**');
const ratioText = (r: Row) => (r.ratio === undefined ? '—' : `${fmt(r.ratio)}× (${Math.round(r.ratio * 100)}%)`);
const cell = (s: string) => s.replace(/\|/g, '\\|');

export function markdownReport(results: Results, machine: MachineInfo, run: RunInfo): string {
  // In scenario order (1. baselines … 7.), whatever order the steps ran in; stable within a scenario.
  const order = (r: Row) => Number(/^(\d+)\./.exec(r.scenario)?.[1] ?? 99);
  const rows = results.scenarios.flatMap((s) => s.rows).sort((a, b) => order(a) - order(b));
  const judged = rows.filter((r) => r.target.kind !== 'none');
  const missed = judged.filter((r) => r.met === false);
  const unjudged = judged.filter((r) => r.met === undefined);
  const lines: string[] = [];
  lines.push(
    '# Event Spine benchmark',
    '',
    `Run \`${run.runId}\`, started ${run.startedAt}, **${(run.wallSeconds / 60).toFixed(1)} min** wall time, ` +
      `scale ${run.scale}${run.scale === 1 ? ' (full run)' : ' (smoke run: figures are not meaningful)'}. ` +
      `Produced by \`npm run bench\` (\`bench/main.ts\`); raw data in \`report.json\`.`,
    '',
    `Every relative figure is a ratio to a raw baseline measured **on this machine in this same run** (the machine is ` +
      `shared and noisy: absolute numbers drift between runs, ratios much less). ${judged.length - missed.length - unjudged.length} ` +
      `of ${judged.length} targets met${missed.length ? `, **${missed.length} missed**` : ''}${unjudged.length ? `, ${unjudged.length} not judged` : ''}.`,
    '',
    `Code under test: commit \`${run.code.atStart.commit}\`` +
      (run.code.atStart.dirty.length
        ? ` plus uncommitted changes in ${run.code.atStart.dirty.map((f) => `\`${f}\``).join(', ')}.`
        : ', no uncommitted changes in apps/ or libs/.') +
      (sameCode(run.code.atStart, run.code.atEnd)
        ? ''
        : ` **The code changed during the run** (at the end: commit \`${run.code.atEnd.commit}\`, ` +
          `${run.code.atEnd.dirty.length} uncommitted files): services started at different times may have run ` +
          'different code.'),
    '',
    '## Results',
    '',
    '| scenario | metric | measured | baseline | ratio | target | met |',
    '| --- | --- | --: | --- | --: | --- | :-: |',
  );
  for (const r of rows) {
    const baseline = r.baseline ? `${r.baseline.id} ${fmt(r.baseline.value)} ${r.baseline.unit}` : '—';
    lines.push(
      `| ${cell(r.scenario)} | ${cell(r.metric)} | ${fmt(r.measured)} ${r.unit} | ${baseline} | ${ratioText(r)} | ${targetText(r)} | ${metText(r)} |`,
    );
  }
  const unavailable = results.scenarios.filter((s) => s.unavailable);
  for (const s of unavailable)
    lines.push(`| ${cell(s.title)} | — | not available: ${cell(s.unavailable ?? '')} | — | — | — | n/a |`);
  for (const e of run.errors)
    lines.push(`| ${cell(e.scenario)} | — | failed: ${cell(e.error.split('\n')[0])} | — | — | — | n/a |`);

  lines.push('', '![latency by percentile](latency.svg)', '');

  lines.push('## Targets missed', '', 'What limits each figure, with profiles and query plans: `bench/README.md`.', '');
  if (missed.length === 0 && unjudged.length === 0 && unavailable.length === 0 && run.errors.length === 0) {
    lines.push('None: every target was met in this run.');
  }
  for (const r of missed) {
    const how =
      r.target.kind === 'ratio' && r.ratio !== undefined
        ? `${fmt(r.measured)} ${r.unit} is ${Math.round(r.ratio * 100)}% of ${r.target.baseline}; the target is ${targetText(r)}`
        : `${fmt(r.measured)} ${r.unit}; the target is ${targetText(r)}`;
    lines.push(`- **Missed: ${r.scenario}, ${r.metric}.** ${how}.${r.note ? ` (${r.note})` : ''}`);
  }
  for (const r of unjudged) lines.push(`- Not judged: ${r.scenario}, ${r.metric}${r.note ? ` (${r.note})` : ''}.`);
  for (const s of unavailable) lines.push(`- Not available: ${s.title}: ${s.unavailable}.`);
  for (const e of run.errors) lines.push(`- Failed: ${e.scenario}: ${e.error.split('\n')[0]}`);

  lines.push('', '## Baselines (same run)', '', '| baseline | value | how |', '| --- | --: | --- |');
  for (const b of results.baselines.values()) lines.push(`| ${b.id} | ${fmt(b.value)} ${b.unit} | ${cell(b.how)} |`);

  lines.push('', '## Notes on the row figures', '');
  for (const r of rows.filter((x) => x.note)) lines.push(`- ${r.scenario}, ${r.metric}: ${r.note}`);

  lines.push('', '## Machine', '', '| | |', '| --- | --- |');
  const m = machine;
  for (const [k, v] of [
    ['cores', `${m.cores} (${m.cpuModel})`],
    ['memory', `${m.memoryGiB} GiB`],
    ['kernel', m.kernel],
    ['Node.js', m.node],
    [
      'PostgreSQL',
      `${m.postgres} (${Object.entries(m.postgresSettings)
        .map(([n, s]) => `${n}=${s}`)
        .join(', ')})`,
    ],
    ['Kafka', `${m.kafka} (one KRaft node, scripts/infra), kafkajs ${m.kafkajs}`],
    ['load average', `${m.loadAverageAtStart.join(' / ')} at start, ${run.loadAverageAtEnd.join(' / ')} at end`],
  ])
    lines.push(`| ${k} | ${cell(v)} |`);

  lines.push(
    '',
    '## Who used the machine',
    '',
    'CPU cores used during each step, by this benchmark (bench process and the services it started), the Kafka broker, ' +
      'PostgreSQL (all backends, this run’s and anyone else’s) and every other process (e.g. test suites run ' +
      'meanwhile on this shared machine), from /proc, sampled every second (a process that lived less than a second may be missed).',
    '',
    '| step | seconds | machine busy | bench + services | Kafka | PostgreSQL | other |',
    '| --- | --: | --: | --: | --: | --: | --: |',
    ...run.machineLoad.map(
      (l) =>
        `| ${cell(l.step)} | ${l.wallSeconds} | ${l.busyCores} | ${l.benchCores} | ${l.kafkaCores} | ${l.postgresCores} | ${l.otherCores} |`,
    ),
  );

  if (run.profiles?.length) {
    lines.push(
      '',
      '## CPU profiles (BENCH_CPU_PROF=1)',
      '',
      'Self time of each service process while it was ready, by package or source file (V8 sampling profiler; the ' +
        'profiler itself slows the services, so the figures above are not from a profiled run).',
      '',
    );
    for (const p of run.profiles) {
      lines.push(
        `- **${p.deployment} / ${p.app}** (${(p.sampledMs / 1000).toFixed(0)} s sampled, busy ${Math.round(p.busyShare * 100)}%): ` +
          p.topSelf.map((t) => `${cell(t.where)} ${(t.share * 100).toFixed(1)}%`).join(', '),
      );
    }
  }

  lines.push(
    '',
    '## Method',
    '',
    '- Services run as real processes (`ServiceProcess`, as in production) with `LOG_LEVEL=warn`, on their own ' +
      'PostgreSQL schemas and Kafka topic prefix for this run; everything is dropped at the end.',
    '- Load comes from the bench process over keep-alive HTTP to 127.0.0.1 (`node:http`); its own CPU use is in ' +
      'scenario 7 and in the details. On 2 cores the client, PostgreSQL, Kafka and the services all share the CPUs: ' +
      'the baselines pay the same tax, since they run on the same machine in the same run.',
    '- Half load is half of the highest command rate at which relay and projector kept up (scenario 2), sent open ' +
      'loop (a fixed schedule, so queueing shows in the latencies).',
    '- Commit → publish is judged on the relay’s own histogram (outbox row INSERT, which precedes the commit, → Kafka ' +
      'ack; exact at the 5 ms and 25 ms bucket bounds, p50/p99 interpolated within buckets); the client-side HTTP 201 → ' +
      'consumed figures are shown beside it. End-to-end is client-side: HTTP 201 received → the read-model row seen by ' +
      'a poller on one connection.',
    '',
    '## Details',
    '',
  );
  for (const s of results.scenarios) {
    lines.push(
      `<details><summary>${s.title} (${s.wallSeconds.toFixed(0)} s)</summary>`,
      '',
      '```json',
      JSON.stringify(s.details, null, 2),
      '```',
      '',
      '</details>',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
