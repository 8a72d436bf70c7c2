import { checkPosition } from './partition-position';

describe('checkPosition', () => {
  it('resumes from a stored position inside the partition, including at its very end and start', () => {
    expect(checkPosition(5n, { logStart: 0n, end: 10n })).toEqual({ kind: 'in-range', resumeAt: 5n });
    expect(checkPosition(10n, { logStart: 0n, end: 10n })).toEqual({ kind: 'in-range', resumeAt: 10n });
    expect(checkPosition(4n, { logStart: 4n, end: 10n })).toEqual({ kind: 'in-range', resumeAt: 4n });
  });

  it('calls a position beyond the end an offset reset and starts over from the log start', () => {
    expect(checkPosition(986n, { logStart: 0n, end: 40n })).toEqual({
      kind: 'reset',
      resumeAt: 0n,
      stored: 986n,
      end: 40n,
    });
    expect(checkPosition(1n, { logStart: 0n, end: 0n })).toEqual({ kind: 'reset', resumeAt: 0n, stored: 1n, end: 0n });
  });

  it('calls any applied position of a recreated topic an offset reset, even when the new partition is longer', () => {
    expect(checkPosition(14n, { logStart: 0n, end: 30n }, true)).toEqual({
      kind: 'reset',
      resumeAt: 0n,
      stored: 14n,
      end: 30n,
    });
    expect(checkPosition(0n, { logStart: 0n, end: 30n }, true)).toEqual({ kind: 'in-range', resumeAt: 0n });
  });

  it('starts over from offset 0 when only the high watermark is known (a fetched batch)', () => {
    expect(checkPosition(300n, { end: 12n })).toEqual({ kind: 'reset', resumeAt: 0n, stored: 300n, end: 12n });
    expect(checkPosition(12n, { end: 12n })).toEqual({ kind: 'in-range', resumeAt: 12n });
  });

  it('calls a position below the log start a gap in the source, never a skip', () => {
    expect(checkPosition(3n, { logStart: 50n, end: 80n })).toEqual({
      kind: 'source-gap',
      resumeAt: 50n,
      stored: 3n,
      logStart: 50n,
    });
  });

  it('treats a never-consumed partition (position 0) after retention as a gap too', () => {
    expect(checkPosition(0n, { logStart: 7n, end: 9n }).kind).toBe('source-gap');
  });
});
