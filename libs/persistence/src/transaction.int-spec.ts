import type { Pool } from 'pg';
import { TestSchema } from '@event-spine/testing';
import { withTransaction } from './transaction';

describe('withTransaction (real PostgreSQL)', () => {
  let schema: TestSchema;
  let pool: Pool;

  beforeAll(async () => {
    schema = await TestSchema.create('tx');
    pool = schema.pool;
    await pool.query(`CREATE TABLE t (v int)`);
  });
  afterAll(() => schema.drop());

  const values = async () => (await pool.query<{ v: number }>(`SELECT v FROM t ORDER BY v`)).rows.map((r) => r.v);

  it('commits the work, and hands the pool its connection back', async () => {
    const idle = pool.idleCount;
    expect(
      await withTransaction(pool, async (c) => (await c.query(`INSERT INTO t VALUES (1) RETURNING v`)).rowCount),
    ).toBe(1);
    expect(await values()).toEqual([1]);
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(pool.idleCount).toBeGreaterThanOrEqual(idle);
  });

  it('rolls back everything when the work throws, and rethrows', async () => {
    await expect(
      withTransaction(pool, async (c) => {
        await c.query(`INSERT INTO t VALUES (2)`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await values()).toEqual([1]);
  });

  it('rolls back when the work asks for it, and returns its value', async () => {
    const value = await withTransaction(pool, async (c, tx) => {
      await c.query(`INSERT INTO t VALUES (3)`);
      tx.rollback();
      return 'looked';
    });
    expect(value).toBe('looked');
    expect(await values()).toEqual([1]);
  });

  it('runs on a caller’s own client and leaves it connected', async () => {
    const client = await pool.connect();
    try {
      await withTransaction(client, async (c) => void (await c.query(`INSERT INTO t VALUES (4)`)));
      expect((await client.query(`SELECT 1 AS one`)).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
    expect(await values()).toEqual([1, 4]);
  });

  it('applies a lock timeout to the transaction only', async () => {
    const timeout = await withTransaction(
      pool,
      async (c) => (await c.query<{ lock_timeout: string }>(`SHOW lock_timeout`)).rows[0].lock_timeout,
      { lockTimeout: '3s' },
    );
    expect(timeout).toBe('3s');
    expect((await pool.query<{ lock_timeout: string }>(`SHOW lock_timeout`)).rows[0].lock_timeout).toBe('0');
  });
});
