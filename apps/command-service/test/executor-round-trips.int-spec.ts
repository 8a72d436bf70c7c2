import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import {
  CommandExecutor,
  defineDomainModel,
  requestHash,
  type CommandContext,
  type CommandDefinition,
} from '@event-spine/commands';
import { defineEventCatalog, openPayload, strictObject, type EventEnvelope } from '@event-spine/events';
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
    pool = svc.recordingPool(25, (text) => sent.push(text));
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

  it('opens an account in 2 round trips, deposits in 2, and answers a repeated key in 2 writing nothing', async () => {
    const accountId = randomUUID();
    const open = { accountId, ownerName: 'Ada', currency: 'EUR' };
    const opened = await executor().execute(openAccountCommand, open, ctx(`o-${accountId}`, open));
    expect(opened).toMatchObject({ statusCode: 201, replayed: false });
    // BEGIN + lock + both reads + the data subject's key; the five tables' writes (a new key among them) with COMMIT.
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/FROM data_subject_keys[\s\S]*FOR SHARE/);
    expect(sent[1]).toMatch(/INSERT INTO data_subject_keys[\s\S]*spine_expect_rows[\s\S]*'data_subject_keys'/);

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

  it('creates a data subject key with the writes, and retries when another command created it meanwhile', async () => {
    const accountId = randomUUID();
    const theirs = Buffer.alloc(32, 7);
    let raced = 0;
    // Another command's first use of the same data subject commits between this one's opening read and its write.
    const racing = {
      ...openAccountCommand,
      facts: async () => {
        if (raced++ === 0) {
          await svc.db.query(`INSERT INTO data_subject_keys (tenant_id, data_subject_id, key) VALUES ($1, $2, $3)`, [
            'tenant-a',
            accountId,
            theirs,
          ]);
        }
        return undefined;
      },
    };
    const open = { accountId, ownerName: 'Kim', currency: 'EUR' };
    const once = new CommandExecutor(pool, ledgerModel, {
      catalog: ledgerCatalog,
      topicPrefix: svc.topicPrefix,
      maxAttempts: 1,
    });
    const counts = await svc.writeCounts();
    await expect(once.execute(racing, open, ctx())).rejects.toMatchObject({
      code: '40001',
      message: '0 of 1 rows of data_subject_keys written: another transaction moved them first',
    });
    expect(await svc.writeCounts()).toEqual(counts);

    // Retried, the command reads the key that won and seals with it.
    raced = 0;
    const retrying = new CommandExecutor(pool, ledgerModel, { catalog: ledgerCatalog, topicPrefix: svc.topicPrefix });
    await svc.db.query(`DELETE FROM data_subject_keys WHERE data_subject_id = $1`, [accountId]);
    expect(await retrying.execute(racing, open, ctx())).toMatchObject({ statusCode: 201 });
    const { rows } = await svc.db.query<{ key: Buffer }>(
      `SELECT key FROM data_subject_keys WHERE tenant_id = 'tenant-a' AND data_subject_id = $1`,
      [accountId],
    );
    expect(rows).toEqual([{ key: theirs }]);
    const { rows: events } = await svc.db.query<{ id: string; payload: Record<string, unknown> }>(
      `SELECT id, payload FROM event_log WHERE subject_id = $1`,
      [accountId],
    );
    expect(events).toHaveLength(1);
    expect(events[0].payload.ownerName).not.toBe('Kim');
    const envelope = { ...events[0], tenantId: 'tenant-a' } as unknown as EventEnvelope;
    expect(openPayload(envelope, new Map([[accountId, theirs]])).payload).toMatchObject({ ownerName: 'Kim' });
  });

  it('refuses to record personal data of a forgotten data subject, read with the opening', async () => {
    const accountId = randomUUID();
    await svc.db.query(
      `INSERT INTO data_subject_keys (tenant_id, data_subject_id, key, forgotten_at, forgotten_by)
       VALUES ('tenant-a', $1, NULL, now(), 'admin')`,
      [accountId],
    );
    const counts = await svc.writeCounts();
    await expect(
      executor().execute(openAccountCommand, { accountId, ownerName: 'Max', currency: 'EUR' }, ctx()),
    ).rejects.toMatchObject({ code: 'DATA_SUBJECT_FORGOTTEN' });
    expect(sent).toHaveLength(2); // the opening, then ROLLBACK
    expect(await svc.writeCounts()).toEqual(counts);
  });

  it('takes the key of a data subject named in the payload with a round trip of its own', async () => {
    // A fixture domain: a note on a case holds personal data of the person it names, not of the case.
    type Noted = { eventType: 'NoteTaken'; payload: { personId: string; text: string } };
    const catalog = defineEventCatalog<Noted>({
      name: 'notes',
      events: {
        NoteTaken: {
          subjectType: 'case',
          schema: strictObject({ personId: { type: 'string' }, text: { type: 'string' } }, ['personId', 'text']),
          personal: { fields: ['text'], dataSubject: 'personId' },
        },
      },
    });
    const model = defineDomainModel<{ case: { state: { notes: number }; event: Noted } }>({
      case: { initial: { notes: 0 }, evolve: (state) => ({ notes: state.notes + 1 }) },
    });
    const takeNote: CommandDefinition<{ caseId: string; personId: string }> = {
      actionId: 'take-note',
      mutatesDomain: true,
      emitsEvents: ['NoteTaken'],
      subjects: (input) => [{ subjectType: 'case', subjectId: input.caseId }],
      primarySubject: (input) => ({ subjectType: 'case', subjectId: input.caseId }),
      decide: (input) => [
        {
          subjectType: 'case',
          subjectId: input.caseId,
          event: { eventType: 'NoteTaken', payload: { personId: input.personId, text: 'private' } },
        },
      ],
      reply: () => ({ statusCode: 201, body: {} }),
    };
    const notes = new CommandExecutor(pool, model, { catalog, topicPrefix: svc.topicPrefix, maxAttempts: 1 });
    const personId = randomUUID();
    for (const caseId of [randomUUID(), randomUUID()]) {
      sent = [];
      expect(await notes.execute(takeNote, { caseId, personId }, ctx())).toMatchObject({ statusCode: 201 });
      // The opening reads no key (the case is no data subject); the person's key is upserted; the writes.
      expect(sent).toHaveLength(3);
      expect(sent[0]).not.toMatch(/data_subject_keys/);
      expect(sent[1]).toMatch(/^INSERT INTO data_subject_keys/);
    }
    const { rows } = await svc.db.query(`SELECT 1 FROM data_subject_keys WHERE data_subject_id = $1`, [personId]);
    expect(rows).toHaveLength(1);
  });
});
