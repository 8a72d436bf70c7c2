import { TenantRateLimiter } from './tenant-rate-limit';

describe('TenantRateLimiter', () => {
  let now = 0;
  const clock = () => now;

  it('lets a burst through, then one command per 1/rate seconds, and says how long to wait', () => {
    now = 0;
    const limiter = new TenantRateLimiter({ perSecond: 10, burst: 3 }, clock);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.1);
    now = 50;
    expect(limiter.take('a')).toBeCloseTo(0.05);
    now = 100;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeCloseTo(0.1);
  });

  it('keeps tenants apart: one tenant at its limit does not slow another', () => {
    now = 0;
    const limiter = new TenantRateLimiter({ perSecond: 1, burst: 1 }, clock);
    expect(limiter.take('noisy')).toBe(0);
    expect(limiter.take('noisy')).toBeGreaterThan(0);
    expect(limiter.take('quiet')).toBe(0);
  });

  it('refills up to the burst only', () => {
    now = 0;
    const limiter = new TenantRateLimiter({ perSecond: 100, burst: 2 }, clock);
    limiter.take('a');
    now = 60_000;
    expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0]);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('is off at 0 per second', () => {
    const limiter = new TenantRateLimiter({ perSecond: 0, burst: 0 }, clock);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.enabled).toBe(false);
  });
});
