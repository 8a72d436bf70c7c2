import type { ClientBase, Pool, PoolClient, QueryResult } from 'pg';

export interface Transaction {
  /** Ends the transaction with ROLLBACK instead of COMMIT once the work returns (a look that decided to change nothing). */
  rollback(): void;
  /** The results of `openWith`'s statements, in order. */
  readonly opened: QueryResult[];
}

export interface TransactionOptions {
  /** `SET LOCAL lock_timeout`: how long a lock may be waited for before the transaction fails (e.g. `'10s'`). */
  lockTimeout?: string;
  /**
   * Statements without parameters (see `inline`) sent with BEGIN in the same round trip. Under READ COMMITTED each
   * still reads a snapshot taken when it starts, so a read after a lock sees what the lock's last holder committed.
   */
  openWith?: readonly string[];
}

/**
 * The one way the platform's engines run a transaction on a pg pool or client: BEGIN, the work, COMMIT; ROLLBACK
 * when the work throws (the error is rethrown) or asked for it. A client taken from a pool goes back to it.
 */
export function withTransaction<T>(
  db: Pool,
  work: (client: PoolClient, tx: Transaction) => Promise<T>,
  options?: TransactionOptions,
): Promise<T>;
export function withTransaction<C extends ClientBase, T>(
  db: C,
  work: (client: C, tx: Transaction) => Promise<T>,
  options?: TransactionOptions,
): Promise<T>;
export async function withTransaction<T>(
  db: Pool | ClientBase,
  work: (client: PoolClient, tx: Transaction) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const pooled = 'totalCount' in db;
  // A caller's own client is handed back as it came (the overloads keep its type); only a pool's is released.
  const client = (pooled ? await db.connect() : db) as PoolClient;
  let rollback = false;
  try {
    const opening = ['BEGIN'];
    if (options.lockTimeout) opening.push(`SET LOCAL lock_timeout = '${options.lockTimeout.replace(/'/g, '')}'`);
    const skip = opening.length;
    opening.push(...(options.openWith ?? []));
    const answered = (await client.query(opening.join(';\n'))) as QueryResult | QueryResult[];
    const opened = Array.isArray(answered) ? answered.slice(skip) : [];
    const result = await work(client, { rollback: () => void (rollback = true), opened });
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (pooled) client.release();
  }
}
