/**
 * Reading the event log for its hash chains: every stored field exactly as stored (timestamps to the microsecond)
 * and the stored hash. No framework import: the CLI loads this file with a bare pg client.
 */
import { chainHash, GENESIS_HASH, type ChainEnvelope } from './chain';

/** Anything that runs a parameterised query and answers rows: a TypeORM DataSource/EntityManager, or a pg adapter. */
export interface ChainQueryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export interface ChainRow {
  global_position: string;
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
  occurred_at: string;
  recorded_at: string;
  correlation_id: string;
  causation_id: string | null;
  hash: Buffer | null;
}

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Timestamps as text to the microsecond: a change below the millisecond is a change too. */
export const CHAIN_COLUMNS = `global_position::text AS global_position, id, tenant_id, space_id, event_type,
  event_schema_version, subject_type, subject_id, actor_id, actor_type, action_invocation_id, payload, sequence,
  to_char(occurred_at AT TIME ZONE 'UTC', ${ISO_US}) AS occurred_at,
  to_char(recorded_at AT TIME ZONE 'UTC', ${ISO_US}) AS recorded_at, correlation_id, causation_id, hash`;

/**
 * `2025-01-02T03:04:05.678000Z` → `2025-01-02T03:04:05.678Z` (what `Date#toISOString` wrote). A timestamp with
 * microseconds keeps all six digits, so it can never equal what the executor hashed.
 */
export function isoAsStored(text: string): string {
  return text.replace(/\.(\d{3})000Z$/, '.$1Z');
}

export function chainEnvelopeOf(row: ChainRow): ChainEnvelope {
  return {
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
    occurredAt: isoAsStored(row.occurred_at),
    recordedAt: isoAsStored(row.recorded_at),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
  };
}

/** The key chains are walked in: the event log's unique (tenant, subject type, subject id, sequence). */
export interface ChainCursor {
  tenantId: string;
  subjectType: string;
  subjectId: string;
  sequence: number;
}

/**
 * Every event of a tenant (or of all tenants), in chain order, a page at a time: keyset pages over the unique index
 * `event_log_subject_sequence`, so memory holds one page and each page is an index range scan.
 */
export async function* streamChainRows(
  db: ChainQueryable,
  options: { tenantId?: string; pageSize?: number } = {},
): AsyncGenerator<ChainRow> {
  const pageSize = options.pageSize ?? 2000;
  let after: ChainCursor | undefined;
  for (;;) {
    const params: unknown[] = [pageSize];
    const where: string[] = [];
    if (options.tenantId !== undefined) where.push(`tenant_id = $${params.push(options.tenantId)}`);
    if (after) {
      const p = [after.tenantId, after.subjectType, after.subjectId, after.sequence].map((v) => `$${params.push(v)}`);
      where.push(`(tenant_id, subject_type, subject_id, sequence) > (${p.join(', ')})`);
    }
    const rows = await db.query<ChainRow[]>(
      `SELECT ${CHAIN_COLUMNS} FROM event_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY tenant_id, subject_type, subject_id, sequence LIMIT $1`,
      params,
    );
    yield* rows;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1];
    after = {
      tenantId: last.tenant_id,
      subjectType: last.subject_type,
      subjectId: last.subject_id,
      sequence: last.sequence,
    };
  }
}

/** A subject's events in sequence order, for the one-time adoption of a subject written before hashing. */
export function readSubjectChainRows(
  db: ChainQueryable,
  tenantId: string,
  subjectType: string,
  subjectId: string,
): Promise<ChainRow[]> {
  return db.query<ChainRow[]>(
    `SELECT ${CHAIN_COLUMNS} FROM event_log
      WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 ORDER BY sequence`,
    [tenantId, subjectType, subjectId],
  );
}

/**
 * The head of a subject's chain as verification computes it: a stored hash where there is one, the computed hash for
 * an event written before hashing (hash NULL). For a subject whose `subject_state` has no head yet. Does not verify:
 * `verifyChains` does.
 */
export async function computeSubjectHead(
  db: ChainQueryable,
  tenantId: string,
  subjectType: string,
  subjectId: string,
): Promise<{ sequence: number; hash: Buffer }> {
  let head = { sequence: 0, hash: GENESIS_HASH };
  for (const row of await readSubjectChainRows(db, tenantId, subjectType, subjectId)) {
    head = { sequence: row.sequence, hash: row.hash ?? chainHash(head.hash, chainEnvelopeOf(row)) };
  }
  return head;
}
