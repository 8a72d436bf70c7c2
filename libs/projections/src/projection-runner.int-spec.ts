import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { TestSchema } from '@spine/testing';
import { ProjectorFences1763800003100 } from './fences.migration';
import { defineProjection } from './projection';
import { ProjectionRunner, type RawMessage } from './projection-runner';
import { ProjectorCore1763800001000 } from './projections.migration';

/** A projection whose handler fails for one amount: the poison the fast path must hand to the careful path. */
const sums = defineProjection({
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
    await schema.pool.query(
      `CREATE TABLE sums (tenant_id text, account_id text, total bigint, PRIMARY KEY (tenant_id, account_id))`,
    );
    runner = new ProjectionRunner(schema.pool, [sums], 'test');
  });
  afterAll(() => schema.drop());

  it('parks the subject whose handler keeps failing, applies everything else of the batch exactly once', async () => {
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
    const outcome = await runner.process('topic', 0, messages);
    expect(outcome).toMatchObject({ applied: 4, parked: 2, duplicates: 0 });
    const { rows } = await schema.pool.query<{ account_id: string; total: string }>(
      `SELECT account_id, total FROM sums`,
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
    }>(`SELECT subject_id, parked_reason, last_sequence FROM projector_subjects WHERE parked_reason IS NOT NULL`);
    expect(parked).toEqual([
      { subject_id: b, parked_reason: expect.stringMatching(/handler failed 3 times/), last_sequence: 1 },
    ]);
    // The same batch again (a redelivery) changes nothing.
    expect(await runner.process('topic', 0, messages)).toMatchObject({ applied: 0, skipped: 6 });
    expect(await runner.storedOffset('topic', 0)).toBe('6');
  });
});
