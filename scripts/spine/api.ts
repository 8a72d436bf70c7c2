/** The projector's admin API over global fetch: JSON in and out, API errors and an unreachable server as errors. */
import type { ReplayRequest, SubjectRef } from './cli';

export interface PartitionStatus {
  topic: string;
  partition: number;
  offset: number;
  lag: number;
  applied: number;
  duplicates: number;
  parked: number;
}

export interface ProjectionStatus {
  name: string;
  version: number | string;
  partitions?: PartitionStatus[];
  parkedSubjects?: number;
}

export interface ProjectionsResponse {
  consumerGroup?: string;
  projections: ProjectionStatus[];
}

export interface ReplayProgress {
  processed: number;
  total?: number | null;
  eventsPerSecond?: number | null;
  etaSeconds?: number | null;
}

export interface DiffCounts {
  added: number;
  changed: number;
  removed: number;
  unchanged?: number;
}

/** A sample is a row that was added or removed (`row`), or changed (`live` → `shadow`), in a table. */
export interface RowSample {
  table: string;
  row?: Record<string, unknown>;
  live?: Record<string, unknown>;
  shadow?: Record<string, unknown>;
}

export interface ReplayDiff extends DiffCounts {
  tables?: Record<string, DiffCounts>;
  samples?: { added?: unknown[]; changed?: unknown[]; removed?: unknown[] };
  /** Subjects whose last applied sequence differs between the shadow and the live projection. */
  subjectsDiffering?: number;
}

export const FINAL_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];

export interface ReplayStatus {
  replayId?: string;
  projection?: string;
  state: string;
  phase?: string;
  mode?: string;
  source?: string;
  progress?: ReplayProgress;
  diff?: ReplayDiff | null;
  /** A rebuild's result: `swapped` says whether the rebuilt read model went live. */
  outcome?: { swapped?: boolean } & Record<string, unknown>;
  swapped?: boolean;
  error?: string | { code?: string; message?: string } | null;
}

export interface ParkedEvent {
  sequence?: number;
  eventId?: string;
  reason?: string | null;
  topic?: string;
  partition?: number;
  offset?: string | number;
}

export interface ParkedSubject {
  subjectType: string;
  subjectId: string;
  reason?: string | null;
  parkedAt?: string;
  lastAppliedSequence?: number | string | null;
  events?: ParkedEvent[];
}

export interface ReleaseResult {
  subjectType: string;
  subjectId: string;
  released?: number;
  applied?: number;
  duplicates?: number;
  parkedAgain?: number;
  state?: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** An answer of 4xx/5xx, from the API's error body `{statusCode, code, message, details?|errors?}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `cannot reach the projector at ${url} (${reason}); is it running? ` +
        '(`npm run up` starts it; --url or SPINE_URL point elsewhere)',
    );
    this.name = 'UnreachableError';
  }
}

export interface AdminApiOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class AdminApi {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: AdminApiOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async startReplay(projection: string, request: ReplayRequest): Promise<string> {
    const body = await this.request('POST', `/admin/projections/${encodeURIComponent(projection)}/replays`, request);
    if (!isRecord(body) || typeof body.replayId !== 'string')
      throw new HttpError(502, 'UNEXPECTED_RESPONSE', 'the replay was accepted without a replayId');
    return body.replayId;
  }

  async replay(replayId: string): Promise<ReplayStatus> {
    const body = await this.request('GET', `/admin/replays/${encodeURIComponent(replayId)}`);
    if (!isRecord(body) || typeof body.state !== 'string')
      throw new HttpError(502, 'UNEXPECTED_RESPONSE', 'the replay status has no state');
    return body as unknown as ReplayStatus;
  }

  async cancel(replayId: string): Promise<unknown> {
    return this.request('POST', `/admin/replays/${encodeURIComponent(replayId)}/cancel`);
  }

  async projections(): Promise<ProjectionsResponse> {
    const body = await this.request('GET', '/admin/projections');
    if (!isRecord(body) || !Array.isArray(body.projections))
      throw new HttpError(502, 'UNEXPECTED_RESPONSE', 'the projections status has no projections list');
    return body as unknown as ProjectionsResponse;
  }

  async parked(): Promise<{ parked: ParkedSubject[] }> {
    const body = await this.request('GET', '/admin/parked');
    if (!isRecord(body) || !Array.isArray(body.parked))
      throw new HttpError(502, 'UNEXPECTED_RESPONSE', 'the parked list has no parked array');
    return body as unknown as { parked: ParkedSubject[] };
  }

  async release(op: 'retry' | 'skip', subject: SubjectRef): Promise<ReleaseResult> {
    const path = `/admin/parked/${encodeURIComponent(subject.subjectType)}/${encodeURIComponent(subject.subjectId)}/${op}`;
    return (await this.request('POST', path)) as ReleaseResult;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.options.baseUrl}${path}`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(this.options.baseUrl, unreachableReason(error, this.timeoutMs));
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) throw httpErrorFrom(response.status, parsed, text);
    return parsed;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads `{code, message}` and the field errors, either `errors: [{field, message}]` or `details: [{field, errors}]`;
 * details that are an object are listed key by key.
 */
export function httpErrorFrom(status: number, body: unknown, text = ''): HttpError {
  if (!isRecord(body)) {
    const snippet = text.trim().slice(0, 200);
    return new HttpError(status, `HTTP_${status}`, snippet === '' ? 'no error body' : snippet);
  }
  const code = typeof body.code === 'string' ? body.code : `HTTP_${status}`;
  const message = typeof body.message === 'string' ? body.message : 'no message';
  const listed = [body.errors, body.details].flatMap((list) => (Array.isArray(list) ? (list as unknown[]) : []));
  const fieldErrors = listed.flatMap((entry): FieldError[] => {
    if (!isRecord(entry)) return [];
    const field = typeof entry.field === 'string' ? entry.field : '?';
    if (typeof entry.message === 'string') return [{ field, message: entry.message }];
    if (Array.isArray(entry.errors))
      return entry.errors.filter((m): m is string => typeof m === 'string').map((m) => ({ field, message: m }));
    return [];
  });
  // Details that are not a list of field errors (e.g. `{projections: [...]}` with PROJECTION_NOT_FOUND): one line each.
  const extra = isRecord(body.details)
    ? Object.entries(body.details).map(([field, value]) => ({
        field,
        message: typeof value === 'string' ? value : JSON.stringify(value),
      }))
    : [];
  return new HttpError(status, code, message, [...fieldErrors, ...extra]);
}

function unreachableReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (isRecord(cause) && typeof cause.code === 'string') return cause.code;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
