import type { Queryable, Projection } from '@event-spine/projections';
import type { ReplayDiff, RowSample } from './replay.request';

/** The projector's bookkeeping tables: a shadow gets its own copy, so its positions never touch the live ones. */
const BOOKKEEPING = ['projector_offsets', 'projector_subjects', 'parked_events', 'projector_fences'];

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
}

export interface ShadowScope {
  tenantId: string;
  subjectId?: string;
}

/**
 * A shadow is a schema of its own holding empty copies of the projection's tables and of the bookkeeping tables.
 * Projections name their tables without a schema, so the same `apply` code writes the shadow when the connection's
 * search_path points at it.
 */
export async function createShadow(db: Queryable, live: string, shadow: string, projection: Projection) {
  await db.query(`CREATE SCHEMA ${ident(shadow)}`);
  for (const table of [...BOOKKEEPING, ...projection.tables]) {
    await db.query(`CREATE TABLE ${ident(shadow)}.${ident(table)} (LIKE ${ident(live)}.${ident(table)} INCLUDING ALL)`);
  }
}

export async function dropShadow(db: Queryable, shadow: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(shadow)} CASCADE`);
}

function scopeWhere(projection: Projection, alias: string, scope: ShadowScope, params: unknown[]): string {
  params.push(scope.tenantId);
  let where = `${alias}.${ident(projection.scope.tenantColumn)} = $${params.length}`;
  if (scope.subjectId !== undefined && projection.scope.subjectColumn) {
    params.push(scope.subjectId);
    where += ` AND ${alias}.${ident(projection.scope.subjectColumn)} = $${params.length}`;
  }
  return where;
}

/** True when the live read model holds no row in scope: a rebuild then needs no sign-off. */
export async function liveIsEmpty(db: Queryable, live: string, projection: Projection, scope: ShadowScope) {
  for (const table of projection.tables) {
    const params: unknown[] = [];
    const { rows } = await db.query(
      `SELECT 1 FROM ${ident(live)}.${ident(table)} t WHERE ${scopeWhere(projection, 't', scope, params)} LIMIT 1`,
      params,
    );
    if (rows.length > 0) return false;
  }
  return true;
}

/** Subjects in scope whose last applied sequence differs between the live projection and the shadow. */
export async function subjectsDiffering(db: Queryable, live: string, shadow: string, scope: ShadowScope) {
  const { rows } = await db.query<{ n: number; samples: unknown[] | null }>(
    `SELECT count(*)::int AS n,
            (jsonb_agg(jsonb_build_object('subjectType', subject_type, 'subjectId', subject_id,
                       'live', coalesce(l.last_sequence, 0), 'shadow', coalesce(s.last_sequence, 0))))
              -> 0 AS samples
       FROM ${ident(live)}.projector_subjects l
       FULL JOIN ${ident(shadow)}.projector_subjects s USING (tenant_id, subject_type, subject_id)
      WHERE tenant_id = $1 AND ($2::text IS NULL OR subject_id = $2)
        AND coalesce(l.last_sequence, 0) <> coalesce(s.last_sequence, 0)`,
    [scope.tenantId, scope.subjectId ?? null],
  );
  return { count: rows[0]?.n ?? 0, example: rows[0]?.samples ?? undefined };
}

async function primaryKey(db: Queryable, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ column: string }>(
    `SELECT a.attname AS column
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey, a.attnum)`,
    [schema, table],
  );
  if (rows.length === 0) throw new Error(`${table} has no primary key: a replay cannot compare its rows`);
  return rows.map((r) => r.column);
}

const SAMPLES = 5;

/** Row-by-row comparison of the shadow with the live read model, in scope, by primary key. Reads only. */
export async function diffShadow(
  db: Queryable,
  live: string,
  shadow: string,
  projection: Projection,
  scope: ShadowScope,
): Promise<Omit<ReplayDiff, 'subjectsDiffering'>> {
  const diff: Omit<ReplayDiff, 'subjectsDiffering'> = {
    added: 0,
    changed: 0,
    removed: 0,
    unchanged: 0,
    tables: {},
    samples: { added: [], changed: [], removed: [] },
  };
  for (const table of projection.tables) {
    const key = await primaryKey(db, live, table);
    const params: unknown[] = [];
    const liveRows = `SELECT t.*, true AS spine_present FROM ${ident(live)}.${ident(table)} t WHERE ${scopeWhere(projection, 't', scope, params)}`;
    const shadowRows = `SELECT t.*, true AS spine_present FROM ${ident(shadow)}.${ident(table)} t WHERE ${scopeWhere(projection, 't', scope, params)}`;
    const on = key.map((k) => `l.${ident(k)} = s.${ident(k)}`).join(' AND ');
    const { rows } = await db.query<{ kind: keyof typeof diff.samples | 'unchanged'; n: number; samples: unknown[] }>(
      `WITH d AS (
         SELECT CASE WHEN l.spine_present IS NULL THEN 'added'
                     WHEN s.spine_present IS NULL THEN 'removed'
                     WHEN to_jsonb(l) = to_jsonb(s) THEN 'unchanged'
                     ELSE 'changed' END AS kind,
                to_jsonb(l) - 'spine_present' AS live, to_jsonb(s) - 'spine_present' AS shadow
           FROM (${liveRows}) l FULL JOIN (${shadowRows}) s ON ${on}),
       n AS (SELECT d.*, row_number() OVER (PARTITION BY kind) AS rn FROM d)
       SELECT kind, count(*)::int AS n,
              coalesce(jsonb_agg(jsonb_build_object('live', live, 'shadow', shadow)) FILTER (WHERE rn <= ${SAMPLES}
                       AND kind <> 'unchanged'), '[]') AS samples
         FROM n GROUP BY kind`,
      params,
    );
    const counts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
    for (const row of rows) {
      counts[row.kind] = row.n;
      if (row.kind === 'unchanged') continue;
      for (const sample of row.samples as {
        live: Record<string, unknown> | null;
        shadow: Record<string, unknown> | null;
      }[]) {
        const target = diff.samples[row.kind];
        if (target.length >= SAMPLES) break;
        const entry: RowSample =
          row.kind === 'changed'
            ? { table, live: sample.live ?? undefined, shadow: sample.shadow ?? undefined }
            : { table, row: (row.kind === 'added' ? sample.shadow : sample.live) ?? undefined };
        target.push(entry);
      }
    }
    diff.tables[table] = counts;
    diff.added += counts.added;
    diff.changed += counts.changed;
    diff.removed += counts.removed;
    diff.unchanged += counts.unchanged;
  }
  return diff;
}

/**
 * Replaces the live rows in scope with the shadow's, table by table, inside the caller's transaction: readers see
 * the old rows or the new ones, never a mix.
 */
export async function swapShadowIn(
  db: Queryable,
  live: string,
  shadow: string,
  projection: Projection,
  scope: ShadowScope,
): Promise<Record<string, { removed: number; inserted: number }>> {
  const result: Record<string, { removed: number; inserted: number }> = {};
  for (const table of projection.tables) {
    const p1: unknown[] = [];
    const removed = await db.query(
      `DELETE FROM ${ident(live)}.${ident(table)} t WHERE ${scopeWhere(projection, 't', scope, p1)}`,
      p1,
    );
    const p2: unknown[] = [];
    const inserted = await db.query(
      `INSERT INTO ${ident(live)}.${ident(table)} SELECT t.* FROM ${ident(shadow)}.${ident(table)} t
        WHERE ${scopeWhere(projection, 't', scope, p2)}`,
      p2,
    );
    result[table] = { removed: removed.rowCount ?? 0, inserted: inserted.rowCount ?? 0 };
  }
  return result;
}
