import type { ClientBase, Pool } from 'pg';

/** A pg pool or client as the stores take a database: a query answering its rows (a TypeORM manager's shape). */
export function rowsOf(db: Pool | ClientBase): { query<T>(sql: string, values?: unknown[]): Promise<T> } {
  return { query: async <T>(sql: string, values?: unknown[]) => (await db.query(sql, values)).rows as T };
}
