import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { CommandExecutor, requestHash, type CommandContext } from '@event-spine/commands';
import { ledgerCatalog } from '@ledger/contract';
import { depositFundsCommand } from '../src/ledger/commands/deposit-funds/deposit-funds.command';
import { openAccountCommand } from '../src/ledger/commands/open-account/open-account.command';
import { ledgerModel } from '../src/ledger/domain/ledger.model';
import { CommandServiceHarness } from './command-service.harness';

// The executor's statements, counted on the wire: what a command costs in round trips, and that the reads sent with
// the locks (one round trip) still see what the locks' previous holders committed.
describe('command executor round trips (real PostgreSQL)', () => {
  let svc: CommandServiceHarness;
  let pool: Pool;
  let sent: string[];

  beforeAll(async () => {
    svc = await CommandServiceHarness.start(); // migrates the schema
    pool = new Pool({ connectionString: svc.schema.url, options: `-c search_path=${svc.schema.name}`, max: 25 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        sent.push(typeof first === 'string' ? first : (first as { text: string }).text);
        return query(...args);
      };
    });
  });
  afterAll(async () => {
    await pool.end();
    await svc.stop();
  });
  beforeEach(() => (sent = []));

  // One attempt only: a read that missed a commit made under the lock would fail the guarded write, not be retried.
  const executor = () =>
    new CommandExecutor(pool, ledgerModel, { catalog: ledgerCatalog, topicPrefix: svc.topicPrefix, maxAttempts: 1 });
  const ctx = (key?: string, input?: unknown, actionId = ''): CommandContext => ({
    tenantId: 'tenant-a',
    spaceId: 'space-1',
    actorId: 'user-1',
    actorType: 'user',
    correlationId: randomUUID(),
    ...(key ? { idempotency: { key, requestHash: requestHash(actionId, input) } } : {}),
  });

  it('opens an account in 3 round trips, deposits in 2, and answers a repeated key in 2 writing nothing', async () => {
    const accountId = randomUUID();
    const open = { accountId, ownerName: 'Ada', currency: 'EUR' };
    const opened = await executor().execute(openAccountCommand, open, ctx(`o-${accountId}`, open));
    expect(opened).toMatchObject({ statusCode: 201, replayed: false });
    // BEGIN + lock + both reads; the data-subject key; the four tables' writes with COMMIT.
    expect(sent).toHaveLength(3);

    sent = [];
    const deposit = { accountId, amount: 5 };
    const key = `d-${randomUUID()}`;
    expect(await executor().execute(depositFundsCommand, deposit, ctx(key, deposit))).toMatchObject({
      statusCode: 201,
      body: { balance: 5, sequence: 2 },
    });
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^BEGIN;\nSELECT pg_advisory_xact_lock/);
    expect(sent[1]).toMatch(
      /^WITH s0 AS \(UPDATE subject_state[\s\S]*SELECT \(SELECT count\(\*\) FROM s0\)::int AS s0[\s\S]*spine_expect_rows[\s\S]*;\nCOMMIT$/,
    );

    sent = [];
    const counts = await svc.writeCounts();
    const again = await executor().execute(depositFundsCommand, deposit, ctx(key, deposit));
    expect(again).toMatchObject({ statusCode: 201, replayed: true, body: { balance: 5, sequence: 2 } });
    expect(sent).toEqual([expect.stringMatching(/^BEGIN;/), 'ROLLBACK']);
    expect(await svc.writeCounts()).toEqual(counts);
  });

  it('serialises 20 concurrent deposits on one account by its lock alone: every read sees the previous commit', async () => {
    const accountId = randomUUID();
    const open = { accountId, ownerName: 'Grace', currency: 'EUR' };
    await executor().execute(openAccountCommand, open, ctx());
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        executor().execute(depositFundsCommand, { accountId, amount: i + 1 }, ctx(`c-${randomUUID()}`, { i })),
      ),
    );
    expect(outcomes.map((o) => o.statusCode)).toEqual(Array(20).fill(201));
    expect(outcomes.map((o) => o.body.sequence).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    const { rows } = await svc.db.query<{ sequence: number; state: { balance: number } }>(
      `SELECT sequence, state FROM subject_state WHERE subject_id = $1`,
      [accountId],
    );
    expect(rows).toEqual([{ sequence: 21, state: expect.objectContaining({ balance: 210 }) }]);
  });

  it('writes nothing when the guarded state write finds the subject moved on', async () => {
    const accountId = randomUUID();
    const open = { accountId, ownerName: 'Lin', currency: 'EUR' };
    await executor().execute(openAccountCommand, open, ctx());
    const counts = await svc.writeCounts();
    // A writer that ignores the lock moves the subject between the executor's read and its write.
    const racing = {
      ...depositFundsCommand,
      facts: async () => {
        await svc.db.query(`UPDATE subject_state SET sequence = sequence + 1 WHERE subject_id = $1`, [accountId]);
        return undefined;
      },
    };
    await expect(
      executor().execute(racing, { accountId, amount: 1 }, ctx(`r-${randomUUID()}`, {})),
    ).rejects.toMatchObject({
      code: '40001',
      message: '0 of 1 rows of subject_state written: another transaction moved them first',
    });
    expect(await svc.writeCounts()).toEqual(counts);
  });
});
