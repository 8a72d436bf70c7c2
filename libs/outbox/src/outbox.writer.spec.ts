import { notifiedBuckets } from './outbox.writer';

describe('the buckets a wake-up names', () => {
  it('reads a list of buckets', () => {
    expect(notifiedBuckets('3,17,63')).toEqual([3, 17, 63]);
    expect(notifiedBuckets('0')).toEqual([0]);
  });

  it('takes an empty payload, or one it cannot read, for every bucket', () => {
    expect(notifiedBuckets('')).toBeUndefined();
    expect(notifiedBuckets(undefined)).toBeUndefined();
    expect(notifiedBuckets('64')).toBeUndefined();
    expect(notifiedBuckets('-1')).toBeUndefined();
    expect(notifiedBuckets('3,x')).toBeUndefined();
    expect(notifiedBuckets('2.5')).toBeUndefined();
  });
});
