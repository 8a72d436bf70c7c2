import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { EventEnvelope } from '@event-spine/events';
import { testDatabaseUrl } from '@event-spine/testing';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

type Page = { events: EventEnvelope[]; nextCursor: string | null };

// The classic outbox/feed bug: ids are assigned at insert but become visible at commit. A reader that advances past
// the highest id it has seen silently skips a row that commits later with a lower id. Here a transaction takes its
// id, stays open while later commands commit and the feed is read, and commits last: its event must still appear,
// exactly once, in order.
describe('GET /v1/events with transactions committing out of id order', () => {
  let svc: CommandServiceHarness;
  let token: string;
  const tenantId = `feed-${randomUUID()}`;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    token = await tokenFor({ tenantId });
  });
  afterAll(() => svc.stop());

  const readAll = async (after: string | null): Promise<Page> => {
    const events: EventEnvelope[] = [];
    let cursor = after;
    for (;;) {
      const res = await svc.request<Page>('GET', `/v1/events?limit=2${cursor ? `&after=${cursor}` : ''}`, { token });
      expect(res.statusCode).toBe(200);
      events.push(...res.body.events);
      if (res.body.events.length === 0) return { events, nextCursor: cursor };
      cursor = res.body.nextCursor;
    }
  };

  it('withholds later events while an earlier transaction is open, and delivers everything once it commits', async () => {
    const opened = await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'Feed', currency: 'EUR' } });
    const accountId = opened.body.accountId as string;
    const first = await readAll(null);
    expect(first.events.map((e) => e.eventType)).toEqual(['AccountOpened']);

    // An event of another subject, written by a transaction that takes its id now and stays open.
    const heldId = randomUUID();
    const held = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    await held.connect();
    await held.query('BEGIN');
    await held.query(
      `INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
          actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id)
       VALUES ($1, $2, 'space-1', 'AccountOpened', 2, 'account', $3, 'held', 'user', gen_random_uuid(),
               '{"ownerName":"Held","currency":"EUR"}', 1, now(), now(), 'held')`,
      [heldId, tenantId, randomUUID()],
    );

    // Later transactions (higher ids) commit while the held one is open.
    for (const amount of [1, 2, 3]) {
      const res = await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token, body: { amount } });
      expect(res.statusCode).toBe(201);
    }
    const whileHeld = await readAll(first.nextCursor);
    expect(whileHeld.events).toEqual([]); // nothing passes the open transaction
    expect(whileHeld.nextCursor).toBe(first.nextCursor);

    await held.query('COMMIT');
    await held.end();

    const afterCommit = await readAll(whileHeld.nextCursor);
    expect(afterCommit.events.map((e) => e.id)[0]).toBe(heldId);
    expect(afterCommit.events.map((e) => [e.eventType, e.sequence])).toEqual([
      ['AccountOpened', 1],
      ['FundsDeposited', 2],
      ['FundsDeposited', 3],
      ['FundsDeposited', 4],
    ]);
    // Read from the start: every event exactly once.
    const all = await readAll(null);
    expect(all.events).toHaveLength(5);
    expect(new Set(all.events.map((e) => e.id)).size).toBe(5);
  });

  it('an aborted transaction leaves a gap that the feed passes without waiting forever', async () => {
    const start = await readAll(null);
    const aborted = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    await aborted.connect();
    await aborted.query('BEGIN');
    await aborted.query(`SELECT pg_current_xact_id()`);
    const res = await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'After', currency: 'EUR' } });
    expect(res.statusCode).toBe(201);
    expect((await readAll(start.nextCursor)).events).toEqual([]);
    await aborted.query('ROLLBACK');
    await aborted.end();
    expect((await readAll(start.nextCursor)).events.map((e) => e.subjectId)).toEqual([res.body.accountId]);
  });

  it('is not held back by a transaction in flight in another database, which can write no event here', async () => {
    const start = await readAll(null);
    const elsewhere = new URL(testDatabaseUrl());
    elsewhere.pathname = '/postgres';
    const other = new Client({ connectionString: elsewhere.toString() });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_current_xact_id()`);
      const res = await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'Beside', currency: 'EUR' } });
      expect(res.statusCode).toBe(201);
      expect((await readAll(start.nextCursor)).events.map((e) => e.subjectId)).toEqual([res.body.accountId]);
    } finally {
      await other.end();
    }
  });
});
