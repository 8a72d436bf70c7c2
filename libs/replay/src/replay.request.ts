/** The admin replay API's request and answer, as data (SPEC section 9). */

export type ReplayMode = 'preview' | 'rebuild';
export type ReplaySource = 'kafka' | 'event-log';
export type ReplayState = 'running' | 'completed' | 'failed' | 'cancelled';

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

export type ReplayFrom = { earliest: true } | { timestamp: string } | { offsets: KafkaPosition[] };

export interface ReplayRequest {
  projection: string;
  mode: ReplayMode;
  source: ReplaySource;
  from: ReplayFrom;
  /** Always carries the tenant: a replay never reaches beyond the requesting admin's tenant. */
  scope: { tenantId: string; subjectId?: string };
  /** A finished preview of the same request: the sign-off a rebuild of a non-empty read model needs. */
  confirm?: string;
  /** Events per transaction while building the shadow. */
  batchSize: number;
}

export const DEFAULT_REPLAY_BATCH_SIZE = 1000;

/**
 * What a preview and the rebuild it signs off must agree on: projection, source, range and scope. Mode, confirm and
 * batch size are left out (they change how, not what).
 */
export function requestKey(request: ReplayRequest): string {
  const from =
    'offsets' in request.from
      ? {
          offsets: [...request.from.offsets]
            .map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) }))
            .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
        }
      : 'timestamp' in request.from
        ? { timestamp: new Date(request.from.timestamp).toISOString() }
        : { earliest: true };
  return JSON.stringify([
    request.projection,
    request.source,
    from,
    request.scope.tenantId,
    request.scope.subjectId ?? null,
  ]);
}

export interface RowSample {
  table: string;
  row?: Record<string, unknown>;
  live?: Record<string, unknown>;
  shadow?: Record<string, unknown>;
}

/** A preview's answer: how the read model rebuilt from the requested range differs from the live one. */
export interface ReplayDiff {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  tables: Record<string, { added: number; changed: number; removed: number; unchanged: number }>;
  samples: { added: RowSample[]; changed: RowSample[]; removed: RowSample[] };
  /** Subjects whose last applied sequence differs between the shadow and the live projection when compared. */
  subjectsDiffering: number;
}

export interface ReplayProgress {
  processed: number;
  total: number;
  applied: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
}

export interface ReplayView {
  replayId: string;
  projection: string;
  mode: ReplayMode;
  source: ReplaySource;
  from: ReplayFrom;
  scope: { tenantId: string; subjectId?: string };
  state: ReplayState;
  phase: string;
  requestedBy: string;
  requestedAt: string;
  finishedAt: string | null;
  progress: ReplayProgress;
  diff?: ReplayDiff;
  outcome?: Record<string, unknown>;
  error?: string;
}
