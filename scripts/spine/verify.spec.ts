import { renderVerifyReport } from './verify';

describe('spine verify output', () => {
  it('says intact, with the count of events written before hashing', () => {
    expect(renderVerifyReport({ ok: true, checked: 12, subjects: 3, unhashed: 2, broken: [], truncated: false })).toBe(
      'intact: 12 events in 3 subjects re-hashed (2 written before hashing)',
    );
  });

  it('names each broken link and the checkpoint’s state', () => {
    const text = renderVerifyReport({
      ok: false,
      checked: 5,
      subjects: 2,
      unhashed: 0,
      truncated: false,
      broken: [
        {
          tenantId: 't',
          subjectType: 'account',
          subjectId: 'a1',
          sequence: 3,
          kind: 'payload-changed',
          eventId: 'e3',
          detail: 'event e3 does not match its hash',
        },
      ],
      checkpoint: {
        tenantId: 't',
        createdAt: '2025-01-01T00:00:00.000Z',
        root: 'ab'.repeat(32),
        heads: 2,
        rootMatches: true,
        signatureValid: false,
        keyFromCheckpoint: false,
      },
    });
    expect(text.split('\n')).toEqual([
      'BROKEN: 5 events in 2 subjects re-hashed',
      'checkpoint of t at 2025-01-01T00:00:00.000Z (2 heads, root abababababababab…): root matches its heads, ' +
        'signature INVALID',
      '  payload-changed     t account/a1 at sequence 3 (event e3): event e3 does not match its hash',
    ]);
  });
});
