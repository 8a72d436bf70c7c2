/** Text rendering of the admin API's answers. Pure: strings in, strings out. */
import {
  isRecord,
  type DiffCounts,
  type HttpError,
  type ParkedSubject,
  type ProjectionsResponse,
  type ReleaseResult,
  type ReplayDiff,
  type ReplayProgress,
  type ReplayStatus,
} from './api';

export const MAX_SAMPLES = 5;

type Cell = string | number;

/** Columns padded to their widest cell; a column holding numbers is right-aligned, header included. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.some((row) => typeof row[i] === 'number'));
  const line = (cells: readonly Cell[]) =>
    cells
      .map((cell, i) => (numeric[i] ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function renderProjections(status: ProjectionsResponse): string {
  if (status.projections.length === 0) return 'no projections';
  const rows = status.projections.flatMap((p): Cell[][] => {
    const version = typeof p.version === 'number' ? p.version : String(p.version);
    const partitions = p.partitions ?? [];
    if (partitions.length === 0) return [[p.name, version, '-', '-', '-', '-', '-', '-', '-']];
    return partitions.map((q) => [
      p.name,
      version,
      q.topic,
      q.partition,
      q.offset,
      q.lag,
      q.applied,
      q.duplicates,
      q.parked,
    ]);
  });
  const table = renderTable(
    ['PROJECTION', 'VERSION', 'TOPIC', 'PARTITION', 'OFFSET', 'LAG', 'APPLIED', 'DUPLICATES', 'PARKED'],
    rows,
  );
  const parkedSubjects = Math.max(0, ...status.projections.map((p) => p.parkedSubjects ?? 0));
  const footer = [
    ...(status.consumerGroup !== undefined ? [`consumer group: ${status.consumerGroup}`] : []),
    ...(parkedSubjects > 0 ? [`parked subjects: ${parkedSubjects} (npm run spine -- parked)`] : []),
  ];
  return [table, ...(footer.length > 0 ? ['', ...footer] : [])].join('\n');
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const hasTotal = (p: ReplayProgress): p is ReplayProgress & { total: number } =>
  typeof p.total === 'number' && p.total > 0;

/** One line for the progress bar: `[█████░░░░░] 50% 500/1000 events | 250 ev/s | ETA 2s | running`. */
export function renderProgressLine(status: ReplayStatus, width = 30): string {
  const progress = status.progress ?? { processed: 0 };
  const parts: string[] = [];
  if (hasTotal(progress)) {
    const ratio = Math.min(1, progress.processed / progress.total);
    const filled = Math.round(ratio * width);
    parts.push(
      `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ` +
        `${progress.processed}/${progress.total} events`,
    );
  } else {
    parts.push(`${progress.processed} events`);
  }
  if (typeof progress.eventsPerSecond === 'number') parts.push(`${Math.round(progress.eventsPerSecond)} ev/s`);
  if (typeof progress.etaSeconds === 'number') parts.push(`ETA ${formatDuration(progress.etaSeconds)}`);
  parts.push(status.phase && status.phase !== status.state ? `${status.state} (${status.phase})` : status.state);
  return parts.join(' | ');
}

const MAX_SAMPLE_LENGTH = 200;

function shorten(text: string, max = MAX_SAMPLE_LENGTH): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const compact = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));

/** `account_id=…` for the fields that look like identifiers (`id`, `…_id`, `…Id`). */
function identity(row: Record<string, unknown>): string {
  return Object.entries(row)
    .filter(([key]) => /(^|_)id$|[a-z]Id$/.test(key))
    .map(([key, value]) => `${key}=${compact(value)}`)
    .join(' ');
}

/**
 * One line per sample. A row sample reads `table {row}`; a changed row reads `table id=…: field old → new, …`.
 * Anything else is printed as JSON.
 */
export function renderSample(sample: unknown): string {
  if (!isRecord(sample) || typeof sample.table !== 'string') return shorten(compact(sample));
  const { table, row, live, shadow } = sample;
  if (isRecord(live) && isRecord(shadow)) {
    const changes = [...new Set([...Object.keys(live), ...Object.keys(shadow)])]
      .filter((key) => compact(live[key]) !== compact(shadow[key]))
      .map((key) => `${key} ${compact(live[key])} → ${compact(shadow[key])}`);
    const id = identity(live);
    return shorten(`${table}${id ? ` ${id}` : ''}: ${changes.join(', ') || 'no field differs'}`);
  }
  return shorten(`${table} ${compact(row ?? live ?? shadow)}`);
}

const counts = (c: DiffCounts) =>
  `${c.added} added, ${c.changed} changed, ${c.removed} removed` +
  (typeof c.unchanged === 'number' ? `, ${c.unchanged} unchanged` : '');

/** Counts (per table too, when reported), then up to `max` samples of each kind. */
export function renderDiff(diff: ReplayDiff, max = MAX_SAMPLES): string {
  const lines = [`diff: ${counts(diff)}`];
  const tables = Object.entries(diff.tables ?? {});
  if (tables.length > 1) lines.push(...tables.map(([table, c]) => `  ${table}: ${counts(c)}`));
  if (diff.subjectsDiffering)
    lines.push(`  ${diff.subjectsDiffering} subject(s) at another sequence than live (parked or still flowing)`);
  for (const kind of ['added', 'changed', 'removed'] as const) {
    const count = diff[kind];
    const samples = diff.samples?.[kind] ?? [];
    if (count === 0 && samples.length === 0) continue;
    const shown = samples.slice(0, max);
    lines.push(`  ${kind} (${count}${shown.length > 0 ? `, ${shown.length} shown` : ''}):`);
    lines.push(...shown.map((sample) => `    ${renderSample(sample)}`));
    if (count > shown.length) lines.push(`    … ${count - shown.length} more`);
  }
  return lines.join('\n');
}

/** Whether a rebuild went live: the outcome says so; a rebuild that ended otherwise was not swapped. */
export function swappedOf(status: ReplayStatus): boolean | undefined {
  if (typeof status.outcome?.swapped === 'boolean') return status.outcome.swapped;
  if (typeof status.swapped === 'boolean') return status.swapped;
  if (status.mode === 'rebuild' && (status.state === 'failed' || status.state === 'cancelled')) return false;
  return undefined;
}

function errorText(error: ReplayStatus['error']): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error;
  return [error.code, error.message].filter(Boolean).join(': ') || JSON.stringify(error);
}

/** State, counts, the diff of a preview, whether a rebuild was swapped in, the error of a failed replay. */
export function renderReplaySummary(replayId: string, status: ReplayStatus): string {
  const what = [
    status.mode ?? 'replay',
    status.projection && `of ${status.projection}`,
    status.source && `from ${status.source}`,
  ]
    .filter(Boolean)
    .join(' ');
  const phase = status.phase && status.phase !== status.state ? ` (${status.phase})` : '';
  const lines = [`replay ${replayId} (${what}): ${status.state}${phase}`];
  const progress = status.progress;
  if (progress) {
    const total = hasTotal(progress) ? ` of ${progress.total}` : '';
    const rate = typeof progress.eventsPerSecond === 'number' ? ` at ${Math.round(progress.eventsPerSecond)} ev/s` : '';
    lines.push(`  processed ${progress.processed}${total} events${rate}`);
  }
  const error = errorText(status.error);
  if (error !== undefined) lines.push(`  error: ${error}`);
  if (status.diff)
    lines.push(
      ...renderDiff(status.diff)
        .split('\n')
        .map((line) => `  ${line}`),
    );
  else if (status.mode === 'preview' && status.state === 'completed') lines.push('  diff: not reported');
  const swapped = swappedOf(status);
  if (status.mode === 'rebuild' && swapped !== undefined)
    lines.push(
      swapped ? '  swapped: yes, the rebuilt read model is live' : '  swapped: no, the live read model is untouched',
    );
  return lines.join('\n');
}

export function renderParked(parked: readonly ParkedSubject[]): string {
  if (parked.length === 0) return 'no parked subjects';
  const rows = parked.map((s): Cell[] => [
    `${s.subjectType}/${s.subjectId}`,
    s.parkedAt ?? '-',
    s.lastAppliedSequence === null || s.lastAppliedSequence === undefined ? '-' : Number(s.lastAppliedSequence),
    (s.events ?? []).map((e) => e.sequence ?? '?').join(',') || '-',
    s.reason ?? '-',
  ]);
  return [
    renderTable(['SUBJECT', 'PARKED AT', 'LAST APPLIED', 'PARKED SEQUENCES', 'REASON'], rows),
    '',
    'release one: npm run spine -- parked --retry <subject>   (or --skip <subject> to drop its first parked event)',
  ].join('\n');
}

export function renderRelease(op: 'retry' | 'skip', result: ReleaseResult): string {
  const counts = [
    ['released', result.released],
    ['applied', result.applied],
    ['duplicates', result.duplicates],
    ['parked again', result.parkedAgain],
  ]
    .filter(([, n]) => typeof n === 'number')
    .map(([label, n]) => `${n} ${label}`)
    .join(', ');
  return `${op} ${result.subjectType}/${result.subjectId}: ${result.state ?? 'done'}${counts ? ` (${counts})` : ''}`;
}

export function renderHttpError(error: HttpError): string {
  return [
    `error ${error.status} ${error.code}: ${error.message}`,
    ...error.fieldErrors.map((e) => `  ${e.field}: ${e.message}`),
  ].join('\n');
}
