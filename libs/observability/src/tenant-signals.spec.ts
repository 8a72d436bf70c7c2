import { OTHER_TENANTS, TenantWindow, topTenants } from './tenant-signals';

describe('topTenants', () => {
  const values = new Map([
    ['a', 5],
    ['b', 50],
    ['c', 1],
    ['d', 20],
  ]);

  it('names the N largest and sums the rest as other', () => {
    expect(topTenants(values, 2)).toEqual([
      ['b', 50],
      ['d', 20],
      [OTHER_TENANTS, 6],
    ]);
  });

  it('has at most N + 1 entries, whatever the number of tenants', () => {
    const many = new Map(Array.from({ length: 1000 }, (_, i) => [`t${i}`, i + 1] as [string, number]));
    const top = topTenants(many, 10);
    expect(top).toHaveLength(11);
    expect(top[0]).toEqual(['t999', 1000]);
    expect(top.at(-1)![1]).toBe((990 * 991) / 2);
  });

  it('shows nothing by name with N = 0, and leaves out tenants at zero', () => {
    expect(topTenants(values, 0)).toEqual([[OTHER_TENANTS, 76]]);
    expect(topTenants(new Map([['idle', 0]]), 3)).toEqual([[OTHER_TENANTS, 0]]);
  });

  it('folds a tenant named "other" into the rest', () => {
    expect(
      topTenants(
        new Map([
          ['other', 9],
          ['x', 3],
        ]),
        2,
      ),
    ).toEqual([
      ['x', 3],
      [OTHER_TENANTS, 9],
    ]);
  });
});

describe('TenantWindow', () => {
  it('sums per tenant over the window and forgets what is older', () => {
    let now = 0;
    const w = new TenantWindow(60_000, 'sum', () => now);
    w.add('a', 3);
    w.add('b');
    now = 30_000;
    w.add('a', 2);
    expect(w.values()).toEqual(
      new Map([
        ['a', 5],
        ['b', 1],
      ]),
    );
    expect(w.rates().get('a')).toBeCloseTo(5 / 60);
    now = 65_000; // the first slot (0-10 s) has left the window
    expect(w.values()).toEqual(new Map([['a', 2]]));
    now = 200_000;
    expect(w.values()).toEqual(new Map());
  });

  it('keeps the largest value in max mode', () => {
    let now = 0;
    const w = new TenantWindow(60_000, 'max', () => now);
    w.add('a', 0.2);
    w.add('a', 0.9);
    now = 20_000;
    w.add('a', 0.5);
    expect(w.values().get('a')).toBe(0.9);
  });
});
