import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { QueryRunner } from 'typeorm';
import { defineEventCatalog } from '@event-spine/events';
import { TestSchema } from '@event-spine/testing';
import { ProjectorFences1763800003100 } from './fences.migration';
import { ProjectorOffsetResets1763800003200 } from './offset-resets.migration';
import { defineProjection } from './projection';
import { applyLockSql, ProjectionRunner, type RawMessage } from './projection-runner';
import { ProjectorCore1763800001000 } from './projections.migration';

/** A fixture domain of one event type (the platform knows no domain of its own). */
type Deposited = { eventType: 'FundsDeposited'; payload: { amount: number } };
const catalog = defineEventCatalog<Deposited>({
  name: 'fixture',
  events: { FundsDeposited: { subjectType: 'account', schema: {} } },
});

/** A projection whose handler fails for one amount: the poison the fast path must hand to the careful path. */
const sums = defineProjection<Deposited>({
  name: 'sums',
  version: 1,
  handles: ['FundsDeposited'],
  tables: ['sums'],
  scope: { tenantColumn: 'tenant_id', subjectColumn: 'account_id' },
  async apply(db, e) {
    if (e.eventType !== 'FundsDeposited') return;
    if (e.payload.amount === 13) throw new Error('unlucky amount');
    await db.query(
      `INSERT INTO sums (tenant_id, account_id, total) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, account_id) DO UPDATE SET total = sums.total + EXCLUDED.total`,
      [e.tenantId, e.subjectId, e.payload.amount],
    );
  },
});

/** `sums` in set-based form: one statement for a batch. */
const applyAll: NonNullable<(typeof sums)['applyBatch']> = async (db, events) => {
  await db.query(
    `INSERT INTO sums (tenant_id, account_id, total)
     SELECT t, a, sum(x)::bigint FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(t, a, x) GROUP BY t, a
     ON CONFLICT (tenant_id, account_id) DO UPDATE SET total = sums.total + EXCLUDED.total`,
    [
      events.map((e) => e.tenantId),
      events.map((e) => e.subjectId),
      events.map((e) => (e.payload as Deposited['payload']).amount),
    ],
  );
};

/**
 * `sums` declared as data. Its statement fails in PostgreSQL on the unlucky amount (a division by zero), as a batch
 * statement fails whenever `apply` would on one of its events.
 */
const sumsAsData = defineProjection({
  ...sums,
  batchStatements: (events) => [
    {
      text: `INSERT INTO sums (tenant_id, account_id, total)
             SELECT t, a, sum(x / (1 / (x - 13) * 0 + 1))::bigint
               FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(t, a, x) GROUP BY t, a
             ON CONFLICT (tenant_id, account_id) DO UPDATE SET total = sums.total + EXCLUDED.total`,
      values: [
        events.map((e) => e.tenantId),
        events.map((e) => e.subjectId),
        events.map((e) => (e.payload as Deposited['payload']).amount),
      ],
    },
  ],
});

function deposit(account: string, sequence: number, amount: number): string {
  return JSON.stringify({
    id: randomUUID(),
    tenantId: 't1',
    spaceId: 's',
    eventType: 'FundsDeposited',
    eventSchemaVersion: 1,
    subjectType: 'account',
    subjectId: account,
    actorId: 'a',
    actorType: 'user',
    actionInvocationId: randomUUID(),
    payload: { amount },
    sequence,
    occurredAt: new Date().toISOString(),
    recordedAt: new Date().toISOString(),
    correlationId: 'c',
  });
}

describe('ProjectionRunner against PostgreSQL', () => {
  let schema: TestSchema;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    schema = await TestSchema.create('runner');
    const q = { query: (sql: string) => schema.pool.query(sql) } as unknown as QueryRunner;
    await new ProjectorCore1763800001000().up(q);
    await new ProjectorFences1763800003100().up(q);
    await new ProjectorOffsetResets1763800003200().up(q);
    await schema.pool.query(
      `CREATE TABLE sums (tenant_id text, account_id text, total bigint, PRIMARY KEY (tenant_id, account_id))`,
    );
    runner = new ProjectionRunner(schema.pool, [sums], 'test', { catalog });
  });
  afterAll(() => schema.drop());

  it.each([
    ['apply', 'topic'],
    ['batchStatements', 'topic-data'],
  ])(
    'parks the subject whose handler keeps failing, applies everything else of the batch exactly once (%s)',
    async (form, topic) => {
      const under = form === 'apply' ? runner : new ProjectionRunner(schema.pool, [sumsAsData], 'test', { catalog });
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const values = [
        deposit(a, 1, 5),
        deposit(b, 1, 7),
        deposit(b, 2, 13),
        deposit(c, 1, 1),
        deposit(b, 3, 2),
        deposit(a, 2, 5),
      ];
      const messages: RawMessage[] = values.map((value, i) => ({ offset: String(i), key: null, value }));
      const outcome = await under.process(topic, 0, messages);
      expect(outcome).toMatchObject({ applied: 4, parked: 2, duplicates: 0 });
      const { rows } = await schema.pool.query<{ account_id: string; total: string }>(
        `SELECT account_id, total FROM sums WHERE account_id = ANY($1)`,
        [[a, b, c]],
      );
      expect(new Map(rows.map((r) => [r.account_id, Number(r.total)]))).toEqual(
        new Map([
          [a, 10],
          [b, 7],
          [c, 1],
        ]),
      );
      const { rows: parked } = await schema.pool.query<{
        subject_id: string;
        parked_reason: string;
        last_sequence: number;
      }>(
        `SELECT subject_id, parked_reason, last_sequence FROM projector_subjects
        WHERE parked_reason IS NOT NULL AND subject_id = ANY($1)`,
        [[a, b, c]],
      );
      expect(parked).toEqual([
        { subject_id: b, parked_reason: expect.stringMatching(/handler failed 3 times/), last_sequence: 1 },
      ]);
      // The same batch again (a redelivery) changes nothing.
      expect(await under.process(topic, 0, messages)).toMatchObject({ applied: 0, skipped: 6 });
      expect(await under.storedOffset(topic, 0)).toBe('6');
    },
  );

  it('applies a batch in round trips that do not grow with it, and claims nothing while a swap holds the lock', async () => {
    // A pool of its own that counts what each of its connections sends to the server.
    const counted = new Pool(schema.pool.options);
    let roundTrips = 0;
    counted.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        roundTrips++;
        return query(...args);
      };
    });
    try {
      const batched = new ProjectionRunner(counted, [{ ...sums, applyBatch: applyAll }], 'test', { catalog });
      const accounts = [randomUUID(), randomUUID(), randomUUID()];
      const messages = accounts.map((a, i) => ({ offset: String(i), key: null, value: deposit(a, 1, 3) }));
      expect(await batched.process('round-trips', 0, messages)).toMatchObject({ applied: 3 });
      // BEGIN with the gate, the position and the subjects' positions; the projection's writes; the subjects and the
      // position with COMMIT.
      expect(roundTrips).toBe(3);
      expect(await batched.storedOffset('round-trips', 0)).toBe('3');

      // Declared as data, the projection's statements travel with the last writes and COMMIT.
      const asData = new ProjectionRunner(counted, [sumsAsData], 'test', { catalog });
      roundTrips = 0;
      const others = accounts.map((_, i) => ({ offset: String(i), key: null, value: deposit(randomUUID(), 1, 3) }));
      expect(await asData.process('round-trips-data', 0, others)).toMatchObject({ applied: 3 });
      expect(roundTrips).toBe(2);

      // A replay's swap holds the apply lock: the batch is sent back at once, and nothing of the partition is claimed.
      // Nor does it try to lock its subjects, which travel with the gate: a writer holding their rows does not hold it.
      const swap = await schema.pool.connect();
      const holder = await schema.pool.connect();
      try {
        await swap.query('BEGIN');
        await swap.query(`SELECT pg_advisory_xact_lock(${applyLockSql('current_schema()')})`);
        await holder.query('BEGIN');
        const held = await holder.query(`SELECT 1 FROM projector_subjects WHERE subject_id = ANY($1) FOR UPDATE`, [
          accounts,
        ]);
        expect(held.rowCount).toBe(3);
        roundTrips = 0;
        const refused = await Promise.race([
          batched.process('round-trips', 1, messages),
          new Promise((resolve) => setTimeout(() => resolve('waited on the subjects'), 5000)),
        ]);
        expect(refused).toMatchObject({ applied: 0, resumeAt: '0' });
        expect(roundTrips).toBe(2);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
        await swap.query('ROLLBACK');
        swap.release();
      }
      expect(await batched.storedOffset('round-trips', 1)).toBeUndefined();
      expect(await batched.process('round-trips', 1, messages)).toMatchObject({ applied: 0, duplicates: 3 });
      expect(await batched.storedOffset('round-trips', 1)).toBe('3');
    } finally {
      await counted.end();
    }
  });

  describe('when Kafka offsets start over', () => {
    const total = async (account: string) =>
      Number(
        (await schema.pool.query<{ total: string }>(`SELECT total FROM sums WHERE account_id = $1`, [account])).rows[0]
          ?.total,
      );
    const offsets = async (topic: string): Promise<Record<string, unknown>> =>
      (
        await schema.pool.query<Record<string, unknown>>(
          `SELECT next_offset::int AS next, resets, last_reset, source_gaps, last_source_gap
             FROM projector_offsets WHERE consumer = 'test' AND topic = $1`,
          [topic],
        )
      ).rows[0];

    it('applies a batch from the new beginning when the stored position is beyond the high watermark', async () => {
      const a = randomUUID();
      const b = randomUUID();
      const before = [deposit(a, 1, 10), deposit(a, 2, 20)].map((value, i) => ({
        offset: String(i),
        key: null,
        value,
      }));
      await runner.process('reset', 0, before);
      // The previous cluster had written far more than the new one holds.
      await schema.pool.query(`UPDATE projector_offsets SET next_offset = 986 WHERE topic = 'reset'`);
      // The fresh broker: the same two events published again, and an account the read model never saw.
      const again = [...before, { offset: '2', key: null, value: deposit(b, 1, 7) }];

      const outcome = await runner.process('reset', 0, again, '3');

      expect(outcome).toMatchObject({ applied: 1, duplicates: 2, skipped: 0 });
      expect(outcome.reset).toEqual({ kind: 'reset', stored: 986n, end: 3n, resumeAt: 0n });
      expect([await total(a), await total(b)]).toEqual([30, 7]);
      expect(await offsets('reset')).toMatchObject({
        next: 3,
        resets: 1,
        last_reset: { kind: 'reset', stored: '986', end: '3', resumeAt: '0', at: expect.any(String) },
      });
      // Further batches are in range again: nothing more is reported.
      const next = await runner.process('reset', 0, [{ offset: '3', key: null, value: deposit(b, 2, 1) }], '4');
      expect(next.reset).toBeUndefined();
      expect(await total(b)).toBe(8);
      expect((await offsets('reset')).resets).toBe(1);
    });

    it('asks the broker before calling it a reset: a batch fetched before a rebalance is a redelivery', async () => {
      const a = randomUUID();
      const bounds = jest.fn(async () => ({ logStart: 0n, end: 50n }));
      const confirming = new ProjectionRunner(schema.pool, [sums], 'test', { catalog, partitionBounds: bounds });
      const batch = [deposit(a, 1, 4), deposit(a, 2, 4)].map((value, i) => ({ offset: String(i), key: null, value }));
      await confirming.process('stale', 0, batch, '2');
      await schema.pool.query(`UPDATE projector_offsets SET next_offset = 40 WHERE topic = 'stale'`);

      const outcome = await confirming.process('stale', 0, batch, '2');

      expect(bounds).toHaveBeenCalledWith('stale', 0);
      expect(outcome).toMatchObject({ applied: 0, duplicates: 0, skipped: 2 });
      expect(outcome.reset).toBeUndefined();
      expect(await offsets('stale')).toMatchObject({ next: 40, resets: 0 });
    });

    it('reports a gap in the source when a fetch starts past the stored position and the broker deleted it', async () => {
      const a = randomUUID();
      const bounds = jest.fn(async () => ({ logStart: 7n, end: 9n }));
      const confirming = new ProjectionRunner(schema.pool, [sums], 'test', { catalog, partitionBounds: bounds });
      await schema.pool.query(
        `INSERT INTO projector_offsets (consumer, topic, partition, next_offset) VALUES ('test', 'retention', 0, 3)`,
      );

      const outcome = await confirming.process('retention', 0, [{ offset: '7', key: null, value: deposit(a, 1, 2) }]);

      expect(outcome).toMatchObject({ applied: 1, skipped: 0 });
      expect(outcome.sourceGap).toEqual({ kind: 'source-gap', stored: 3n, logStart: 7n, resumeAt: 7n });
      expect(await offsets('retention')).toMatchObject({ next: 8, source_gaps: 1, last_source_gap: { logStart: '7' } });
      // A fetch that starts past a position the broker still holds is sent back to the position, applying nothing;
      // only if a fetch from there still starts later are those offsets taken as absent (no gap is reported).
      bounds.mockResolvedValue({ logStart: 0n, end: 12n });
      const later = [{ offset: '10', key: null, value: deposit(a, 2, 2) }];
      const sentBack = await confirming.process('retention', 0, later);
      expect(sentBack).toMatchObject({ applied: 0, resumeAt: '8' });
      expect(await total(a)).toBe(2);
      const accepted = await confirming.process('retention', 0, later);
      expect(accepted).toMatchObject({ applied: 1 });
      expect(accepted.resumeAt).toBeUndefined();
      expect(await total(a)).toBe(4);
      expect(await offsets('retention')).toMatchObject({ next: 11, source_gaps: 1 });
    });

    it('sends a fetch back again when its position falls back to where it was sent back before (a crash took batches back)', async () => {
      const a = randomUUID();
      const bounds = jest.fn(async () => ({ logStart: 0n, end: 20n }));
      const runner = new ProjectionRunner(schema.pool, [sums], 'test', { catalog, partitionBounds: bounds });
      await schema.pool.query(
        `INSERT INTO projector_offsets (consumer, topic, partition, next_offset) VALUES ('test', 'fallback', 0, 2)`,
      );
      const at = (offset: number, sequence: number) => ({
        offset: String(offset),
        key: null,
        value: deposit(a, sequence, 3),
      });

      expect(await runner.process('fallback', 0, [at(5, 1)])).toMatchObject({ applied: 0, resumeAt: '2' });
      expect(await runner.process('fallback', 0, [at(2, 1), at(3, 2)])).toMatchObject({ applied: 2 });
      // Batches commit without waiting for the WAL flush: a database crash can take the position back to 2 while the
      // consumer reads on from 4. That fetch is sent back too, not taken for offsets that do not exist.
      await schema.pool.query(`UPDATE projector_offsets SET next_offset = 2 WHERE topic = 'fallback'`);
      const ahead = await runner.process('fallback', 0, [at(4, 3)]);
      expect(ahead).toMatchObject({ applied: 0, resumeAt: '2' });
      const again = await runner.process('fallback', 0, [at(2, 1), at(3, 2), at(4, 3)]);
      expect(again).toMatchObject({ applied: 1, duplicates: 2 });
      expect(await total(a)).toBe(9);
      expect(await offsets('fallback')).toMatchObject({ next: 5, source_gaps: 0 });
    });

    it('moves an assigned partition to its log start on a reset or a gap in the source, and records each', async () => {
      await schema.pool.query(
        `INSERT INTO projector_offsets (consumer, topic, partition, next_offset) VALUES ('test', 'assigned', 0, 500),
                ('test', 'assigned', 1, 3), ('test', 'assigned', 2, 8)`,
      );

      expect(await runner.checkAssignedPosition('assigned', 0, async () => ({ logStart: 0n, end: 10n }))).toMatchObject(
        {
          kind: 'reset',
          resumeAt: 0n,
        },
      );
      expect(await runner.checkAssignedPosition('assigned', 1, async () => ({ logStart: 7n, end: 9n }))).toMatchObject({
        kind: 'source-gap',
        resumeAt: 7n,
      });
      expect(await runner.checkAssignedPosition('assigned', 2, async () => ({ logStart: 0n, end: 9n }))).toEqual({
        kind: 'in-range',
        resumeAt: 8n,
      });
      expect(
        await runner.checkAssignedPosition('assigned', 3, async () => ({ logStart: 0n, end: 9n })),
      ).toBeUndefined();
      const { rows } = await schema.pool.query(
        `SELECT partition, next_offset::int AS next, resets, source_gaps, last_source_gap->>'logStart' AS gap_start
           FROM projector_offsets WHERE topic = 'assigned' ORDER BY partition`,
      );
      expect(rows).toEqual([
        { partition: 0, next: 0, resets: 1, source_gaps: 0, gap_start: null },
        { partition: 1, next: 7, resets: 0, source_gaps: 1, gap_start: '7' },
        { partition: 2, next: 8, resets: 0, source_gaps: 0, gap_start: null },
      ]);
    });
  });
});
