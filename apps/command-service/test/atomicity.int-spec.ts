import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { testDatabaseUrl } from '@event-spine/testing';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

// State, event and outbox row commit together or not at all: each of the three writes is made to fail in the real
// database (a trigger raising on insert/update), and the command must leave no trace anywhere.
describe('one transaction per command', () => {
  let svc: CommandServiceHarness;
  let token: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    token = await tokenFor({ tenantId: `atom-${randomUUID()}` });
    await svc.db.query(`
      CREATE FUNCTION fail_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure on %', TG_TABLE_NAME; END $$`);
  });
  afterAll(() => svc.stop());

  const failures = [
    ['the state save', 'subject_state'],
    ['the event append', 'event_log'],
    ['the outbox write', 'outbox'],
  ] as const;

  it.each(failures)('writes nothing when %s fails', async (_what, table) => {
    const accountId = randomUUID();
    const opened = await svc.request('POST', '/v1/accounts', {
      token,
      body: { ownerName: 'Atom', currency: 'EUR', accountId },
    });
    expect(opened.statusCode).toBe(201);
    await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token, body: { amount: 100 } });
    const before = await svc.writeCounts();
    const trigger = `fail_${table}`;
    await svc.db.query(
      `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION fail_write()`,
    );
    try {
      const res = await svc.request('POST', `/v1/accounts/${accountId}/deposits`, {
        token,
        body: { amount: 1 },
        headers: { 'idempotency-key': `atom-${randomUUID()}` },
      });
      expect(res).toMatchObject({ statusCode: 500, body: { code: 'INTERNAL_ERROR' } });
    } finally {
      await svc.db.query(`DROP TRIGGER ${trigger} ON ${table}`);
    }
    expect(await svc.writeCounts()).toEqual(before);
    const state = await svc.request('GET', `/v1/accounts/${accountId}`, { token });
    expect(state.body).toMatchObject({ balance: 100, sequence: 2 });
  });

  it('keeps the write of a mutating command and its events all-or-nothing for a four-event transfer too', async () => {
    const from = (await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'A', currency: 'EUR' } })).body
      .accountId as string;
    const to = (await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'B', currency: 'EUR' } })).body
      .accountId as string;
    await svc.request('POST', `/v1/accounts/${from}/deposits`, { token, body: { amount: 50 } });
    const before = await svc.writeCounts();
    // Fails only the third of four events: the first two were already inserted in the same statement's transaction.
    await svc.db.query(`
      CREATE FUNCTION fail_third() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.event_type = 'FundsDeposited' AND NEW.payload ? 'transferId' THEN
        RAISE EXCEPTION 'injected failure on the deposit leg'; END IF; RETURN NEW; END $$`);
    await svc.db.query(
      `CREATE TRIGGER fail_third BEFORE INSERT ON event_log FOR EACH ROW EXECUTE FUNCTION fail_third()`,
    );
    try {
      const res = await svc.request('POST', '/v1/transfers', {
        token,
        body: { fromAccountId: from, toAccountId: to, amount: 20 },
      });
      expect(res.statusCode).toBe(500);
    } finally {
      await svc.db.query(`DROP TRIGGER fail_third ON event_log`);
    }
    expect(await svc.writeCounts()).toEqual(before);
  });
});

describe('the event log is append-only in the database', () => {
  let svc: CommandServiceHarness;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    const token = await tokenFor();
    await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'Log', currency: 'EUR' } });
  });
  afterAll(() => svc.stop());

  it.each([
    ['UPDATE', `UPDATE event_log SET payload = '{}'::jsonb`],
    ['DELETE', `DELETE FROM event_log`],
    ['TRUNCATE', `TRUNCATE event_log`],
  ])('refuses %s with raw SQL, even as a superuser', async (_op, sql) => {
    // A separate connection as the database superuser: the guard is in the database, not in the application.
    const client = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    await client.connect();
    try {
      await expect(client.query(sql)).rejects.toThrow(/event_log is append-only/);
    } finally {
      await client.end();
    }
    const { rows } = await svc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM event_log`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses a second event at a taken (tenant, subject, sequence)', async () => {
    const { rows } = await svc.db.query<Record<string, unknown>>(`SELECT * FROM event_log LIMIT 1`);
    const e = rows[0];
    await expect(
      svc.db.query(
        `INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
            actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id)
         VALUES (gen_random_uuid(), $1, $2, 'FundsDeposited', 1, $3, $4, 'x', 'user', gen_random_uuid(), '{}', $5, now(), now(), 'c')`,
        [e.tenant_id, e.space_id, e.subject_type, e.subject_id, e.sequence],
      ),
    ).rejects.toThrow(/event_log_subject_sequence/);
  });
});
