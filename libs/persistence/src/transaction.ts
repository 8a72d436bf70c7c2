import type { ClientBase, Pool, PoolClient, QueryResult } from 'pg';
import { pipeline, type PipelinedStatement } from './pipeline';

export interface Transaction {
  /** Ends the transaction with ROLLBACK instead of COMMIT once the work returns (a look that decided to change nothing). */
  rollback(): void;
  /** The results of `openWith`'s statements, in order. */
  readonly opened: QueryResult[];
  /**
   * Sends the work's last statements with COMMIT, in one round trip, and answers their results. If one fails, nothing
   * after it runs (COMMIT neither) and the error is thrown: the transaction is rolled back as for any error, so a
   * statement that must hold for the transaction to commit checks itself and raises. The work sends nothing after it.
   */
  commitWith(statements: readonly PipelinedStatement[]): Promise<QueryResult[]>;
}

export interface TransactionOptions {
  /** `SET LOCAL lock_timeout`: how long a lock may be waited for before the transaction fails (e.g. `'10s'`). */
  lockTimeout?: string;
  /**
   * Statements sent with BEGIN in the same round trip (named ones, see `prepared`, are planned once per connection).
   * Under READ COMMITTED each still reads a snapshot taken when it starts, so a read after a lock sees what the lock's
   * last holder committed.
   */
  openWith?: readonly PipelinedStatement[];
  /**
   * `false`: COMMIT returns without waiting for the WAL flush (`SET LOCAL synchronous_commit = off`). Only for writes
   * a crash of the database may take back because they are derived and redone from their source (a projector's batch
   * commits its read models with its Kafka position: what a crash takes back, it reads and applies again).
   */
  waitForFlush?: boolean;
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
  let committed = false;
  const tx: Transaction = {
    rollback: () => void (rollback = true),
    opened: [],
    commitWith: async (statements) => {
      if (committed) throw new Error('withTransaction: commitWith was called twice');
      const answered = await pipeline(client, [...statements, { text: 'COMMIT' }]);
      // An aborted transaction answers COMMIT with ROLLBACK, without an error.
      if (answered[statements.length].command !== 'COMMIT')
        throw new Error('withTransaction: the transaction was rolled back');
      committed = true;
      return answered.slice(0, statements.length);
    },
  };
  try {
    const opening: PipelinedStatement[] = [{ text: 'BEGIN' }];
    if (options.lockTimeout) {
      opening.push({ text: `SET LOCAL lock_timeout = '${options.lockTimeout.replace(/'/g, '')}'` });
    }
    if (options.waitForFlush === false) opening.push({ text: 'SET LOCAL synchronous_commit = off' });
    const skip = opening.length;
    opening.push(...(options.openWith ?? []));
    const opened = (await pipeline(client, opening)).slice(skip);
    const result = await work(client, { ...tx, opened });
    if (!committed) await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    if (!committed) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (pooled) client.release();
  }
}
