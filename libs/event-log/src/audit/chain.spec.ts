import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ENVELOPE_FIELDS } from '@event-spine/events';
import {
  canonicalEnvelope,
  canonicalJson,
  chainHash,
  chainHashes,
  GENESIS_HASH,
  previousHashFor,
  type ChainEnvelope,
} from './chain';

const envelope = (overrides: Partial<ChainEnvelope> = {}): ChainEnvelope => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: 'tenant-a',
  spaceId: 'space-1',
  eventType: 'FundsDeposited',
  eventSchemaVersion: 1,
  subjectType: 'account',
  subjectId: '00000000-0000-4000-8000-0000000000aa',
  actorId: 'user-1',
  actorType: 'user',
  actionInvocationId: '00000000-0000-4000-8000-0000000000bb',
  payload: { amount: 5, currency: 'EUR' },
  sequence: 1,
  occurredAt: '2025-01-02T03:04:05.678Z',
  recordedAt: '2025-01-02T03:04:05.678Z',
  correlationId: 'corr-1',
  ...overrides,
});

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys at every depth by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, A: 0 })).toBe(
      '{"A":0,"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
    // U+FFFD sorts after U+1F600's high surrogate (UTF-16 order, as JCS), unlike UTF-8 byte order.
    expect(canonicalJson({ '\ufffd': 1, '\u{1f600}': 2 })).toBe('{"😀":2,"�":1}');
  });

  it('writes values as JSON.stringify does: toJSON, dropped undefined, null for non-finite and array holes', () => {
    expect(canonicalJson({ d: new Date('2025-01-01T00:00:00Z'), u: undefined, f: () => 1 })).toBe(
      '{"d":"2025-01-01T00:00:00.000Z"}',
    );
    expect(canonicalJson([undefined, NaN, Infinity, -0, 1e21, 0.1 + 0.2])).toBe(
      '[null,null,null,0,1e+21,0.30000000000000004]',
    );
    expect(canonicalJson('line\u2028"q"\\')).toBe(JSON.stringify('line\u2028"q"\\'));
    expect(() => canonicalJson({ n: 1n })).toThrow(/BigInt/);
  });

  it('is the same for a value and for that value after a JSON round trip (what jsonb gives back)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
      }),
    );
  });

  it('does not depend on the order keys were inserted in', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(dict));
      }),
    );
  });
});

describe('canonicalEnvelope', () => {
  it('covers every field of the envelope (a new field must be added to the hash, or deliberately left out)', () => {
    const text = canonicalEnvelope(envelope({ causationId: 'cause' })).toString('utf8');
    expect(Object.keys(JSON.parse(text)).sort()).toEqual([...ENVELOPE_FIELDS].sort());
  });

  it('writes an absent causation id as null, so absent and null hash alike', () => {
    const without = envelope();
    expect(canonicalEnvelope(without)).toEqual(canonicalEnvelope({ ...without, causationId: null }));
    expect(JSON.parse(canonicalEnvelope(without).toString('utf8')).causationId).toBeNull();
  });

  it('is one fixed text', () => {
    expect(canonicalEnvelope(envelope()).toString('utf8')).toBe(
      '{"actionInvocationId":"00000000-0000-4000-8000-0000000000bb","actorId":"user-1","actorType":"user",' +
        '"causationId":null,"correlationId":"corr-1","eventSchemaVersion":1,"eventType":"FundsDeposited",' +
        '"id":"00000000-0000-4000-8000-000000000001","occurredAt":"2025-01-02T03:04:05.678Z",' +
        '"payload":{"amount":5,"currency":"EUR"},"recordedAt":"2025-01-02T03:04:05.678Z","sequence":1,' +
        '"spaceId":"space-1","subjectId":"00000000-0000-4000-8000-0000000000aa","subjectType":"account",' +
        '"tenantId":"tenant-a"}',
    );
  });
});

describe('chainHash', () => {
  it('is sha256(previous || canonical), from a fixed genesis', () => {
    const e = envelope();
    const expected = createHash('sha256').update(GENESIS_HASH).update(canonicalEnvelope(e)).digest();
    expect(chainHash(GENESIS_HASH, e)).toEqual(expected);
    expect(GENESIS_HASH.toString('hex')).toBe(
      createHash('sha256').update('event-spine:event-chain:v1:genesis').digest('hex'),
    );
  });

  it('changes with any field, the payload and the previous hash', () => {
    const base = chainHash(GENESIS_HASH, envelope());
    const variants: Partial<ChainEnvelope>[] = [
      { payload: { amount: 6, currency: 'EUR' } },
      { sequence: 2 },
      { occurredAt: '2025-01-02T03:04:05.679Z' },
      { actorId: 'user-2' },
      { causationId: 'x' },
      { eventSchemaVersion: 2 },
    ];
    for (const v of variants) expect(chainHash(GENESIS_HASH, envelope(v))).not.toEqual(base);
    expect(chainHash(Buffer.alloc(32), envelope())).not.toEqual(base);
  });

  it('chains each event over the one before', () => {
    const events = [1, 2, 3].map((sequence) => envelope({ sequence, id: `id-${sequence}` }));
    const hashes = chainHashes(GENESIS_HASH, events);
    expect(hashes[2]).toEqual(chainHash(chainHash(chainHash(GENESIS_HASH, events[0]), events[1]), events[2]));
  });

  it('refuses a previous hash of the wrong size, and an unknown head after sequence 1', () => {
    expect(() => chainHash(Buffer.alloc(31), envelope())).toThrow(RangeError);
    expect(previousHashFor(1, undefined)).toBe(GENESIS_HASH);
    expect(() => previousHashFor(2, null)).toThrow(/no chain head/);
  });
});
