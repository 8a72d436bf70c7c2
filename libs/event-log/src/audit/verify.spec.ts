import { generateKeyPairSync } from 'node:crypto';
import { chainHash, GENESIS_HASH, type ChainEnvelope } from './chain';
import { chainEnvelopeOf, isoAsStored, type ChainRow } from './chain-rows';
import { signCheckpoint, type CheckpointHead } from './checkpoint';
import { ChainVerifier, type VerifiedHead } from './verify';

const iso = (s: number) => `2025-01-02T03:04:${String(s).padStart(2, '0')}.678000Z`;

/** A subject's rows as the database gives them back, hashed as the executor hashed them. */
function subject(subjectId: string, count: number, options: { unhashed?: number; tenantId?: string } = {}): ChainRow[] {
  const rows: ChainRow[] = [];
  let previous = GENESIS_HASH;
  for (let sequence = 1; sequence <= count; sequence++) {
    const row: ChainRow = {
      global_position: String(sequence),
      id: `${subjectId}-e${sequence}`,
      tenant_id: options.tenantId ?? 'tenant-a',
      space_id: 'space-1',
      event_type: sequence === 1 ? 'AccountOpened' : 'FundsDeposited',
      event_schema_version: 1,
      subject_type: 'account',
      subject_id: subjectId,
      actor_id: 'user-1',
      actor_type: 'user',
      action_invocation_id: `inv-${sequence}`,
      payload: { amount: sequence * 10, note: `n${sequence}` },
      sequence,
      occurred_at: iso(sequence),
      recorded_at: iso(sequence),
      correlation_id: 'c',
      causation_id: null,
      hash: null,
    };
    const envelope: ChainEnvelope = {
      id: row.id,
      tenantId: row.tenant_id,
      spaceId: row.space_id,
      eventType: row.event_type,
      eventSchemaVersion: 1,
      subjectType: 'account',
      subjectId,
      actorId: 'user-1',
      actorType: 'user',
      actionInvocationId: row.action_invocation_id,
      payload: row.payload,
      sequence,
      occurredAt: isoAsStored(row.occurred_at),
      recordedAt: isoAsStored(row.recorded_at),
      correlationId: 'c',
    };
    previous = chainHash(previous, envelope);
    row.hash = sequence <= (options.unhashed ?? 0) ? null : previous;
    rows.push(row);
  }
  return rows;
}

function run(rows: ChainRow[], checkpoint?: { tenantId: string; heads: CheckpointHead[] }) {
  const heads: VerifiedHead[] = [];
  const v = new ChainVerifier({ checkpoint, onHead: (h) => heads.push(h) });
  for (const row of rows) v.push(row);
  v.end();
  return {
    v,
    heads,
    broken: v.broken.map(({ subjectId, sequence, kind, eventId }) => ({ subjectId, sequence, kind, eventId })),
  };
}

const headsOf = (rows: ChainRow[]): CheckpointHead[] => {
  const { heads } = run(rows);
  return heads.map(({ subjectType, subjectId, sequence, hash }) => ({ subjectType, subjectId, sequence, hash }));
};

describe('ChainVerifier', () => {
  it('passes intact chains and reports every subject’s head', () => {
    const { v, heads } = run([...subject('a', 4), ...subject('b', 2)]);
    expect(v.ok).toBe(true);
    expect(v.checked).toBe(6);
    expect(v.subjects).toBe(2);
    expect(heads.map((h) => [h.subjectId, h.sequence])).toEqual([
      ['a', 4],
      ['b', 2],
    ]);
    expect(heads[0].hash).toBe(subject('a', 4)[3].hash!.toString('hex'));
  });

  it('names a changed payload, and only its subject', () => {
    const a = subject('a', 4);
    a[2] = { ...a[2], payload: { amount: 9999, note: 'n3' } };
    expect(run([...a, ...subject('b', 3)]).broken).toEqual([
      { subjectId: 'a', sequence: 3, kind: 'payload-changed', eventId: 'a-e3' },
    ]);
  });

  it('names any other changed field as a change, down to a microsecond of a timestamp', () => {
    const a = subject('a', 3);
    a[1] = { ...a[1], recorded_at: a[1].recorded_at.replace('678000Z', '678001Z') };
    expect(run(a).broken).toEqual([{ subjectId: 'a', sequence: 2, kind: 'payload-changed', eventId: 'a-e2' }]);
  });

  it('names a deleted event by its sequence, also the first one', () => {
    const a = subject('a', 5);
    const b = subject('b', 3);
    expect(run([...a.filter((r) => r.sequence !== 3), ...b.slice(1)]).broken).toEqual([
      { subjectId: 'a', sequence: 3, kind: 'missing', eventId: null },
      { subjectId: 'b', sequence: 1, kind: 'missing', eventId: null },
    ]);
  });

  it('names two events whose sequences were exchanged as reordered', () => {
    const a = subject('a', 5);
    const swapped = [a[0], { ...a[3], sequence: 2 }, a[2], { ...a[1], sequence: 4 }, a[4]];
    expect(run(swapped).broken).toEqual([{ subjectId: 'a', sequence: 2, kind: 'reordered', eventId: 'a-e4' }]);
  });

  it('names two events whose payloads were exchanged as swapped', () => {
    const a = subject('a', 4);
    const swapped = [a[0], { ...a[1], payload: a[2].payload }, { ...a[2], payload: a[1].payload }, a[3]];
    expect(run(swapped).broken).toEqual([{ subjectId: 'a', sequence: 2, kind: 'swapped', eventId: 'a-e2' }]);
  });

  it('accepts events written before hashing as a prefix, covered by the first hashed event after them', () => {
    const a = subject('a', 4, { unhashed: 2 });
    expect(run(a).v.ok).toBe(true);
    expect(run(a).v.unhashed).toBe(2);
    expect(run(subject('b', 2, { unhashed: 2 })).v.ok).toBe(true);
    const changed = [{ ...a[0], payload: { amount: 1 } }, ...a.slice(1)];
    expect(run(changed).broken).toEqual([{ subjectId: 'a', sequence: 3, kind: 'payload-changed', eventId: 'a-e3' }]);
  });

  it('refuses a missing hash after hashed events', () => {
    const a = subject('a', 3);
    a[2] = { ...a[2], hash: null };
    expect(run(a).broken).toEqual([{ subjectId: 'a', sequence: 3, kind: 'unhashed', eventId: 'a-e3' }]);
  });

  describe('against a checkpoint', () => {
    const before = [...subject('a', 3), ...subject('b', 2), ...subject('c', 2)];
    const checkpoint = { tenantId: 'tenant-a', heads: headsOf(before) };

    it('passes when every head is still reached, with events after it', () => {
      expect(run([...subject('a', 5), ...subject('b', 2), ...subject('c', 2)], checkpoint).v.ok).toBe(true);
    });

    it('names a subject that ends before its checkpointed head, and one that is gone', () => {
      expect(run([...subject('a', 2), ...subject('b', 2)], checkpoint).broken).toEqual([
        { subjectId: 'a', sequence: 3, kind: 'missing', eventId: null },
        { subjectId: 'c', sequence: 1, kind: 'missing', eventId: null },
      ]);
    });

    it('names a chain re-hashed after a change (consistent in itself, but not what was signed)', () => {
      // Someone with full rights rewrote b's history and re-computed every hash.
      const forged = subject('b', 2).map((r) => ({ ...r }));
      let previous = GENESIS_HASH;
      for (const r of forged) {
        if (r.sequence === 1) r.payload = { amount: 1_000_000, note: 'forged' };
        previous = chainHash(previous, chainEnvelopeOf(r));
        r.hash = previous;
      }
      expect(run(forged).v.ok).toBe(true);
      expect(run([...subject('a', 3), ...forged, ...subject('c', 2)], checkpoint).broken).toEqual([
        { subjectId: 'b', sequence: 2, kind: 'checkpoint-mismatch', eventId: null },
      ]);
    });

    it('ignores other tenants’ subjects of the same name', () => {
      const other = subject('a', 1, { tenantId: 'tenant-b' });
      expect(run([...before, ...other], checkpoint).v.ok).toBe(true);
    });

    it('can be signed from the heads the walk reports', () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const signed = signCheckpoint('tenant-a', '2025-01-01T00:00:00.000Z', checkpoint.heads, privateKey);
      expect(signed.heads.map((h) => h.subjectId)).toEqual(['a', 'b', 'c']);
    });
  });
});
