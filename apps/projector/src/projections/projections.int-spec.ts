import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { QueryRunner } from 'typeorm';
import type { ProjectedEvent } from '@event-spine/projections';
import { pipeline } from '@event-spine/persistence';
import { TestSchema } from '@event-spine/testing';
import { projections } from './index';
import { readModelMigrations } from './read-models.migration';

/**
 * The set-based `batchStatements` of every projection must leave exactly the rows that `apply` leaves event by event:
 * the runner's fast path uses the first (all of a batch's statements in one round trip, as here), its careful path
 * (and the reason it exists) the second.
 */

type Step = { kind: 'deposit' | 'withdraw' | 'reverse'; amount: number } | { kind: 'close' };

interface Account {
  tenant: string;
  currency: string;
  /** Not opened in the stream: its events must change nothing, whichever way they are applied. */
  stray: boolean;
  steps: Step[];
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('deposit', 'withdraw', 'reverse'), amount: fc.integer({ min: 1, max: 10_000 }) }),
  fc.constant({ kind: 'close' } as const),
);

const accountArb: fc.Arbitrary<Account> = fc.record({
  tenant: fc.constantFrom('tenant-a', 'tenant-b'),
  currency: fc.constantFrom('EUR', 'USD'),
  stray: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  steps: fc.array(stepArb, { maxLength: 8 }),
});

function eventsOf(accounts: Account[], order: number[]): ProjectedEvent[] {
  const base = Date.parse('2026-01-01T00:00:00Z');
  let clock = 0;
  const streams = accounts.map((account, i) => {
    const subjectId = `acc-${i}`;
    const envelope = (sequence: number) => ({
      id: randomUUID(),
      tenantId: account.tenant,
      spaceId: 'default',
      eventSchemaVersion: 1,
      subjectType: 'account',
      subjectId,
      actorId: 'tester',
      actorType: 'user',
      actionInvocationId: randomUUID(),
      sequence,
      occurredAt: new Date(base + clock).toISOString(),
      recordedAt: new Date(base + clock++).toISOString(),
      correlationId: 'c',
    });
    const events: ProjectedEvent[] = [];
    if (!account.stray)
      events.push({
        ...envelope(1),
        eventType: 'AccountOpened',
        payload: { ownerName: `owner ${i}`, currency: account.currency },
      });
    for (const step of account.steps) {
      const sequence = events.length + 1;
      if (step.kind === 'close') events.push({ ...envelope(sequence), eventType: 'AccountClosed', payload: {} });
      else if (step.kind === 'deposit')
        events.push({ ...envelope(sequence), eventType: 'FundsDeposited', payload: { amount: step.amount } });
      else if (step.kind === 'withdraw')
        events.push({ ...envelope(sequence), eventType: 'FundsWithdrawn', payload: { amount: step.amount } });
      else
        events.push({
          ...envelope(sequence),
          eventType: 'EntryReversed',
          payload: {
            reversedEventId: randomUUID(),
            reversedEventType: 'FundsDeposited',
            balanceDelta: -step.amount,
            reason: 'test',
          },
        });
    }
    return events;
  });
  // Interleave the accounts' streams in the generated order, each stream staying in sequence order.
  const merged: ProjectedEvent[] = [];
  for (const pick of order) {
    const live = streams.filter((s) => s.length > 0);
    if (live.length === 0) break;
    merged.push(live[pick % live.length].shift()!);
  }
  for (const rest of streams) merged.push(...rest);
  return merged;
}

async function tables(schema: TestSchema): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of [
    ['account_balances', 'tenant_id, account_id'],
    ['account_statements', 'tenant_id, account_id, sequence'],
    ['tenant_totals', 'tenant_id, currency'],
    ['tenant_total_accounts', 'tenant_id, account_id'],
  ]) {
    out[table] = (await schema.pool.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
  }
  return out;
}

async function oneByOne(schema: TestSchema, events: readonly ProjectedEvent[]): Promise<void> {
  for (const event of events) {
    for (const p of projections) if (p.handles.includes(event.eventType)) await p.apply(schema.pool, event);
  }
}

async function inBatches(schema: TestSchema, events: readonly ProjectedEvent[], cuts: number[]): Promise<void> {
  const bounds = [...new Set([0, ...cuts.map((c) => c % (events.length + 1)), events.length])].sort((a, b) => a - b);
  for (let i = 1; i < bounds.length; i++) {
    const chunk = events.slice(bounds[i - 1], bounds[i]);
    const client = await schema.pool.connect();
    try {
      const statements = projections.flatMap((p) => {
        const mine = chunk.filter((e) => p.handles.includes(e.eventType));
        return mine.length > 0 ? p.batchStatements!(mine) : [];
      });
      await pipeline(client, [{ text: 'BEGIN' }, ...statements, { text: 'COMMIT' }]);
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }
}

describe('projections: batchStatements equals apply, event by event', () => {
  let single: TestSchema;
  let batched: TestSchema;

  beforeAll(async () => {
    single = await TestSchema.create('proj_single');
    batched = await TestSchema.create('proj_batch');
    for (const schema of [single, batched]) {
      for (const migration of readModelMigrations) {
        await new migration().up({ query: (sql: string) => schema.pool.query(sql) } as unknown as QueryRunner);
      }
    }
  });
  afterAll(async () => {
    await single.drop();
    await batched.drop();
  });

  beforeEach(async () => {
    for (const schema of [single, batched])
      await schema.pool.query('TRUNCATE account_balances, account_statements, tenant_totals, tenant_total_accounts');
  });

  it('every projection declares a batch form', () => {
    expect(projections.map((p) => [p.name, typeof p.batchStatements])).toEqual(
      projections.map((p) => [p.name, 'function']),
    );
  });

  it('gives the same rows for random interleavings and random batch boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(accountArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (accounts, order, cuts) => {
          const events = eventsOf(accounts, order);
          for (const schema of [single, batched])
            await schema.pool.query(
              'TRUNCATE account_balances, account_statements, tenant_totals, tenant_total_accounts',
            );
          await oneByOne(single, events);
          await inBatches(batched, events, cuts);
          expect(await tables(batched)).toEqual(await tables(single));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fails where apply would fail, leaving the batch to the careful path', async () => {
    const events = eventsOf([{ tenant: 'tenant-a', currency: 'EUR', stray: false, steps: [] }], []);
    await inBatches(batched, events, []);
    // Opening the same account again: the INSERT conflicts, event by event and in a batch alike.
    await expect(oneByOne(batched, events)).rejects.toThrow(/duplicate key/);
    await expect(inBatches(batched, events, [])).rejects.toThrow(/duplicate key/);
  });
});
