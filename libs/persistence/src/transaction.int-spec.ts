import type { Pool } from 'pg';
import { TestSchema } from '@event-spine/testing';
import { pipeline } from './pipeline';
import { combineWrites, prepared } from './statements';
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

  it('commits without waiting for the WAL flush when told, for that transaction only, and the work is committed', async () => {
    const client = await pool.connect();
    try {
      const inside = await withTransaction(
        client,
        async (c) => {
          await c.query(`INSERT INTO t VALUES (5)`);
          return (await c.query<{ synchronous_commit: string }>(`SHOW synchronous_commit`)).rows[0].synchronous_commit;
        },
        { waitForFlush: false },
      );
      expect(inside).toBe('off');
      const after = await client.query<{ synchronous_commit: string }>(`SHOW synchronous_commit`);
      expect(after.rows[0].synchronous_commit).toBe('on');
    } finally {
      client.release();
    }
    expect(await values()).toContain(5);
    await pool.query(`DELETE FROM t WHERE v = 5`);
  });

  it('sends the opening statements with BEGIN and hands their results over, each read after the lock before it', async () => {
    const holder = await pool.connect();
    try {
      await holder.query(`BEGIN`);
      await holder.query(`SELECT pg_advisory_xact_lock(42)`);
      await holder.query(`INSERT INTO t VALUES (5)`);
      const opening = withTransaction(pool, async (_c, tx) => tx.opened.map((r) => r.rows as unknown[]), {
        openWith: [
          { text: `SELECT pg_advisory_xact_lock($1)`, values: [42] },
          prepared({ text: `SELECT max(v) AS v FROM t`, values: [] }),
        ],
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

  it('writes several tables in one statement', async () => {
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

  it('sends the last statements with COMMIT in one round trip, and commits nothing when one of them fails', async () => {
    await pool.query(`DELETE FROM t`);
    const answered = await withTransaction(pool, async (c, tx) => {
      await c.query(`INSERT INTO t VALUES (10)`);
      return tx.commitWith([prepared({ text: `INSERT INTO t VALUES ($1), ($2) RETURNING v`, values: [11, 12] })]);
    });
    expect(answered.map((r) => r.rows as unknown[])).toEqual([[{ v: 11 }, { v: 12 }]]);
    expect(await values()).toEqual([10, 11, 12]);

    // The second statement fails: the first one's row and the work's are rolled back, COMMIT never ran.
    await expect(
      withTransaction(pool, async (c, tx) => {
        await c.query(`INSERT INTO t VALUES (13)`);
        return tx.commitWith([
          { text: `INSERT INTO t VALUES ($1)`, values: [14] },
          { text: `INSERT INTO t VALUES ($1::int / 0)`, values: [15] },
        ]);
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(await values()).toEqual([10, 11, 12]);
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });
});

describe('pipeline (real PostgreSQL)', () => {
  let schema: TestSchema;
  let pool: Pool;

  beforeAll(async () => {
    schema = await TestSchema.create('pipe');
    pool = schema.pool;
  });
  afterAll(() => schema.drop());

  it('answers each statement in order, with values typed as the driver types them', async () => {
    const client = await pool.connect();
    try {
      const results = await pipeline(client, [
        {
          text: `SELECT $1::int AS n, $2::text AS s, $3::jsonb AS j, $4::bytea AS b, $5::int8 AS big`,
          values: [7, `it's`, { a: [1] }, Buffer.from('x'), '9007199254740993'],
        },
        { text: `SELECT generate_series(1, $1::int) AS g`, values: [3] },
        { text: `SELECT 1 WHERE false` },
        { text: `SET LOCAL statement_timeout = '1s'` },
      ]);
      const viaQuery = (
        await client.query(`SELECT $1::int AS n, $2::text AS s, $3::jsonb AS j, $4::bytea AS b, $5::int8 AS big`, [
          7,
          `it's`,
          { a: [1] },
          Buffer.from('x'),
          '9007199254740993',
        ])
      ).rows;
      expect(results[0].rows).toEqual(viaQuery);
      expect(results[1].rows).toEqual([{ g: 1 }, { g: 2 }, { g: 3 }]);
      expect(results[1]).toMatchObject({ command: 'SELECT', rowCount: 3 });
      expect(results[2].rows).toEqual([]);
      expect(results[3].command).toBe('SET');
    } finally {
      client.release();
    }
  });

  it('parses a named statement once per connection, also when a later statement of the same round trip failed', async () => {
    const client = await pool.connect();
    try {
      const named = prepared({ text: `SELECT $1::int + 1 AS n`, values: [1] });
      await expect(pipeline(client, [named, { text: `SELECT 1 / $1::int`, values: [0] }])).rejects.toMatchObject({
        code: '22012',
      });
      await pipeline(client, [{ ...named, values: [2] }]);
      const statements = await client.query<{ name: string }>(`SELECT name FROM pg_prepared_statements`);
      expect(statements.rows.map((r) => r.name)).toEqual([named.name]);
      expect((await pipeline(client, [{ ...named, values: [5] }]))[0].rows).toEqual([{ n: 6 }]);
      // A named statement that failed to parse is parsed again (and fails again), never taken as prepared.
      const broken = prepared({ text: `SELECT nope FROM nowhere WHERE x = $1`, values: [1] });
      await expect(pipeline(client, [broken])).rejects.toMatchObject({ code: '42P01' });
      await expect(pipeline(client, [broken])).rejects.toMatchObject({ code: '42P01' });
      expect((await client.query(`SELECT 1 AS one`)).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
  });

  it('refuses a value the driver cannot send before writing anything, and the connection stays usable', async () => {
    const client = await pool.connect();
    try {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(pipeline(client, [{ text: `SELECT $1::jsonb`, values: [circular] }])).rejects.toThrow();
      expect((await pipeline(client, [{ text: `SELECT 2 AS two` }]))[0].rows).toEqual([{ two: 2 }]);
    } finally {
      client.release();
    }
  });
});
