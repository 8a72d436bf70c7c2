import { randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { CommandExecutor, requestHash, type CommandContext, type ExecutorOptions } from '@event-spine/commands';
import { ledgerCatalog } from '@ledger/contract';
import { depositFundsCommand } from '../src/ledger/commands/deposit-funds/deposit-funds.command';
import { openAccountCommand } from '../src/ledger/commands/open-account/open-account.command';
import { withdrawFundsCommand } from '../src/ledger/commands/withdraw-funds/withdraw-funds.command';
import { ledgerModel } from '../src/ledger/domain/ledger.model';
import { CommandServiceHarness } from './command-service.harness';

// Group commit against the real PostgreSQL: which commands share a transaction, that each is still decided and
// answered on its own, and that a group whose transaction fails leaves nothing and runs its commands again alone.
describe('command executor group commit (real PostgreSQL)', () => {
  let svc: CommandServiceHarness;
  let pool: Pool;
  let sent: string[];

  beforeAll(async () => {
    svc = await CommandServiceHarness.start(); // migrates the schema
    pool = svc.recordingPool(10, (text) => sent.push(text));
  });
  afterAll(async () => {
    await pool.end();
    await svc.stop();
  });
  beforeEach(() => (sent = []));

  const executor = (grouping: ExecutorOptions['grouping']) =>
    new CommandExecutor(pool, ledgerModel, { catalog: ledgerCatalog, topicPrefix: svc.topicPrefix, grouping });
  const alone = () => executor(undefined);
  const ctx = (actionId: string, input: unknown, key = `k-${randomUUID()}`, tenantId = 'tenant-a'): CommandContext => ({
    tenantId,
    spaceId: 'space-1',
    actorId: 'user-1',
    actorType: 'user',
    correlationId: randomUUID(),
    idempotency: { key, requestHash: requestHash(actionId, input) },
  });
  const open = (e: CommandExecutor, accountId: string) => {
    const input = { accountId, ownerName: 'Ada', currency: 'EUR' };
    return e.execute(openAccountCommand, input, ctx(openAccountCommand.actionId, input));
  };
  const deposit = (e: CommandExecutor, accountId: string, amount: number, key?: string) => {
    const input = { accountId, amount };
    return e.execute(depositFundsCommand, input, ctx(depositFundsCommand.actionId, input, key));
  };
  const transactions = () => sent.filter((s) => /^BEGIN/.test(s)).length;
  const account = async (accountId: string) => {
    const { rows } = await svc.db.query<{ sequence: number; state: { balance: number } }>(
      `SELECT sequence, state FROM subject_state WHERE subject_id = $1`,
      [accountId],
    );
    const { rows: events } = await svc.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM event_log WHERE subject_id = $1`,
      [accountId],
    );
    return { sequence: rows[0]?.sequence, balance: rows[0]?.state.balance, events: Number(events[0].n) };
  };

  it('runs the commands that arrive while a transaction runs in the next one: two round trips for all of them', async () => {
    const grouped = executor({ maxCommands: 8, transactions: 1 });
    const ids = Array.from({ length: 9 }, () => randomUUID());
    // The first starts a transaction at once; the eight queued behind it share the next.
    const outcomes = await Promise.all(ids.map((id) => open(grouped, id)));
    expect(outcomes.map((o) => [o.statusCode, o.replayed])).toEqual(Array(9).fill([201, false]));
    expect(transactions()).toBe(2);
    expect(sent).toHaveLength(4);
    // The eight commands' writes: each table written once, by one statement sent with COMMIT.
    expect(sent[3]).toMatch(/^WITH s0 AS \(INSERT INTO subject_state[\s\S]*;\nCOMMIT$/);
    expect(sent[3].match(/INSERT INTO event_log/g)).toHaveLength(1);
    const { rows } = await svc.db.query<{ txs: string; events: string; outbox: string }>(
      `SELECT count(DISTINCT e.xmin::text) AS txs, count(*) AS events,
              (SELECT count(*) FROM outbox o WHERE o.event_id = ANY(array_agg(e.id))) AS outbox
         FROM event_log e WHERE e.subject_id = ANY($1)`,
      [ids],
    );
    expect(rows[0]).toEqual({ txs: '2', events: '9', outbox: '9' });
    // Each answer is its own command's.
    expect(outcomes.map((o) => o.body.accountId)).toEqual(ids);
  });

  it('answers each command of a group on its own: refused ones write nothing, a repeated key replays, the rest commit', async () => {
    const [a, b, c, d, missing] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const id of [a, b, d]) await open(alone(), id);
    const first = await deposit(alone(), a, 10, 'repeat-me');
    const counts = await svc.writeCounts();

    sent = [];
    const grouped = executor({ maxCommands: 8, transactions: 1 });
    const withdrawal = { accountId: b, amount: 1000 };
    const settled = await Promise.allSettled([
      open(grouped, randomUUID()), // runs first, alone; the others queue behind it
      deposit(grouped, a, 10, 'repeat-me'),
      deposit(grouped, missing, 5),
      grouped.execute(withdrawFundsCommand, withdrawal, ctx(withdrawFundsCommand.actionId, withdrawal, 'too-much')),
      deposit(grouped, d, 7),
      open(grouped, c),
    ]);
    expect(transactions()).toBe(2);
    const [, replay, refusedMissing, refusedFunds, depositD, openC] = settled;
    expect(replay).toEqual({ status: 'fulfilled', value: { ...first, replayed: true } });
    expect(refusedMissing).toMatchObject({ status: 'rejected', reason: { code: 'ACCOUNT_NOT_FOUND' } });
    expect(refusedFunds).toMatchObject({ status: 'rejected', reason: { code: 'INSUFFICIENT_FUNDS' } });
    expect(depositD).toMatchObject({ status: 'fulfilled', value: { statusCode: 201, body: { balance: 7 } } });
    expect(openC).toMatchObject({ status: 'fulfilled', value: { statusCode: 201 } });

    expect(await account(a)).toMatchObject({ sequence: 2, balance: 10, events: 2 });
    expect(await account(b)).toMatchObject({ sequence: 1, balance: 0, events: 1 });
    expect(await account(d)).toMatchObject({ sequence: 2, balance: 7, events: 2 });
    expect(await account(missing)).toMatchObject({ sequence: undefined, events: 0 });
    const after = await svc.writeCounts();
    // Two openings and a deposit: three events, three outbox rows; their three keys and the two stored refusals.
    expect(after.event_log - counts.event_log).toBe(3);
    expect(after.outbox - counts.outbox).toBe(3);
    expect(after.idempotency_keys - counts.idempotency_keys).toBe(5);
    // The refusal is the key's first response: asked again, it answers the same, without running the decision.
    await expect(
      grouped.execute(withdrawFundsCommand, withdrawal, ctx(withdrawFundsCommand.actionId, withdrawal, 'too-much')),
    ).resolves.toMatchObject({ replayed: true, statusCode: 409, body: { code: 'INSUFFICIENT_FUNDS' } });
  });

  it('runs a group whose transaction failed again command by command, each once, leaving nothing of the group', async () => {
    const [p, q, r] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [p, q, r]) await open(alone(), id);
    // A writer that ignores the subject locks holds q's state row; the group's guarded write on q waits behind it.
    const locker = new Client({ connectionString: svc.schema.url, options: `-c search_path=${svc.schema.name}` });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM subject_state WHERE subject_id = $1 FOR UPDATE`, [q]);
      sent = [];
      const grouped = executor({ maxCommands: 8, transactions: 1 });
      const running = Promise.all([deposit(grouped, p, 1), deposit(grouped, q, 2), deposit(grouped, r, 3)]);
      await waitFor(async () => {
        const { rows } = await svc.db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE subject_state%'`,
        );
        return rows.length > 0;
      });
      // The writer moves q on and commits: the group's guard on q misses, so its whole transaction fails.
      await locker.query(`UPDATE subject_state SET sequence = sequence + 1 WHERE subject_id = $1`, [q]);
      await locker.query('COMMIT');
      const outcomes = await running;
      expect(outcomes.map((o) => o.statusCode)).toEqual([201, 201, 201]);
    } finally {
      await locker.end();
    }
    // p alone; q and r as a group, which failed; then q and r each in a transaction of its own.
    expect(transactions()).toBe(4);
    expect(await account(p)).toMatchObject({ balance: 1, events: 2 });
    expect(await account(q)).toMatchObject({ sequence: 3, balance: 2, events: 2 });
    expect(await account(r)).toMatchObject({ sequence: 2, balance: 3, events: 2 });
  });

  it('keeps tenants apart: the same account id and Idempotency-Key in two tenants are two commands, each in its tenant', async () => {
    const grouped = executor({ maxCommands: 8, transactions: 1 });
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const input = (accountId: string, tenant: string) => ({
      accountId,
      ownerName: `Owner in ${tenant}`,
      currency: 'EUR',
    });
    const outcomes = await Promise.all(
      ids.flatMap((id) =>
        ['tenant-a', 'tenant-b'].map((tenant) =>
          grouped.execute(
            openAccountCommand,
            input(id, tenant),
            ctx(openAccountCommand.actionId, input(id, tenant), `same-key-${id}`, tenant),
          ),
        ),
      ),
    );
    expect(outcomes.map((o) => [o.statusCode, o.replayed])).toEqual(Array(12).fill([201, false]));
    // The first alone; then tenant-b's six together, then tenant-a's other five.
    expect(transactions()).toBe(3);
    const { rows } = await svc.db.query<{ tenant_id: string; n: number; txs: number }>(
      `SELECT tenant_id, count(*)::int AS n, count(DISTINCT xmin::text)::int AS txs
         FROM event_log WHERE subject_id = ANY($1) GROUP BY tenant_id ORDER BY tenant_id`,
      [ids],
    );
    // Each tenant's six openings, in transactions of that tenant alone (a group never mixes tenants).
    expect(rows.map((r) => [r.tenant_id, r.n])).toEqual([
      ['tenant-a', 6],
      ['tenant-b', 6],
    ]);
    const { rows: mixed } = await svc.db.query(
      `SELECT xmin::text FROM event_log WHERE subject_id = ANY($1) GROUP BY xmin::text HAVING count(DISTINCT tenant_id) > 1`,
      [ids],
    );
    expect(mixed).toEqual([]);
    const { rows: keys } = await svc.db.query<{ tenant_id: string }>(
      `SELECT tenant_id FROM idempotency_keys WHERE key = ANY($1) ORDER BY tenant_id`,
      [ids.map((id) => `same-key-${id}`)],
    );
    expect(keys.map((k) => k.tenant_id)).toEqual([...Array(6).fill('tenant-a'), ...Array(6).fill('tenant-b')]);
  });

  it('never puts two commands on one subject in a group: 30 concurrent deposits on 3 accounts all count', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await open(alone(), id);
    const grouped = executor({ maxCommands: 16, transactions: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => deposit(grouped, ids[i % 3], i + 1).then((o) => o.body)),
    );
    for (const [k, id] of ids.entries()) {
      const mine = outcomes.filter((o) => o.accountId === id).map((o) => Number(o.sequence));
      expect(mine.sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
      const expected = Array.from({ length: 10 }, (_, i) => 3 * i + k + 1).reduce((s, v) => s + v, 0);
      expect(await account(id)).toMatchObject({ sequence: 11, balance: expected, events: 11 });
    }
    // Fewer transactions than commands: the queue formed groups.
    expect(transactions()).toBeLessThan(30 + 3);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
