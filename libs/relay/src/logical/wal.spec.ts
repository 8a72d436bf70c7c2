import { lsnOf, lsnText, parseSnapshot, takeTransactions, visibleIn } from './wal';

describe('LSNs', () => {
  it('orders as the WAL does, across the 32-bit halves', () => {
    expect(lsnOf('0/FFFFFFFF') < lsnOf('1/0')).toBe(true);
    expect(lsnOf('16/B374D848')).toBe(0x16b374d848n);
    expect(lsnText(lsnOf('16/B374D848'))).toBe('16/B374D848');
    expect(lsnText(0n)).toBe('0/0');
  });

  it('refuses what is not an LSN', () => {
    expect(() => lsnOf('16-B374D848')).toThrow('not an LSN');
    expect(() => lsnOf('123456789/0')).toThrow('not an LSN');
  });
});

describe('snapshot visibility of a committed transaction', () => {
  const snapshot = parseSnapshot('100:105:101,103');

  it('sees what ended before xmin, and what ended below xmax without being in flight', () => {
    expect(visibleIn(snapshot, '99')).toBe(true);
    expect(visibleIn(snapshot, '100')).toBe(true);
    expect(visibleIn(snapshot, '102')).toBe(true);
    expect(visibleIn(snapshot, '104')).toBe(true);
  });

  it('does not see what was in flight, or had not started (xmax and beyond)', () => {
    expect(visibleIn(snapshot, '101')).toBe(false);
    expect(visibleIn(snapshot, '103')).toBe(false);
    expect(visibleIn(snapshot, '105')).toBe(false);
    expect(visibleIn(snapshot, '1000')).toBe(false);
  });

  it('reads a snapshot with nothing in flight, and ids past 2^53', () => {
    const quiet = parseSnapshot('9007199254740993:9007199254740995:');
    expect(quiet.inFlight.size).toBe(0);
    expect(visibleIn(quiet, '9007199254740994')).toBe(true);
    expect(visibleIn(quiet, '9007199254740995')).toBe(false);
    expect(() => parseSnapshot('1:2')).toThrow('not a pg_snapshot');
  });
});

describe('takeTransactions', () => {
  const tx = (n: number, id: string) => ({ id, rows: Array.from({ length: n }) });

  it('takes whole transactions in order up to the limit, and leaves the rest queued', () => {
    const queue = [tx(2, 'a'), tx(3, 'b'), tx(2, 'c'), tx(1, 'd')];
    expect(takeTransactions(queue, 5).map((t) => t.id)).toEqual(['a', 'b']);
    expect(queue.map((t) => t.id)).toEqual(['c', 'd']);
    expect(takeTransactions(queue, 5).map((t) => t.id)).toEqual(['c', 'd']);
    expect(takeTransactions(queue, 5)).toEqual([]);
  });

  it('sends a transaction bigger than the limit alone, never split', () => {
    const queue = [tx(8, 'big'), tx(1, 'small')];
    expect(takeTransactions(queue, 5).map((t) => t.id)).toEqual(['big']);
    expect(takeTransactions(queue, 5).map((t) => t.id)).toEqual(['small']);
  });
});
