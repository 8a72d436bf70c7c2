import { DomainError } from '@event-spine/domain';
import { sealedDataSubjects, type CausalKey, type EventCatalog, type EventEnvelope } from '@event-spine/events';
import { WRITABLE_HORIZON } from '@event-spine/persistence';
import { revealPersonalData } from './personal-data/reveal';

import type { Queryable } from './queryable';

export type { Queryable } from './queryable';

interface EventRow {
  global_position: string;
  tx_id: string;
  id: string;
  tenant_id: string;
  space_id: string;
  event_type: string;
  event_schema_version: number;
  subject_type: string;
  subject_id: string;
  actor_id: string;
  actor_type: string;
  action_invocation_id: string;
  payload: unknown;
  sequence: number;
  occurred_at: Date;
  recorded_at: Date;
  correlation_id: string;
  causation_id: string | null;
}

const COLUMNS = `global_position, tx_id::text AS tx_id, id, tenant_id, space_id, event_type, event_schema_version,
  subject_type, subject_id, actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at,
  correlation_id, causation_id`;

/** The stored event as written (no upcasting): what the relay publishes and what audits compare against. */
export function rowToEnvelope(row: EventRow): EventEnvelope {
  const envelope: EventEnvelope = {
    id: row.id,
    tenantId: row.tenant_id,
    spaceId: row.space_id,
    eventType: row.event_type,
    eventSchemaVersion: row.event_schema_version,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    actorId: row.actor_id,
    actorType: row.actor_type,
    actionInvocationId: row.action_invocation_id,
    payload: row.payload,
    sequence: row.sequence,
    occurredAt: row.occurred_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    correlationId: row.correlation_id,
  };
  if (row.causation_id !== null) envelope.causationId = row.causation_id;
  return envelope;
}

/**
 * Appends events in one statement. The unique (tenant, subject, sequence) constraint refuses a lost update.
 * `hashes` are the events' chain hashes (audit/chain.ts), one per event; the command executor always gives them.
 */
export async function appendEvents(
  db: Queryable,
  events: readonly EventEnvelope[],
  hashes?: readonly Buffer[],
): Promise<void> {
  if (events.length === 0) return;
  const { text, values } = appendEventsStatement(events, hashes);
  await db.query(text, values);
}

/** The statement `appendEvents` sends, for an engine that sends it with others in one round trip. */
export function appendEventsStatement(
  events: readonly EventEnvelope[],
  hashes?: readonly Buffer[],
): { text: string; values: unknown[] } {
  if (hashes && hashes.length !== events.length) throw new Error('appendEvents: one hash per event');
  const col = <K extends keyof EventEnvelope>(k: K) => events.map((e) => e[k]);
  return {
    text: `INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
        actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id,
        causation_id, hash, data_subject_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::uuid[], $11::jsonb[], $12::int[], $13::timestamptz[], $14::timestamptz[],
        $15::text[], $16::text[], $17::bytea[], $18::text[])`,
    values: [
      col('id'),
      col('tenantId'),
      col('spaceId'),
      col('eventType'),
      col('eventSchemaVersion'),
      col('subjectType'),
      col('subjectId'),
      col('actorId'),
      col('actorType'),
      col('actionInvocationId'),
      events.map((e) => JSON.stringify(e.payload)),
      col('sequence'),
      col('occurredAt'),
      col('recordedAt'),
      col('correlationId'),
      events.map((e) => e.causationId ?? null),
      events.map((_, i) => hashes?.[i] ?? null),
      events.map((e) => sealedDataSubjects(e.payload)[0] ?? null),
    ],
  };
}

export interface SubjectEventsQuery {
  tenantId: string;
  subjectType: string;
  subjectId: string;
  afterSequence?: number;
  limit?: number;
  recordedUpTo?: Date;
}

/** A subject's events in sequence order, upcast to current schema versions. */
export async function readSubjectEvents(
  db: Queryable,
  catalog: EventCatalog,
  q: SubjectEventsQuery,
): Promise<EventEnvelope[]> {
  const rows = await db.query<EventRow[]>(
    `SELECT ${COLUMNS} FROM event_log
      WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND sequence > $4
        AND ($6::timestamptz IS NULL OR recorded_at <= $6)
      ORDER BY sequence LIMIT $5`,
    [q.tenantId, q.subjectType, q.subjectId, q.afterSequence ?? 0, q.limit ?? 10_000, q.recordedUpTo ?? null],
  );
  return readable(db, catalog, rows);
}

/** Stored rows as readers see them: personal fields opened (or null once forgotten), then upcast. */
async function readable(db: Queryable, catalog: EventCatalog, rows: EventRow[]): Promise<EventEnvelope[]> {
  const revealed = await revealPersonalData(db, rows.map(rowToEnvelope));
  return revealed.map((e) => catalog.read(e));
}

/** The events of an invocation or a correlation, in the order they were recorded (upcast for reading). */
export async function readCausalEvents(
  db: Queryable,
  catalog: EventCatalog,
  tenantId: string,
  key: CausalKey,
  limit = 1000,
): Promise<EventEnvelope[]> {
  const [match, value] =
    'actionInvocationId' in key
      ? ['action_invocation_id = $2::uuid', key.actionInvocationId]
      : ['correlation_id = $2', key.correlationId];
  const rows = await db.query<EventRow[]>(
    `SELECT ${COLUMNS} FROM event_log WHERE tenant_id = $1 AND ${match} ORDER BY global_position LIMIT $3`,
    [tenantId, value, limit],
  );
  return readable(db, catalog, rows);
}

export async function findEvent(
  db: Queryable,
  catalog: EventCatalog,
  tenantId: string,
  eventId: string,
): Promise<EventEnvelope | undefined> {
  const rows = await db.query<EventRow[]>(`SELECT ${COLUMNS} FROM event_log WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    eventId,
  ]);
  return rows[0] ? (await readable(db, catalog, rows))[0] : undefined;
}

/**
 * Position in a tenant's feed: the writing transaction's id and the row's insertion position. Opaque to clients.
 */
export interface FeedPosition {
  txId: string;
  position: string;
}

const invalidCursor = () =>
  new DomainError('invalid', 'INVALID_CURSOR', 'The cursor is not one this service issued', { field: 'after' });

export function encodeCursor(p: FeedPosition): string {
  return Buffer.from(`v1:${p.txId}:${p.position}`).toString('base64url');
}

export function decodeCursor(cursor: string): FeedPosition {
  const match = /^v1:(\d{1,20}):(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || cursor.length > 80) throw invalidCursor();
  return { txId: match[1], position: match[2] };
}

/**
 * The tenant's events in a total order that never skips one: rows are read in (tx_id, position) order and only
 * from transactions older than the oldest transaction still in flight that could write this database
 * (`WRITABLE_HORIZON`: those of other databases are passed over). Such a transaction delays the feed until it commits
 * or aborts; it can never be passed over, which a cursor on the identity column alone would do when ids commit out of
 * order.
 */
export async function readFeed(
  db: Queryable,
  catalog: EventCatalog,
  tenantId: string,
  after: FeedPosition | undefined,
  limit: number,
): Promise<{ events: EventEnvelope[]; next: FeedPosition | undefined }> {
  const rows = await db.query<EventRow[]>(
    `SELECT ${COLUMNS} FROM event_log
      WHERE tenant_id = $1
        AND (tx_id, global_position) > ($2::xid8, $3::bigint)
        AND tx_id < (${WRITABLE_HORIZON})
      ORDER BY tx_id, global_position
      LIMIT $4`,
    [tenantId, after?.txId ?? '0', after?.position ?? '0', limit],
  );
  const last = rows[rows.length - 1];
  return {
    events: await readable(db, catalog, rows),
    next: last ? { txId: last.tx_id, position: last.global_position } : after,
  };
}
