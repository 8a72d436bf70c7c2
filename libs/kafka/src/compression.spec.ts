import { codecFor } from './compression';

describe('codecFor', () => {
  it('compresses a send of at least fromMessages messages, and nothing smaller', () => {
    const policy = { codec: 'gzip' as const, fromMessages: 100 };
    expect(codecFor(policy, 500)).toBe('gzip');
    expect(codecFor(policy, 100)).toBe('gzip');
    expect(codecFor(policy, 99)).toBe('none');
    expect(codecFor(policy, 1)).toBe('none');
  });

  it('compresses nothing without a policy, or with the codec none', () => {
    expect(codecFor(undefined, 500)).toBe('none');
    expect(codecFor({ codec: 'none', fromMessages: 1 }, 500)).toBe('none');
  });
});
