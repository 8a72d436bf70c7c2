import type { SubjectRef } from '@event-spine/domain';
import type { Queryable } from '@event-spine/event-log';
import type { Statement } from '@event-spine/persistence';

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
  const { text, values } = lockSubjectsStatement(tenantId, refs);
  await db.query(text, values);
}

export function lockSubjectsStatement(tenantId: string, refs: readonly SubjectRef[]): Statement {
  return {
    text: `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k`,
    values: [refs.map((r) => JSON.stringify([tenantId, r.subjectType, r.subjectId]))],
  };
}

export function loadSubjectStatesStatement(tenantId: string, refs: readonly SubjectRef[]): Statement {
  return {
    text: `SELECT s.subject_type, s.subject_id, s.sequence, s.state, s.head_hash
       FROM subject_state s
       JOIN unnest($2::text[], $3::text[]) AS r(subject_type, subject_id) USING (subject_type, subject_id)
      WHERE s.tenant_id = $1`,
    values: [tenantId, refs.map((r) => r.subjectType), refs.map((r) => r.subjectId)],
  };
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

export interface SubjectStateChange {
  ref: SubjectRef;
  /** The sequence it was loaded at: 0 for a subject not stored yet. */
  previous: number;
  next: { sequence: number; state: unknown; headHash: Buffer };
}

/**
 * The guarded writes of several subjects: at most two statements (new subjects, stored ones), each returning one row
 * per subject written, so fewer rows in all than changes means another transaction moved one first. A new subject is
 * inserted (a conflict writes nothing), a stored one updated only at the sequence it was loaded at.
 */
export function saveSubjectStatesStatements(
  tenantId: string,
  changes: readonly SubjectStateChange[],
  now: string,
): Statement[] {
  const columns = (picked: readonly SubjectStateChange[]) => [
    tenantId,
    picked.map((c) => c.ref.subjectType),
    picked.map((c) => c.ref.subjectId),
    picked.map((c) => c.next.sequence),
    picked.map((c) => JSON.stringify(c.next.state)),
    picked.map((c) => c.next.headHash),
    now,
  ];
  const fresh = changes.filter((c) => c.previous === 0);
  const stored = changes.filter((c) => c.previous > 0);
  const statements: Statement[] = [];
  if (fresh.length > 0) {
    statements.push({
      text: `INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at, head_hash)
             SELECT $1, t, i, q, s, $7, h FROM unnest($2::text[], $3::text[], $4::int[], $5::jsonb[], $6::bytea[])
               AS c(t, i, q, s, h)
             ON CONFLICT DO NOTHING RETURNING 1`,
      values: columns(fresh),
    });
  }
  if (stored.length > 0) {
    statements.push({
      text: `UPDATE subject_state x SET sequence = c.q, state = c.s, updated_at = $7, head_hash = c.h
               FROM unnest($2::text[], $3::text[], $4::int[], $5::jsonb[], $6::bytea[], $8::int[]) AS c(t, i, q, s, h, p)
              WHERE x.tenant_id = $1 AND x.subject_type = c.t AND x.subject_id = c.i AND x.sequence = c.p
             RETURNING 1`,
      values: [...columns(stored), stored.map((c) => c.previous)],
    });
  }
  return statements;
}

/** A subject's state folded again from its events (after a data subject was forgotten); sequence and head stay. */
export async function replaceSubjectState(db: Queryable, tenantId: string, ref: SubjectRef, state: unknown) {
  await db.query(
    `UPDATE subject_state SET state = $4, updated_at = now()
      WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3`,
    [tenantId, ref.subjectType, ref.subjectId, JSON.stringify(state)],
  );
}
