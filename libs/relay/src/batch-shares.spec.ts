import { BatchShares } from './batch-shares';

const buckets = (n: number) => Array.from({ length: n }, (_, b) => b);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('BatchShares', () => {
  it('splits the batch size evenly at first, at least one row per bucket', () => {
    expect(new BatchShares(500).plan(buckets(64))).toEqual(Array(64).fill(7));
    expect(new BatchShares(10).plan(buckets(64))).toEqual(Array(64).fill(1));
    expect(new BatchShares(500).plan([])).toEqual([]);
  });

  it('doubles the share of a bucket that filled it, up to what the idle ones leave of the batch', () => {
    const s = new BatchShares(500);
    const all = buckets(64);
    let plan = s.plan(all);
    for (let round = 0; round < 10; round++) {
      s.read(all, plan, new Map([[3, plan[3]]]));
      plan = s.plan(all);
      expect(sum(plan)).toBeLessThanOrEqual(500);
    }
    // One busy subject fills the batch; each idle bucket keeps one row of it, to notice new rows.
    expect(plan[3]).toBe(500 - 63);
    expect(plan.filter((_, b) => b !== 3)).toEqual(Array(63).fill(1));
  });

  it('lets one bucket alone take the whole batch', () => {
    const s = new BatchShares(500);
    let plan = s.plan([9]);
    expect(plan).toEqual([500]);
    s.read([9], plan, new Map([[9, 500]]));
    plan = s.plan([9]);
    expect(plan).toEqual([500]);
  });

  it('gives each of a few buckets an even share at least when asked to, still within the batch', () => {
    const s = new BatchShares(500);
    s.read([1, 2, 3], [7, 7, 7], new Map([[1, 1]]));
    expect(s.plan([1, 2])).toEqual([1, 1]);
    expect(s.plan([1, 2], { evenAtLeast: true })).toEqual([250, 250]);
    s.read([2], [500], new Map([[2, 500]]));
    const plan = s.plan([1, 2], { evenAtLeast: true });
    expect(sum(plan)).toBeLessThanOrEqual(500);
    expect(plan[1]).toBeGreaterThan(plan[0]);
    expect(plan[0]).toBeGreaterThan(1);
  });

  it('scales what busy buckets ask above one row down to fit', () => {
    const s = new BatchShares(500);
    const all = buckets(64);
    let plan = s.plan(all);
    for (let round = 0; round < 6; round++) {
      s.read(all, plan, new Map(all.map((b) => [b, plan[b]])));
      plan = s.plan(all);
      expect(sum(plan)).toBeLessThanOrEqual(500);
      expect(Math.min(...plan)).toBeGreaterThanOrEqual(7);
    }
  });

  it('asks for what a bucket found when it did not fill its share, and forgets a bucket given up', () => {
    const s = new BatchShares(100);
    s.read([0, 1], [50, 50], new Map([[0, 50]]));
    expect(s.plan([0, 1])).toEqual([99, 1]);
    s.read([0, 1], [99, 1], new Map([[0, 3]]));
    expect(s.plan([0, 1])).toEqual([3, 1]);
    s.read([0], [3], new Map([[0, 3]]));
    s.forget(0);
    expect(s.plan([0, 1])).toEqual([50, 1]);
  });
});
