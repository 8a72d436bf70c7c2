import { combineWrites, inline, literal, prepared } from './statements';

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

  it('refuses an empty list', () => {
    expect(() => combineWrites([])).toThrow(/no statement/);
  });
});

describe('inline', () => {
  it('writes each parameter as a literal, once, without reading placeholders inside the values', () => {
    expect(inline({ text: 'SELECT $1, $2, $1', values: ["it's $2", 7] })).toBe(`SELECT 'it''s $2', 7, 'it''s $2'`);
  });

  it('writes arrays in PostgreSQL’s array syntax, quoting what the array parser would read', () => {
    expect(literal(['a', 'b"c', 'd\\e', null, '{x,y}'])).toBe(` E'{"a","b\\\\"c","d\\\\\\\\e",NULL,"{x,y}"}'`);
    expect(literal([])).toBe(`'{}'`);
    expect(literal([1, 2])).toBe(`'{1,2}'`);
  });

  it('writes null, booleans, numbers and bytes', () => {
    expect(literal(null)).toBe('NULL');
    expect(literal(true)).toBe('TRUE');
    expect(literal(-1.5)).toBe('-1.5');
    expect(literal(Buffer.from([0, 255]))).toBe(` E'\\\\x00ff'`);
    expect(literal([Buffer.from([1]), null])).toBe(` E'{"\\\\\\\\x01",NULL}'`);
    expect(literal({ a: "it's" })).toBe(`'{"a":"it''s"}'`);
  });

  it('refuses what it cannot write faithfully', () => {
    expect(() => literal(Number.NaN)).toThrow(/finite/);
    expect(() => literal(new Date(0))).toThrow(/literal/);
    expect(() => literal([[1]])).toThrow(/array/);
    expect(() => inline({ text: 'SELECT $2', values: [1] })).toThrow(/no value for \$2/);
  });
});

describe('prepared', () => {
  it('names a statement by its text: the same shape shares a name whatever its values, another shape gets its own', () => {
    const a = prepared({ text: 'SELECT $1::int', values: [1] });
    expect(prepared({ text: 'SELECT $1::int', values: [2] }).name).toBe(a.name);
    expect(prepared({ text: 'SELECT $1::text', values: ['x'] }).name).not.toBe(a.name);
    expect(a).toEqual({ name: expect.stringMatching(/^spine_[0-9a-f]{24}$/), text: 'SELECT $1::int', values: [1] });
  });
});
