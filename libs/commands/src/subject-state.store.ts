import type { SubjectRef } from '@event-spine/domain';
import type { Queryable } from '@event-spine/event-log';

/** Every statement on `subject_state`: each subject's current state and the sequence of its last event. */

export interface SubjectStateRow {
  subject_type: string;
  subject_id: string;
  sequence: number;
  state: unknown;
  /** The chain hash of the subject's last event; null for a subject last written before hashing. */
  head_hash: Buffer | null;
}

/**
 * Transaction-scoped advisory locks on the subjects, taken in the order given (callers sort them, so two commands on
 * the same subjects never wait on each other in a cycle). Held until commit or rollback.
 */
export async function lockSubjects(db: Queryable, tenantId: string, refs: readonly SubjectRef[]): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k`, [
    refs.map((r) => JSON.stringify([tenantId, r.subjectType, r.subjectId])),
  ]);
}

export function loadSubjectStates(
  db: Queryable,
  tenantId: string,
  refs: readonly SubjectRef[],
): Promise<SubjectStateRow[]> {
  return db.query<SubjectStateRow[]>(
    `SELECT s.subject_type, s.subject_id, s.sequence, s.state, s.head_hash
       FROM subject_state s
       JOIN unnest($2::text[], $3::text[]) AS r(subject_type, subject_id) USING (subject_type, subject_id)
      WHERE s.tenant_id = $1`,
    [tenantId, refs.map((r) => r.subjectType), refs.map((r) => r.subjectId)],
  );
}

export async function readSubjectState<S>(
  db: Queryable,
  tenantId: string,
  ref: SubjectRef,
): Promise<{ state: S; sequence: number } | undefined> {
  const rows = await db.query<{ state: S; sequence: number }[]>(
    `SELECT state, sequence FROM subject_state WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3`,
    [tenantId, ref.subjectType, ref.subjectId],
  );
  return rows[0];
}

/**
 * A guarded write: inserts a new subject (`previous` 0) or moves an existing one from `previous` to `next.sequence`,
 * with the chain hash of its new last event. False when the subject is not where the caller loaded it (another
 * transaction moved it first).
 */
export async function saveSubjectState(
  db: Queryable,
  tenantId: string,
  ref: SubjectRef,
  previous: number,
  next: { sequence: number; state: unknown; headHash: Buffer },
  now: string,
): Promise<boolean> {
  // Wrapped in a CTE so the driver answers rows for both statements (it answers UPDATE with a row count).
  const [{ n }] = await db.query<{ n: number }[]>(
    previous === 0
      ? `WITH w AS (
           INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at, head_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1)
         SELECT count(*)::int AS n FROM w`
      : `WITH w AS (
           UPDATE subject_state SET sequence = $4, state = $5, updated_at = $6, head_hash = $7
            WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND sequence = $8 RETURNING 1)
         SELECT count(*)::int AS n FROM w`,
    [
      tenantId,
      ref.subjectType,
      ref.subjectId,
      next.sequence,
      JSON.stringify(next.state),
      now,
      next.headHash,
      ...(previous === 0 ? [] : [previous]),
    ],
  );
  return n === 1;
}

/** A subject's state folded again from its events (after a data subject was forgotten); sequence and head stay. */
export async function replaceSubjectState(db: Queryable, tenantId: string, ref: SubjectRef, state: unknown) {
  await db.query(
    `UPDATE subject_state SET state = $4, updated_at = now()
      WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3`,
    [tenantId, ref.subjectType, ref.subjectId, JSON.stringify(state)],
  );
}
