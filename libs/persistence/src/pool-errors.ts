import type { Pool } from 'pg';

/**
 * A pg Pool re-emits errors of idle connections, and a connection checked out but between queries emits its own:
 * without listeners either one crashes the process when the database restarts. Logged instead; the next query gets
 * a fresh connection.
 */
export function surviveDatabaseRestarts(pool: Pool, warn: (message: object) => void): Pool {
  const report = (error: Error) => warn({ message: 'database connection lost', error: String(error) });
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
  return pool;
}
