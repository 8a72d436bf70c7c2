/** The command line of `npm run spine`: arguments in, a typed command (and the request it sends) out. Pure. */
import { parseArgs } from 'node:util';
import type { KafkaPosition, ReplayFrom, ReplayMode, ReplaySource } from '../../libs/replay/src/replay.request';

export const DEFAULT_URL = 'http://127.0.0.1:3001';
export const DEFAULT_TENANT = 'tenant-dev';

export const USAGE = `Usage: npm run spine -- <command> [options]

Commands:
  replay <projection>      start a replay of a projection and follow it
      --mode preview|rebuild        preview (default) diffs against the live read model; rebuild swaps it in
      --source kafka|event-log      where the events come from (default kafka)
      --from <position>             earliest (default) | <ISO timestamp> | topic:partition:offset[,...]
      --tenant-scope <tenantId>     replay only this tenant
      --subject <uuid>              replay only this subject
      --confirm <previewId>         the finished preview a rebuild is signed off by
      --batch-size <n>              events per batch
      --detach                      print the replay id and return at once
  status [replayId]        projections' positions, lag and counters; or one replay's state and diff
  cancel <replayId>        cancel a running replay (the live read model stays untouched)
  parked                   subjects parked by the projector, with reason and events
      --retry <subjectType>/<subjectId>   apply the parked events again
      --skip <subjectType>/<subjectId>    drop the first parked event, then apply the rest
  verify                   re-compute the event log's hash chains and name the first broken link of each subject;
                           reads the command service's database directly ($DATABASE_URL, $DATABASE_SCHEMA)
      --tenant <id>                 this tenant only (default: every tenant; a checkpoint's tenant with --checkpoint)
      --checkpoint <file.json>      an exported checkpoint: each of its heads must still be reached, its root and
                                    signature must verify
      --public-key <file.pem>       the key the checkpoint must be signed with (default: the key it carries)
  help                     this text

Options for every command:
  --url <url>        projector base URL (default $SPINE_URL, else ${DEFAULT_URL})
  --token <jwt>      bearer token (default $SPINE_TOKEN, else $TOKEN, else a development admin token
                     signed with $JWT_SECRET or .local/dev-jwt-secret)
  --tenant <id>      tenant of the generated development token (default ${DEFAULT_TENANT})
  --json             print the API's JSON instead of text

Ctrl-C while following a replay cancels it and waits for its final state; a second Ctrl-C stops waiting.
Exit codes: 0 done (replay completed, chains intact), 1 replay failed or cancelled, a broken chain or checkpoint,
or an API or database error, 2 usage error.`;

// The API's own types (type-only: nothing of the engine is loaded into the CLI).
export type { KafkaPosition, ReplayFrom, ReplayMode, ReplaySource } from '../../libs/replay/src/replay.request';

/** The body of `POST /admin/projections/:name/replays`. */
export interface ReplayRequest {
  mode: ReplayMode;
  source: ReplaySource;
  from: ReplayFrom;
  scope?: { tenantId?: string; subjectId?: string };
  confirm?: string;
  batchSize?: number;
}

export interface SubjectRef {
  subjectType: string;
  subjectId: string;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'replay'; projection: string; request: ReplayRequest; detach: boolean }
  | { kind: 'status'; replayId?: string }
  | { kind: 'cancel'; replayId: string }
  | { kind: 'parked'; action?: { op: 'retry' | 'skip'; subject: SubjectRef } }
  | { kind: 'verify'; tenantId?: string; checkpointFile?: string; publicKeyFile?: string };

export interface Connection {
  url: string;
  /** Given by --token or the environment; absent means: generate a development token for `tenant`. */
  token?: string;
  tenant: string;
  /** The connection flags given on the command line, shell-quoted, for the commands the CLI suggests (no secret). */
  flags: string[];
}

export interface Cli {
  command: Command;
  connection: Connection;
  json: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  tenant: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  mode: { type: 'string' },
  source: { type: 'string' },
  from: { type: 'string' },
  'tenant-scope': { type: 'string' },
  subject: { type: 'string' },
  confirm: { type: 'string' },
  'batch-size': { type: 'string' },
  detach: { type: 'boolean' },
  retry: { type: 'string' },
  skip: { type: 'string' },
  checkpoint: { type: 'string' },
  'public-key': { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ['url', 'token', 'tenant', 'json', 'help'];
const COMMAND_OPTIONS: Record<Exclude<Command['kind'], 'help'>, OptionName[]> = {
  replay: ['mode', 'source', 'from', 'tenant-scope', 'subject', 'confirm', 'batch-size', 'detach'],
  status: [],
  cancel: [],
  parked: ['retry', 'skip'],
  verify: ['checkpoint', 'public-key'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KAFKA_TOPIC = /^[A-Za-z0-9._-]+$/;

export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Cli {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  const connection = parseConnection(values, env);
  const json = values.json ?? false;
  if (values.help || name === undefined || name === 'help') {
    if (name === undefined && !values.help) throw new UsageError('a command is required');
    return { command: { kind: 'help' }, connection, json };
  }
  if (!Object.hasOwn(COMMAND_OPTIONS, name)) throw new UsageError(`unknown command "${name}"`);
  const kind = name as keyof typeof COMMAND_OPTIONS;
  const allowed = new Set<string>([...COMMON, ...COMMAND_OPTIONS[kind]]);
  const misplaced = Object.keys(values).filter((option) => !allowed.has(option));
  if (misplaced.length > 0) throw new UsageError(`${name} does not take ${misplaced.map((o) => `--${o}`).join(', ')}`);

  switch (kind) {
    case 'replay': {
      const [projection] = exactly(args, 1, 'replay takes one projection name');
      return {
        command: { kind, projection, request: buildReplayRequest(values), detach: values.detach ?? false },
        connection,
        json,
      };
    }
    case 'status': {
      if (args.length > 1) throw new UsageError('status takes at most one replay id');
      return { command: { kind, replayId: args[0] }, connection, json };
    }
    case 'cancel': {
      const [replayId] = exactly(args, 1, 'cancel takes one replay id');
      return { command: { kind, replayId }, connection, json };
    }
    case 'parked': {
      exactly(args, 0, 'parked takes no arguments besides --retry or --skip');
      if (values.retry !== undefined && values.skip !== undefined)
        throw new UsageError('give --retry or --skip, not both');
      const target = values.retry ?? values.skip;
      if (target === undefined) return { command: { kind }, connection, json };
      return {
        command: {
          kind,
          action: { op: values.retry !== undefined ? 'retry' : 'skip', subject: parseSubjectRef(target) },
        },
        connection,
        json,
      };
    }
    case 'verify': {
      exactly(args, 0, 'verify takes no arguments besides its options');
      if (values['public-key'] !== undefined && values.checkpoint === undefined)
        throw new UsageError('--public-key checks a checkpoint: give --checkpoint too');
      return {
        command: {
          kind,
          ...(values.tenant !== undefined && { tenantId: nonEmpty(values.tenant, '--tenant') }),
          ...(values.checkpoint !== undefined && { checkpointFile: nonEmpty(values.checkpoint, '--checkpoint') }),
          ...(values['public-key'] !== undefined && {
            publicKeyFile: nonEmpty(values['public-key'], '--public-key'),
          }),
        },
        connection,
        json,
      };
    }
  }
}

function nonEmpty(value: string, option: string): string {
  if (value.trim() === '') throw new UsageError(`${option} must not be empty`);
  return value;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function parseConnection(values: Values, env: Readonly<Record<string, string | undefined>>): Connection {
  const url = values.url ?? (env.SPINE_URL || DEFAULT_URL);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')
    throw new UsageError(`"${url}" is not an http(s) URL`);
  if (values.token !== undefined && values.tenant !== undefined)
    throw new UsageError(
      '--tenant only applies to a generated token; a token given with --token carries its own tenant',
    );
  const flags = [
    ...(values.url !== undefined ? ['--url', shellQuote(values.url)] : []),
    ...(values.token !== undefined ? ['--token', '<token>'] : []),
    ...(values.tenant !== undefined ? ['--tenant', shellQuote(values.tenant)] : []),
  ];
  // An explicit --tenant asks for a generated token even when a token is set in the environment.
  const token = values.token ?? (values.tenant !== undefined ? undefined : env.SPINE_TOKEN || env.TOKEN || undefined);
  return { url: url.replace(/\/+$/, ''), token, tenant: values.tenant ?? DEFAULT_TENANT, flags };
}

function exactly(args: string[], count: number, message: string): string[] {
  if (args.length !== count) throw new UsageError(message);
  return args;
}

export function buildReplayRequest(values: Values): ReplayRequest {
  const mode = oneOf(values.mode ?? 'preview', ['preview', 'rebuild'] as const, '--mode');
  const source = oneOf(values.source ?? 'kafka', ['kafka', 'event-log'] as const, '--source');
  const request: ReplayRequest = { mode, source, from: parseFrom(values.from ?? 'earliest') };
  const tenantId = values['tenant-scope'];
  const subjectId = values.subject;
  if (tenantId !== undefined && tenantId.trim() === '') throw new UsageError('--tenant-scope must not be empty');
  if (subjectId !== undefined && !UUID.test(subjectId))
    throw new UsageError(`--subject must be a UUID, not "${subjectId}"`);
  if (tenantId !== undefined || subjectId !== undefined) {
    request.scope = { ...(tenantId !== undefined && { tenantId }), ...(subjectId !== undefined && { subjectId }) };
  }
  if (values.confirm !== undefined) {
    if (mode !== 'rebuild') throw new UsageError('--confirm signs off a rebuild: use it with --mode rebuild');
    if (values.confirm.trim() === '') throw new UsageError('--confirm needs the id of a finished preview');
    request.confirm = values.confirm;
  }
  if (values['batch-size'] !== undefined) request.batchSize = positiveInteger(values['batch-size'], '--batch-size');
  return request;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${option} must be ${allowed.join(' or ')}, not "${value}"`);
  return value as T;
}

function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${option} must be a positive integer, not "${value}"`);
  return n;
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** `earliest`, an ISO 8601 timestamp (normalised to UTC), or `topic:partition:offset[,...]`. */
export function parseFrom(value: string): ReplayFrom {
  if (value === 'earliest') return { earliest: true };
  const date = ISO_DATE_TIME.exec(value);
  if (date) {
    const [year, month, day] = date.slice(1, 4).map(Number);
    const calendar = new Date(Date.UTC(year, month - 1, day));
    const time = Date.parse(value);
    if (Number.isNaN(time) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day)
      throw new UsageError(`--from "${value}" is not a valid date`);
    return { timestamp: new Date(time).toISOString() };
  }
  if (!value.includes(':'))
    throw new UsageError(`--from must be earliest, an ISO timestamp or topic:partition:offset, not "${value}"`);
  const offsets = value.split(',').map(parsePosition);
  const keys = offsets.map((p) => `${p.topic}:${p.partition}`);
  const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
  if (duplicate !== undefined) throw new UsageError(`--from names ${duplicate} twice`);
  return { offsets };
}

const MAX_OFFSET = 2n ** 63n - 1n;

function parsePosition(text: string): KafkaPosition {
  const match = /^(.+):(\d+):(\d+)$/.exec(text.trim());
  if (!match || !KAFKA_TOPIC.test(match[1]))
    throw new UsageError(`--from position "${text}" is not topic:partition:offset (e.g. spine.account.events:0:42)`);
  const partition = Number(match[2]);
  const offset = BigInt(match[3]);
  if (!Number.isSafeInteger(partition) || offset > MAX_OFFSET)
    throw new UsageError(`--from position "${text}" has a partition or offset out of range`);
  return { topic: match[1], partition, offset: offset.toString() };
}

export function parseSubjectRef(text: string): SubjectRef {
  const slash = text.indexOf('/');
  const subjectType = text.slice(0, slash);
  const subjectId = text.slice(slash + 1);
  if (slash <= 0 || subjectId === '' || subjectId.includes('/'))
    throw new UsageError(`expected <subjectType>/<subjectId> (e.g. account/<uuid>), not "${text}"`);
  return { subjectType, subjectId };
}

/** `--from` as typed on the command line, for a request already built. */
export function formatFrom(from: ReplayFrom): string {
  if ('earliest' in from) return 'earliest';
  if ('timestamp' in from) return from.timestamp;
  return from.offsets.map((p) => `${p.topic}:${p.partition}:${p.offset}`).join(',');
}

/** The command that runs the rebuild a finished preview signs off: the same request, with `--confirm`. */
export function rebuildCommandLine(
  projection: string,
  request: ReplayRequest,
  previewId: string,
  connectionFlags: readonly string[] = [],
): string {
  const args = [
    'replay',
    projection,
    '--mode',
    'rebuild',
    '--source',
    request.source,
    '--from',
    formatFrom(request.from),
    ...(request.scope?.tenantId !== undefined ? ['--tenant-scope', request.scope.tenantId] : []),
    ...(request.scope?.subjectId !== undefined ? ['--subject', request.scope.subjectId] : []),
    ...(request.batchSize !== undefined ? ['--batch-size', String(request.batchSize)] : []),
    '--confirm',
    previewId,
  ].map(shellQuote);
  return ['npm run spine --', ...args, ...connectionFlags].join(' ');
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
