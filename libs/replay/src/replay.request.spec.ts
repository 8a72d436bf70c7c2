import { requestKey, type ReplayRequest } from './replay.request';

const base: ReplayRequest = {
  projection: 'account-balances',
  mode: 'preview',
  source: 'kafka',
  from: { earliest: true },
  scope: { tenantId: 't1' },
  batchSize: 1000,
};

describe('requestKey: what a preview and the rebuild it signs off must agree on', () => {
  it('ignores mode, confirm and batch size', () => {
    expect(requestKey({ ...base, mode: 'rebuild', confirm: 'x', batchSize: 1 })).toBe(requestKey(base));
  });

  it.each([
    ['projection', { projection: 'tenant-totals' }],
    ['source', { source: 'event-log' as const }],
    ['range', { from: { timestamp: '2026-01-01T00:00:00Z' } }],
    ['tenant', { scope: { tenantId: 't2' } }],
    ['subject', { scope: { tenantId: 't1', subjectId: 'a' } }],
  ])('differs when the %s differs', (_what, change) => {
    expect(requestKey({ ...base, ...change })).not.toBe(requestKey(base));
  });

  it('treats equal ranges written differently as the same range', () => {
    const a = { ...base, from: { timestamp: '2026-01-01T01:00:00+01:00' } };
    const b = { ...base, from: { timestamp: '2026-01-01T00:00:00.000Z' } };
    expect(requestKey(a)).toBe(requestKey(b));
    const o1 = { topic: 'x', partition: 1, offset: '5' };
    const o2 = { topic: 'x', partition: 0, offset: '7' };
    expect(requestKey({ ...base, from: { offsets: [o1, o2] } })).toBe(
      requestKey({ ...base, from: { offsets: [o2, o1] } }),
    );
  });
});
