import { createHash } from 'node:crypto';

/**
 * One SQL statement with its parameters ($1, $2, …), in the shape the pg driver takes. Stores build them, one store
 * per table; an engine may send several stores' statements in one round trip with `combineWrites` or `pipeline`.
 */
export interface Statement {
  text: string;
  values: unknown[];
}

const PARAMETER = /\$(\d+)/g;

/**
 * Several data-modifying statements (on different tables) as one statement: each becomes a WITH query, all run on
 * one snapshot and commit or fail together, in one round trip instead of one each. The answer is one row with a
 * column `sN` per statement: the number of rows it returned (a statement without RETURNING answers 0). A statement
 * that reads what another of them writes would not see it, so each must stand alone. `checks` are more columns of that
 * row: expressions over the WITH queries (`s0`, `s1`, …) that raise an error when what they wrote must not commit.
 */
export function combineWrites(
  statements: readonly Statement[],
  options: { checks?: readonly string[] } = {},
): Statement {
  if (statements.length === 0) throw new Error('combineWrites: no statement');
  const values: unknown[] = [];
  const parts: string[] = [];
  const counts: string[] = [];
  statements.forEach((s, i) => {
    const offset = values.length;
    parts.push(`s${i} AS (${s.text.replace(PARAMETER, (_, n: string) => `$${Number(n) + offset}`)})`);
    counts.push(/\bRETURNING\b/i.test(s.text) ? `(SELECT count(*) FROM s${i})::int AS s${i}` : `0 AS s${i}`);
    values.push(...s.values);
  });
  return { text: `WITH ${parts.join(',\n')}\nSELECT ${[...counts, ...(options.checks ?? [])].join(', ')}`, values };
}

const names = new Map<string, string>();

/**
 * Options of a connection whose named statements are planned with their values on every use: still parsed once per
 * connection, but a lookup never keeps a generic plan made while its table was small (which, for a batch's subjects
 * passed as arrays, joined the whole table every time).
 */
export const CUSTOM_PLANS = '-c plan_cache_mode=force_custom_plan';

/**
 * The statement as a named prepared statement: each connection parses and plans it once, then only binds values.
 * For a statement the planner takes long over (several WITH queries over unnest), planning was most of its cost.
 * Named by a hash of its text, so statements built alike share a name; only for the few shapes an engine builds.
 */
export function prepared(statement: Statement): Statement & { name?: string } {
  let name = names.get(statement.text);
  if (!name) {
    // A connection keeps every statement it prepared: past this many shapes, texts are built with values in them,
    // and each is sent unnamed instead.
    if (names.size >= MAX_PREPARED_SHAPES) return statement;
    name = `spine_${createHash('sha256').update(statement.text).digest('hex').slice(0, 24)}`;
    names.set(statement.text, name);
  }
  return { name, ...statement };
}

const MAX_PREPARED_SHAPES = 1000;
