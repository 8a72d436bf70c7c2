import { checkSequence } from './sequence-check';

describe('checkSequence', () => {
  const at = (last: number, parked = false) => ({ last, parked });

  it('applies exactly the next sequence', () => {
    expect(checkSequence(at(0), 1)).toEqual({ kind: 'next' });
    expect(checkSequence(at(41), 42)).toEqual({ kind: 'next' });
  });

  it('skips what was applied already (a re-send) as a duplicate', () => {
    expect(checkSequence(at(5), 5)).toEqual({ kind: 'duplicate' });
    expect(checkSequence(at(5), 1)).toEqual({ kind: 'duplicate' });
  });

  it('names the missing range of a gap', () => {
    expect(checkSequence(at(1), 3)).toEqual({ kind: 'gap', from: 2, to: 2 });
    expect(checkSequence(at(0), 10)).toEqual({ kind: 'gap', from: 1, to: 9 });
  });

  it('keeps a parked subject in order: everything waits behind it, even a duplicate or a bad sequence', () => {
    expect(checkSequence(at(3, true), 4)).toEqual({ kind: 'behind-parked' });
    expect(checkSequence(at(3, true), 1)).toEqual({ kind: 'behind-parked' });
    expect(checkSequence(at(3, true), 'x')).toEqual({ kind: 'behind-parked' });
  });

  it('calls a sequence that cannot be placed bad', () => {
    for (const bad of [0, -1, 1.5, '2', null, undefined, Number.NaN]) {
      expect(checkSequence(at(0), bad)).toEqual({ kind: 'bad-sequence' });
    }
  });
});
