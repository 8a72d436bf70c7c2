import type { Statement } from '@event-spine/persistence';
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
  const { text, values } = readSubjectPositionsStatement(refs, lock);
  return (await db.query<SubjectPositionRow>(text, values)).rows;
}

/** `onlyIf`: a condition the read re-checks; when it fails, nothing is read or locked. */
export function readSubjectPositionsStatement(
  refs: readonly SubjectRefRow[],
  lock: boolean,
  onlyIf = 'true',
): Statement {
  return {
    text: `SELECT s.tenant_id, s.subject_type, s.subject_id, s.last_sequence, s.parked_reason
             FROM projector_subjects s
             JOIN unnest($1::text[], $2::text[], $3::text[]) AS x(t, st, id)
               ON s.tenant_id = x.t AND s.subject_type = x.st AND s.subject_id = x.id
            WHERE ${onlyIf}
            ${lock ? 'ORDER BY s.tenant_id, s.subject_type, s.subject_id FOR UPDATE OF s' : ''}`,
    values: [refs.map((r) => r.tenantId), refs.map((r) => r.subjectType), refs.map((r) => r.subjectId)],
  };
}

/** A batch's subjects that moved on or were parked: their last applied sequence and parked reason, upserted. */
export function saveSubjectPositionsStatement(
  rows: readonly (SubjectRefRow & { lastSequence: number; parkedReason: string | null })[],
): Statement {
  return {
    text: `INSERT INTO projector_subjects (tenant_id, subject_type, subject_id, last_sequence, parked_reason, parked_at)
           SELECT t, st, s, l, r, CASE WHEN r IS NULL THEN NULL ELSE now() END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) AS x(t, st, s, l, r)
           ON CONFLICT (tenant_id, subject_type, subject_id) DO UPDATE
             SET last_sequence = EXCLUDED.last_sequence,
                 parked_reason = EXCLUDED.parked_reason,
                 parked_at = CASE WHEN EXCLUDED.parked_reason IS NULL THEN NULL
                                  ELSE coalesce(projector_subjects.parked_at, now()) END`,
    values: [
      rows.map((r) => r.tenantId),
      rows.map((r) => r.subjectType),
      rows.map((r) => r.subjectId),
      rows.map((r) => r.lastSequence),
      rows.map((r) => r.parkedReason),
    ],
  };
}
