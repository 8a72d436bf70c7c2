import type { Queryable } from './projection';

/** Statements on `projector_subjects`: each subject's last applied sequence and whether it is parked. */

export interface SubjectRefRow {
  tenantId: string;
  subjectType: string;
  subjectId: string;
}

export interface SubjectPositionRow {
  tenant_id: string;
  subject_type: string;
  subject_id: string;
  last_sequence: number;
  parked_reason: string | null;
}

/**
 * The stored positions of the given subjects (absent: never applied). `lock` takes their row locks in a fixed order
 * (the batch transaction applies them); a read without it is a look from outside (the causality query).
 */
export async function readSubjectPositions(
  db: Queryable,
  refs: readonly SubjectRefRow[],
  lock: boolean,
): Promise<SubjectPositionRow[]> {
  const { rows } = await db.query<SubjectPositionRow>(
    `SELECT s.tenant_id, s.subject_type, s.subject_id, s.last_sequence, s.parked_reason
       FROM projector_subjects s
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS x(t, st, id)
         ON s.tenant_id = x.t AND s.subject_type = x.st AND s.subject_id = x.id
      ${lock ? 'ORDER BY s.tenant_id, s.subject_type, s.subject_id FOR UPDATE OF s' : ''}`,
    [refs.map((r) => r.tenantId), refs.map((r) => r.subjectType), refs.map((r) => r.subjectId)],
  );
  return rows;
}
