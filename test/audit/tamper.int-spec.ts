import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  appendEvents,
  chainHash,
  chainHashes,
  GENESIS_HASH,
  verifyChains,
  type ChainQueryable,
  type Checkpoint,
  type VerifyReport,
} from '@event-spine/event-log';
import { testDatabaseUrl } from '@event-spine/testing';
import { CommandServiceHarness, tokenFor } from '../../apps/command-service/test/command-service.harness';

const run = promisify(execFile);

/**
 * Tamper evidence against the real command service and PostgreSQL: events recorded through the service, then
 * changed by a superuser who switches the append-only triggers off. Each change is named, untouched subjects pass,
 * and a checkpoint signed before the changes proves them.
 */
describe('tamper evidence of the event log', () => {
  const signing = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const tenantId = `audit-${randomUUID()}`;
  let svc: CommandServiceHarness;
  let admin: string;
  let db: ChainQueryable;
  let previousKey: string | undefined;

  beforeAll(async () => {
    previousKey = process.env.AUDIT_SIGNING_KEY;
    process.env.AUDIT_SIGNING_KEY = signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    svc = await CommandServiceHarness.start();
    admin = await tokenFor({ tenantId, roles: ['admin'] });
    db = { query: async (sql, params) => (await svc.db.query(sql, params as unknown[])).rows as never };
  });
  afterAll(async () => {
    if (previousKey === undefined) delete process.env.AUDIT_SIGNING_KEY;
    else process.env.AUDIT_SIGNING_KEY = previousKey;
    await svc?.stop();
  });

  const post = async (url: string, body: unknown) => {
    const res = await svc.request('POST', url, { token: admin, body });
    expect(res.statusCode).toBe(201);
    return res.body;
  };
  const openAccount = async (ownerName: string, deposits: number[]) => {
    const { accountId } = (await post('/v1/accounts', { ownerName, currency: 'EUR' })) as { accountId: string };
    for (const amount of deposits) await post(`/v1/accounts/${accountId}/deposits`, { amount });
    return accountId;
  };
  const verify = async (checkpoint: 'latest' | 'none' = 'none') => {
    const res = await svc.request<VerifyReport>('GET', `/admin/audit/verify?checkpoint=${checkpoint}`, {
      token: admin,
    });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const links = (report: VerifyReport) =>
    report.broken
      .map(({ subjectId, sequence, kind, eventId }) => ({ subjectId, sequence, kind, eventId }))
      .sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1));
  const eventId = async (subjectId: string, sequence: number) =>
    (
      await svc.db.query<{ id: string }>(`SELECT id FROM event_log WHERE subject_id = $1 AND sequence = $2`, [
        subjectId,
        sequence,
      ])
    ).rows[0].id;

  /** A superuser session with the append-only triggers off, as someone with full database rights can do. */
  const asSuperuser = async (statements: (c: Client) => Promise<void>, how: 'replica' | 'disable' = 'replica') => {
    const c = new Client({ connectionString: testDatabaseUrl(), options: `-c search_path=${svc.schema.name}` });
    await c.connect();
    try {
      if (how === 'replica') await c.query(`SET session_replication_role = replica`);
      else await c.query(`ALTER TABLE event_log DISABLE TRIGGER ALL`);
      await statements(c);
      if (how === 'disable') await c.query(`ALTER TABLE event_log ENABLE TRIGGER ALL`);
    } finally {
      await c.end();
    }
  };

  let rewritten: string, deleted: string, swapped: string, tail: string, untouched: string, other: string;
  let transferId: string;
  let checkpoint: Checkpoint;
  const checkpointFile = join(mkdtempSync(join(tmpdir(), 'spine-audit-')), 'checkpoint.json');

  it('hashes every event the service records, and keeps each subject’s head with its state', async () => {
    rewritten = await openAccount('Rewritten', [10, 20, 30]);
    deleted = await openAccount('Deleted', [1, 2, 3]);
    swapped = await openAccount('Swapped', [5, 6, 7]);
    tail = await openAccount('Tail', [100]);
    untouched = await openAccount('Untouched', [40]);
    ({ transferId } = (await post('/v1/transfers', { fromAccountId: tail, toAccountId: untouched, amount: 25 })) as {
      transferId: string;
    });
    // Another tenant's account: never part of this tenant's verification.
    const otherToken = await tokenFor({ tenantId: `${tenantId}-other` });
    const res = await svc.request('POST', '/v1/accounts', {
      token: otherToken,
      body: { ownerName: 'Other', currency: 'EUR' },
    });
    other = res.body.accountId as string;

    const { rows } = await svc.db.query<{ n: number; hashed: number; heads_match: boolean }>(
      `SELECT count(*)::int AS n, count(e.hash)::int AS hashed,
              bool_and(s.head_hash IS NOT DISTINCT FROM (SELECT hash FROM event_log l
                WHERE (l.tenant_id, l.subject_type, l.subject_id, l.sequence) =
                      (s.tenant_id, s.subject_type, s.subject_id, s.sequence))) AS heads_match
         FROM event_log e JOIN subject_state s USING (tenant_id, subject_type, subject_id)`,
    );
    expect(rows[0].n).toBeGreaterThan(20);
    expect(rows[0].hashed).toBe(rows[0].n);
    expect(rows[0].heads_match).toBe(true);

    const report = await verify();
    expect(report).toMatchObject({ ok: true, broken: [], unhashed: 0 });
    expect(report.subjects).toBe(6); // five accounts and the transfer
    const { rows: count } = await svc.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(report.checked).toBe(count[0].n);
  });

  it('admits only admins', async () => {
    const user = await tokenFor({ tenantId });
    expect((await svc.request('GET', '/admin/audit/verify', { token: user })).statusCode).toBe(403);
    expect((await svc.request('POST', '/admin/audit/checkpoints', { token: user })).statusCode).toBe(403);
  });

  it('signs a checkpoint of the tenant’s heads, stores it and serves the latest', async () => {
    const res = await svc.request<Checkpoint>('POST', '/admin/audit/checkpoints', { token: admin });
    expect(res.statusCode).toBe(201);
    checkpoint = res.body;
    expect(checkpoint).toMatchObject({ tenantId, format: 'event-spine-checkpoint/v1' });
    expect(checkpoint.heads.map((h) => h.subjectId).sort()).toEqual(
      [rewritten, deleted, swapped, tail, untouched, transferId].sort(),
    );
    expect(checkpoint.heads.find((h) => h.subjectId === tail)).toMatchObject({ subjectType: 'account', sequence: 3 });
    const latest = await svc.request<Checkpoint>('GET', '/admin/audit/checkpoints/latest', { token: admin });
    expect(latest.body).toEqual(checkpoint);
    writeFileSync(checkpointFile, JSON.stringify(checkpoint));

    const verified = await verifyChains(db, {
      checkpoint,
      publicKey: signing.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(verified).toMatchObject({ ok: true, checkpoint: { rootMatches: true, signatureValid: true } });
    // With another key, or a root that is not the fold of its heads, the checkpoint itself fails.
    const otherKey = await verifyChains(db, { checkpoint, publicKey: stranger.publicKey as never });
    expect(otherKey).toMatchObject({ ok: false, broken: [], checkpoint: { signatureValid: false } });
    const changedRoot = await verifyChains(db, { checkpoint: { ...checkpoint, root: 'ab'.repeat(32) } });
    expect(changedRoot).toMatchObject({ ok: false, checkpoint: { rootMatches: false, signatureValid: false } });
  });

  it('names a rewritten payload, a deleted event and two swapped events, each in its subject', async () => {
    const rewrittenId = await eventId(rewritten, 3);
    const swappedId = await eventId(swapped, 3);
    // (a) rewrite a payload, and (b) delete an event, with the triggers skipped for the session
    await asSuperuser(async (c) => {
      await c.query(
        `UPDATE event_log SET payload = jsonb_set(payload, '{amount}', '2000') WHERE subject_id = $1 AND sequence = 3`,
        [rewritten],
      );
      await c.query(`DELETE FROM event_log WHERE subject_id = $1 AND sequence = 2`, [deleted]);
    });
    // (c) exchange two events' sequences, with the triggers disabled on the table
    await asSuperuser(async (c) => {
      await c.query(`UPDATE event_log SET sequence = 1000 WHERE subject_id = $1 AND sequence = 2`, [swapped]);
      await c.query(`UPDATE event_log SET sequence = 2 WHERE subject_id = $1 AND sequence = 3`, [swapped]);
      await c.query(`UPDATE event_log SET sequence = 3 WHERE subject_id = $1 AND sequence = 1000`, [swapped]);
    }, 'disable');

    const report = await verify();
    expect(report.ok).toBe(false);
    expect(links(report)).toEqual(
      [
        { subjectId: rewritten, sequence: 3, kind: 'payload-changed', eventId: rewrittenId },
        { subjectId: deleted, sequence: 2, kind: 'missing', eventId: null },
        { subjectId: swapped, sequence: 2, kind: 'reordered', eventId: swappedId },
      ].sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1)),
    );
    expect(report.broken.every((b) => b.tenantId === tenantId && b.subjectType === 'account')).toBe(true);
    // No checkpoint is signed over broken chains.
    const refused = await svc.request('POST', '/admin/audit/checkpoints', { token: admin });
    expect(refused).toMatchObject({ statusCode: 409, body: { code: 'AUDIT_CHAINS_BROKEN' } });
  });

  it('with the checkpoint taken before, also names a removed last event and a history re-hashed after a change', async () => {
    // Without a checkpoint neither leaves a trace in the chains: the last event of `tail` goes, and `untouched`'s
    // first event is rewritten with every hash after it re-computed (and its head in subject_state moved along).
    await asSuperuser(async (c) => {
      await c.query(`DELETE FROM event_log WHERE subject_id = $1 AND sequence = 3`, [tail]);
      const { rows } = await c.query(`SELECT * FROM event_log WHERE subject_id = $1 ORDER BY sequence`, [untouched]);
      let previous = GENESIS_HASH;
      for (const r of rows) {
        const payload = r.sequence === 1 ? { ...r.payload, ownerName: 'Mallory' } : r.payload;
        previous = chainHash(previous, {
          id: r.id,
          tenantId: r.tenant_id,
          spaceId: r.space_id,
          eventType: r.event_type,
          eventSchemaVersion: r.event_schema_version,
          subjectType: r.subject_type,
          subjectId: r.subject_id,
          actorId: r.actor_id,
          actorType: r.actor_type,
          actionInvocationId: r.action_invocation_id,
          payload,
          sequence: r.sequence,
          occurredAt: (r.occurred_at as Date).toISOString(),
          recordedAt: (r.recorded_at as Date).toISOString(),
          correlationId: r.correlation_id,
          causationId: r.causation_id,
        });
        await c.query(`UPDATE event_log SET payload = $2, hash = $3 WHERE id = $1`, [r.id, payload, previous]);
      }
      await c.query(`UPDATE subject_state SET head_hash = $2 WHERE subject_id = $1`, [untouched, previous]);
    });
    const withoutCheckpoint = await verify('none');
    expect(links(withoutCheckpoint).map((l) => l.subjectId)).toEqual([rewritten, deleted, swapped].sort());

    const withCheckpoint = await verify('latest');
    expect(withCheckpoint.checkpoint).toMatchObject({
      rootMatches: true,
      signatureValid: true,
      keyFromCheckpoint: false,
    });
    expect(links(withCheckpoint)).toEqual(
      [
        ...links(withoutCheckpoint),
        { subjectId: tail, sequence: 3, kind: 'missing', eventId: null },
        { subjectId: untouched, sequence: 3, kind: 'checkpoint-mismatch', eventId: null },
      ].sort((a, b) => (a.subjectId < b.subjectId ? -1 : 1)),
    );
  });

  it('verifies from the command line against the exported checkpoint and a key file', async () => {
    const keyFile = join(resolve(checkpointFile, '..'), 'signer.pem');
    writeFileSync(keyFile, signing.publicKey.export({ type: 'spki', format: 'pem' }));
    const root = resolve(__dirname, '../..');
    const env = { ...process.env, DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: svc.schema.name };
    const cli = (args: string[]) =>
      run('node', ['-r', '@swc-node/register', 'scripts/spine.ts', 'verify', ...args], { cwd: root, env }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    const json = await cli(['--checkpoint', checkpointFile, '--public-key', keyFile, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report.checkpoint).toMatchObject({ tenantId, signatureValid: true, rootMatches: true });
    expect(report.broken.map((b) => [b.subjectId, b.kind]).sort()).toEqual(
      [
        [rewritten, 'payload-changed'],
        [deleted, 'missing'],
        [swapped, 'reordered'],
        [tail, 'missing'],
        [untouched, 'checkpoint-mismatch'],
      ].sort(),
    );
    const text = await cli(['--tenant', `${tenantId}-other`]);
    expect(text).toMatchObject({ code: 0 });
    expect(text.stdout).toMatch(/^intact: 1 events in 1 subjects re-hashed/);
    expect(other).toBeDefined();
  });

  it('hashes the payload as jsonb gives it back: key order, numbers and text of every kind', async () => {
    const tenant = `${tenantId}-jsonb`;
    const subjectId = randomUUID();
    const payloads: unknown[] = [
      { z: 1, a: { y: [3, 2, 1], b: null }, ä: 'ü', '😀': '\u2028 "q" \\', '': true },
      { big: 1e21, small: 5e-324, float: 0.1 + 0.2, negZero: -0, max: Number.MAX_SAFE_INTEGER + 2, exp: 1.5e300 },
      { nested: { deeper: { deepest: [{ k: 'v' }, [], {}] } }, when: new Date('2025-06-01T12:00:00Z') },
    ];
    const at = new Date().toISOString();
    const events = payloads.map((payload, i) => ({
      id: randomUUID(),
      tenantId: tenant,
      spaceId: 'space-1',
      eventType: 'Probe',
      eventSchemaVersion: 1,
      subjectType: 'probe',
      subjectId,
      actorId: 'a',
      actorType: 'user',
      actionInvocationId: randomUUID(),
      payload,
      sequence: i + 1,
      occurredAt: at,
      recordedAt: at,
      correlationId: 'c',
    }));
    await appendEvents(db, events, chainHashes(GENESIS_HASH, events));
    expect(await verifyChains(db, { tenantId: tenant })).toMatchObject({ ok: true, checked: 3, unhashed: 0 });
  });

  it('chains new events over events written before hashing, and accepts them as a prefix', async () => {
    const legacyTenant = `${tenantId}-legacy`;
    const accountId = randomUUID();
    // As a release before hashing wrote it: no hash on the event, no head on the state.
    await svc.db.query(
      `INSERT INTO event_log (id, tenant_id, space_id, event_type, event_schema_version, subject_type, subject_id,
          actor_id, actor_type, action_invocation_id, payload, sequence, occurred_at, recorded_at, correlation_id)
       VALUES (gen_random_uuid(), $1, 'space-1', 'AccountOpened', 2, 'account', $2, 'legacy', 'system',
               gen_random_uuid(), '{"ownerName":"Legacy Ltd","currency":"GBP"}', 1, now(), now(), 'legacy')`,
      [legacyTenant, accountId],
    );
    await svc.db.query(
      `INSERT INTO subject_state (tenant_id, subject_type, subject_id, sequence, state, updated_at)
       VALUES ($1, 'account', $2, 1, '{"status":"open","ownerName":"Legacy Ltd","currency":"GBP","balance":0}', now())`,
      [legacyTenant, accountId],
    );
    const token = await tokenFor({ tenantId: legacyTenant });
    for (const amount of [3, 4]) {
      const res = await svc.request('POST', `/v1/accounts/${accountId}/deposits`, { token, body: { amount } });
      expect(res.statusCode).toBe(201);
    }
    const report = await verifyChains(db, { tenantId: legacyTenant });
    expect(report).toMatchObject({ ok: true, checked: 3, unhashed: 1 });

    // The first hashed event covers the unhashed one before it.
    await asSuperuser((c) =>
      c
        .query(
          `UPDATE event_log SET payload = '{"ownerName":"Mallory","currency":"GBP"}' WHERE subject_id = $1 AND sequence = 1`,
          [accountId],
        )
        .then(() => undefined),
    );
    expect((await verifyChains(db, { tenantId: legacyTenant })).broken).toMatchObject([
      { subjectId: accountId, sequence: 2, kind: 'payload-changed' },
    ]);
  });
});
