import { takeGroup, type Claims } from './command-groups';

const job = (id: string, names: string[], tenantId = 't1'): { id: string; claims: Claims } => ({
  id,
  claims: { tenantId, names },
});
const ids = (jobs: readonly { id: string }[]) => jobs.map((j) => j.id);

describe('takeGroup', () => {
  it('takes queued commands in order, up to the maximum, and leaves the rest queued', () => {
    const queue = [job('a', ['s:1']), job('b', ['s:2']), job('c', ['s:3'])];
    expect(ids(takeGroup(queue, 2, new Set()))).toEqual(['a', 'b']);
    expect(ids(queue)).toEqual(['c']);
  });

  it('never puts two commands sharing a subject, data subject or Idempotency-Key in one group', () => {
    const queue = [job('a', ['s:1', 'k:x']), job('b', ['s:1']), job('c', ['s:2', 'k:x']), job('d', ['s:3'])];
    expect(ids(takeGroup(queue, 10, new Set()))).toEqual(['a', 'd']);
    expect(ids(queue)).toEqual(['b', 'c']);
    expect(ids(takeGroup(queue, 10, new Set()))).toEqual(['b', 'c']);
  });

  it('keeps the order of commands on one name: a later one never overtakes one passed over', () => {
    // b is passed over (its subject 1 is busy); c shares subject 2 with b, so it waits behind b though it would fit.
    const queue = [job('a', ['s:0']), job('b', ['s:1', 's:2']), job('c', ['s:2'])];
    expect(ids(takeGroup(queue, 10, new Set(['s:1'])))).toEqual(['a']);
    expect(ids(queue)).toEqual(['b', 'c']);
  });

  it('takes nothing while every queued command waits for a busy name', () => {
    const queue = [job('a', ['s:1']), job('b', ['s:1'])];
    expect(takeGroup(queue, 10, new Set(['s:1']))).toEqual([]);
    expect(ids(queue)).toEqual(['a', 'b']);
  });

  it('groups one tenant at a time: the first free command picks it', () => {
    const queue = [job('a', ['s:1'], 't1'), job('b', ['s:2'], 't2'), job('c', ['s:3'], 't1'), job('d', ['s:4'], 't2')];
    expect(ids(takeGroup(queue, 10, new Set()))).toEqual(['a', 'c']);
    expect(ids(takeGroup(queue, 10, new Set()))).toEqual(['b', 'd']);
    expect(queue).toEqual([]);
  });

  it('starts with the oldest free command when the head of the queue waits', () => {
    const queue = [job('a', ['s:1'], 't1'), job('b', ['s:2'], 't2')];
    expect(ids(takeGroup(queue, 10, new Set(['s:1'])))).toEqual(['b']);
    expect(ids(queue)).toEqual(['a']);
  });
});
