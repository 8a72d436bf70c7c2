import { combineWrites, prepared } from './statements';

describe('combineWrites', () => {
  it('numbers each statement’s parameters after the ones before it and counts the rows each returns', () => {
    const combined = combineWrites([
      { text: 'INSERT INTO a (x, y) VALUES ($1, $2) RETURNING 1', values: ['x', 'y'] },
      { text: 'INSERT INTO b (z) SELECT * FROM unnest($1::text[])', values: [['z']] },
      { text: 'UPDATE c SET v = $2 WHERE k = $1 RETURNING 1', values: ['k', 10] },
    ]);
    expect(combined.values).toEqual(['x', 'y', ['z'], 'k', 10]);
    expect(combined.text).toBe(
      'WITH s0 AS (INSERT INTO a (x, y) VALUES ($1, $2) RETURNING 1),\n' +
        's1 AS (INSERT INTO b (z) SELECT * FROM unnest($3::text[])),\n' +
        's2 AS (UPDATE c SET v = $5 WHERE k = $4 RETURNING 1)\n' +
        'SELECT (SELECT count(*) FROM s0)::int AS s0, 0 AS s1, (SELECT count(*) FROM s2)::int AS s2',
    );
  });

  it('adds the checks as columns after the counts', () => {
    const combined = combineWrites([{ text: 'INSERT INTO a VALUES ($1) RETURNING 1', values: [1] }], {
      checks: ['must((SELECT count(*) FROM s0), 1) AS ok'],
    });
    expect(combined.text).toBe(
      'WITH s0 AS (INSERT INTO a VALUES ($1) RETURNING 1)\n' +
        'SELECT (SELECT count(*) FROM s0)::int AS s0, must((SELECT count(*) FROM s0), 1) AS ok',
    );
  });

  it('refuses an empty list', () => {
    expect(() => combineWrites([])).toThrow(/no statement/);
  });
});

describe('prepared', () => {
  it('names a statement by its text: the same shape shares a name whatever its values, another shape gets its own', () => {
    const a = prepared({ text: 'SELECT $1::int', values: [1] });
    expect(prepared({ text: 'SELECT $1::int', values: [2] }).name).toBe(a.name);
    expect(prepared({ text: 'SELECT $1::text', values: ['x'] }).name).not.toBe(a.name);
    expect(a).toEqual({ name: expect.stringMatching(/^spine_[0-9a-f]{24}$/), text: 'SELECT $1::int', values: [1] });
  });

  it('sends texts unnamed once there are too many shapes (values built into them), still naming the known ones', () => {
    const known = prepared({ text: 'SELECT 1 AS known', values: [] });
    let unnamedAt: number | undefined;
    for (let i = 0; i < 1100 && unnamedAt === undefined; i++) {
      if (prepared({ text: `SELECT ${i} AS built_in`, values: [] }).name === undefined) unnamedAt = i;
    }
    expect(unnamedAt).toBeDefined();
    expect(unnamedAt).toBeLessThanOrEqual(1000);
    expect(prepared({ text: 'SELECT 1 AS known', values: [] }).name).toBe(known.name);
  });
});
