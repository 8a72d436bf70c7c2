import { createHash } from 'node:crypto';
import { escapeLiteral } from 'pg';

/**
 * One SQL statement with its parameters ($1, $2, …), in the shape the pg driver takes. Stores build them, one store
 * per table; an engine may send several stores' statements in one round trip with `combineWrites` or `inline`.
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
 * The statement as a named prepared statement: each connection parses and plans it once, then only binds values.
 * For a statement the planner takes long over (several WITH queries over unnest), planning was most of its cost.
 * Named by a hash of its text, so statements built alike share a name; only for the few shapes an engine builds.
 */
export function prepared(statement: Statement): Statement & { name: string } {
  let name = names.get(statement.text);
  if (!name) {
    name = `spine_${createHash('sha256').update(statement.text).digest('hex').slice(0, 24)}`;
    if (names.size < 1000) names.set(statement.text, name);
  }
  return { name, ...statement };
}

/**
 * A statement with its parameters written in as SQL literals, so it can travel with others (and BEGIN) in one
 * simple-protocol round trip, where each statement still takes its own snapshot. Strings go through the driver's
 * `escapeLiteral`; strings, numbers, booleans, null, Buffers (bytea), plain objects (JSON, as the driver sends them)
 * and flat arrays of those are taken.
 */
export function inline(statement: Statement): string {
  return statement.text.replace(PARAMETER, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= statement.values.length) throw new Error(`inline: no value for $${n}`);
    return literal(statement.values[index]);
  });
}

export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`inline: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string') return escapeLiteral(value);
  if (Buffer.isBuffer(value)) return escapeLiteral(`\\x${value.toString('hex')}`);
  if (Array.isArray(value)) return escapeLiteral(arrayLiteral(value));
  if (isPlainObject(value)) return escapeLiteral(JSON.stringify(value));
  throw new Error(`inline: a ${typeof value} cannot be written as a literal`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** PostgreSQL's array input syntax: each element double-quoted, with `"` and `\` escaped by a backslash. */
function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'string') return quoted(v);
    if (Buffer.isBuffer(v)) return quoted(`\\x${v.toString('hex')}`);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    throw new Error(`inline: an array of ${typeof v} cannot be written as a literal`);
  });
  return `{${elements.join(',')}}`;
}

const quoted = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
