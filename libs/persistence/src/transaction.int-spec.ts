import type { Pool } from 'pg';
import { TestSchema } from '@event-spine/testing';
import { combineWrites, inline } from './statements';
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

  it('sends the opening statements with BEGIN and hands their results over, each read after the lock before it', async () => {
    const holder = await pool.connect();
    try {
      await holder.query(`BEGIN`);
      await holder.query(`SELECT pg_advisory_xact_lock(42)`);
      await holder.query(`INSERT INTO t VALUES (5)`);
      const opening = withTransaction(pool, async (_c, tx) => tx.opened.map((r) => r.rows as unknown[]), {
        openWith: [`SELECT pg_advisory_xact_lock(42)`, `SELECT max(v) AS v FROM t`],
        lockTimeout: '5s',
      });
      await new Promise((r) => setTimeout(r, 100));
      // The holder commits while the opening waits on its lock: the read after the lock sees the committed row.
      await holder.query(`COMMIT`);
      expect(await opening).toEqual([[{ pg_advisory_xact_lock: '' }], [{ v: 5 }]]);
    } finally {
      holder.release();
    }
  });

  it('reads inlined values back exactly as the parameters would be, and writes several tables in one statement', async () => {
    const tricky = ['plain', `it's`, 'back\\slash', 'quote"d', '{braces,comma}', 'NULL', '', 'ünïcödé $1'];
    const statement = {
      text: `SELECT $1::text[] AS a, $2::text AS s, $3::bytea AS b, $4::bytea[] AS bs, $5::json AS j, $6::int[] AS n`,
      values: [tricky, `'; --`, Buffer.from('hi'), [Buffer.from([0, 92, 34]), null], { q: `"it's"\\` }, [1, -2]],
    };
    const viaLiteral = (await pool.query(inline(statement))).rows[0];
    const viaParameters = (await pool.query(statement)).rows[0];
    expect(viaLiteral).toEqual(viaParameters);
    expect(viaLiteral.a).toEqual(tricky);
    expect(viaLiteral.bs).toEqual([Buffer.from([0, 92, 34]), null]);

    await pool.query(`CREATE TABLE u (w text)`);
    const { rows } = await pool.query<Record<string, number>>(
      combineWrites([
        { text: `INSERT INTO t SELECT * FROM unnest($1::int[]) RETURNING 1`, values: [[6, 7]] },
        { text: `INSERT INTO u VALUES ($1)`, values: ['w'] },
        { text: `UPDATE t SET v = v WHERE v = $1 RETURNING 1`, values: [999] },
      ]),
    );
    expect(rows).toEqual([{ s0: 2, s1: 0, s2: 0 }]);
    expect(await values()).toEqual([1, 4, 5, 6, 7]);
    expect((await pool.query(`SELECT w FROM u`)).rows).toEqual([{ w: 'w' }]);
  });
});
