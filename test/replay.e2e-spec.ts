import { Kafka } from 'kafkajs';
import { signToken } from '@event-spine/auth';
import { waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from './support/pipeline';
import { expectReadModelsToEqualTheFold, liveSnapshot } from './support/read-models';

interface ReplayView {
  replayId: string;
  state: string;
  phase: string;
  progress: { processed: number; total: number; applied: number; eventsPerSecond: number; etaSeconds: number | null };
  diff?: {
    added: number;
    changed: number;
    removed: number;
    unchanged: number;
    samples: { changed: { table: string; live: Record<string, unknown>; shadow: Record<string, unknown> }[] };
  };
  outcome?: { swapped: boolean };
  error?: string;
}

describe('replay and rebuild (admin API): preview read-only, rebuild without downtime, from Kafka or the event log', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let admin: string;
  const accounts: string[] = [];
  const startProjector = () => pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    await pipeline.start('outbox-relay');
    projector = await startProjector();
    admin = await token();
    for (let i = 0; i < 6; i++) {
      const opened = await cmd('POST', '/v1/accounts', { ownerName: `R${i}`, currency: 'EUR' });
      accounts.push(opened.body.accountId as string);
      for (let d = 1; d <= 5; d++) await cmd('POST', `/v1/accounts/${accounts[i]}/deposits`, { amount: 100 * d });
    }
    await cmd('POST', '/v1/transfers', { fromAccountId: accounts[0], toAccountId: accounts[1], amount: 150 });
    await cmd('POST', `/v1/accounts/${accounts[5]}/close`, {});
    await expectReadModelsToEqualTheFold(pipeline);
    // The read models do not cover transfers: wait until the projector has applied everything on Kafka too, so a
    // later "nothing live changed" compares against a projector at rest.
    await waitFor(
      async () => {
        const res = await call(projector.url, 'GET', '/admin/projections', admin);
        const projections = res.body.projections as { partitions: { lag: number }[] }[];
        return projections.every((p) => p.partitions.every((x) => x.lag === 0));
      },
      { timeoutMs: 30000, message: 'the projector at rest' },
    );
  });
  afterAll(() => pipeline.stop());

  const cmd = (method: 'GET' | 'POST', path: string, body?: unknown) => call(commands.url, method, path, admin, body);
  const adminCall = (method: 'GET' | 'POST', path: string, body?: unknown, bearer = admin) =>
    call(projector.url, method, path, bearer, body);

  async function replay(projection: string, body: Record<string, unknown>): Promise<string> {
    const res = await adminCall('POST', `/admin/projections/${projection}/replays`, body);
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { replayId: expect.any(String) } });
    return res.body.replayId as string;
  }

  async function finished(id: string, timeoutMs = 150000): Promise<ReplayView> {
    return waitFor(
      async () => {
        const view = (await adminCall('GET', `/admin/replays/${id}`)).body as unknown as ReplayView;
        return view.state !== 'running' && view;
      },
      { timeoutMs, intervalMs: 100, message: `replay ${id} to finish` },
    );
  }

  /** Shadow schemas of this suite's replays that still exist. */
  async function shadowSchemas(): Promise<string[]> {
    const { rows } = await pipeline.projectorSchema.pool.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname IN (SELECT shadow_schema FROM replays)`,
    );
    return rows.map((r) => r.nspname);
  }

  async function audit(replayId: string): Promise<string[]> {
    const { rows } = await pipeline.projectorSchema.pool.query<{ entry: string }>(
      `SELECT action || ' ' || outcome AS entry FROM admin_audit_log WHERE target->>'replayId' = $1 ORDER BY id`,
      [replayId],
    );
    return rows.map((r) => r.entry);
  }

  /** A steady stream of commands over the accounts while `during` runs; returns how many were sent. */
  async function underLoad<T>(during: () => Promise<T>): Promise<{ result: T; sent: number }> {
    let running = true;
    let sent = 0;
    const load = Promise.all(
      accounts.slice(0, 2).map(async (id) => {
        while (running) {
          const res = await cmd('POST', `/v1/accounts/${id}/deposits`, { amount: 1 });
          expect(res.status).toBe(201);
          sent++;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }),
    );
    try {
      return { result: await during(), sent };
    } finally {
      running = false;
      await load;
    }
  }

  it('previews from the earliest Kafka offset: no difference on a healthy model, and nothing live changes', async () => {
    const before = await liveSnapshot(pipeline);
    const id = await replay('account-balances', { mode: 'preview', source: 'kafka', from: { earliest: true } });
    const view = await finished(id);
    expect(view).toMatchObject({ state: 'completed', diff: { added: 0, changed: 0, removed: 0, unchanged: 6 } });
    expect(view.progress.processed).toBeGreaterThanOrEqual(view.progress.applied);
    expect(view.progress.applied).toBeGreaterThanOrEqual(6 * 6);
    expect(await liveSnapshot(pipeline)).toEqual(before);
    await waitFor(async () => (await shadowSchemas()).length === 0, { message: 'the shadow to be dropped' });
    expect(await audit(id)).toEqual(['replay.request accepted', 'replay.outcome completed']);
  });

  it('finds a corrupted read model in a preview, and the signed-off rebuild repairs it under a steady stream of commands', async () => {
    // What a buggy projection release would leave behind: a wrong balance and a lost statement line.
    const db = pipeline.projectorSchema.pool;
    await db.query(`UPDATE account_balances SET balance = balance + 999 WHERE account_id = $1`, [accounts[2]]);
    await db.query(`DELETE FROM account_statements WHERE account_id = $1 AND sequence = 3`, [accounts[3]]);
    const corrupted = await liveSnapshot(pipeline);

    const balancesPreview = await replay('account-balances', {
      mode: 'preview',
      source: 'kafka',
      from: { earliest: true },
    });
    const preview = await finished(balancesPreview);
    expect(preview.diff).toMatchObject({ added: 0, changed: 1, removed: 0 });
    expect(preview.diff!.samples.changed[0]).toMatchObject({
      table: 'account_balances',
      live: { account_id: accounts[2] },
      shadow: { account_id: accounts[2] },
    });
    expect(
      Number(preview.diff!.samples.changed[0].live.balance) - Number(preview.diff!.samples.changed[0].shadow.balance),
    ).toBe(999);
    const statementsPreview = await finished(
      await replay('account-statements', { mode: 'preview', source: 'kafka', from: { earliest: true } }),
    );
    expect(statementsPreview.diff).toMatchObject({ added: 1, changed: 0, removed: 0 });
    expect(await liveSnapshot(pipeline)).toEqual(corrupted);

    // A rebuild of a non-empty model needs the sign-off of a finished preview of the same request.
    const rebuild = { mode: 'rebuild', source: 'kafka', from: { earliest: true } };
    const unsigned = await adminCall('POST', '/admin/projections/account-balances/replays', rebuild);
    expect(unsigned).toMatchObject({ status: 409, body: { code: 'CONFIRMATION_REQUIRED' } });
    const wrongPreview = await adminCall('POST', '/admin/projections/account-balances/replays', {
      ...rebuild,
      confirm: statementsPreview.replayId,
    });
    expect(wrongPreview).toMatchObject({ status: 409, body: { code: 'PREVIEW_NOT_MATCHING' } });

    // Reads during the rebuild never see a half-built model: every account is always there.
    let reads = 0;
    const { sent } = await underLoad(async () => {
      let swapping = true;
      const reader = (async () => {
        while (swapping) {
          for (const id of accounts) {
            const res = await call(projector.url, 'GET', `/v1/accounts/${id}`, admin);
            expect(res.status).toBe(200);
            reads++;
          }
        }
      })();
      const balances = await finished(await replay('account-balances', { ...rebuild, confirm: balancesPreview }));
      const statements = await finished(
        await replay('account-statements', { ...rebuild, confirm: statementsPreview.replayId }),
      );
      swapping = false;
      await reader;
      expect([balances.state, balances.outcome?.swapped, balances.error]).toEqual(['completed', true, undefined]);
      expect([statements.state, statements.outcome?.swapped, statements.error]).toEqual(['completed', true, undefined]);
    });
    expect(sent).toBeGreaterThan(0);
    expect(reads).toBeGreaterThan(0);
    await expectReadModelsToEqualTheFold(pipeline);
    await waitFor(async () => (await shadowSchemas()).length === 0, { message: 'the shadow to be dropped' });
  }, 180_000);

  it('builds the same read model from the event log as from Kafka, across the hand-over to live consumption', async () => {
    const { result: preview } = await underLoad(async () =>
      finished(await replay('tenant-totals', { mode: 'preview', source: 'event-log', from: { earliest: true } })),
    );
    expect(preview).toMatchObject({ state: 'completed', diff: { added: 0, changed: 0, removed: 0, unchanged: 7 } });
    const previewId = preview.replayId;
    const { result: rebuilt } = await underLoad(async () =>
      finished(
        await replay('tenant-totals', {
          mode: 'rebuild',
          source: 'event-log',
          from: { earliest: true },
          confirm: previewId,
        }),
      ),
    );
    expect([rebuilt.state, rebuilt.outcome?.swapped, rebuilt.error]).toEqual(['completed', true, undefined]);
    await expectReadModelsToEqualTheFold(pipeline);
  }, 180_000);

  it('a cancelled replay, and one whose projector is killed with -9, leave the live model as it was and no shadow', async () => {
    await expectReadModelsToEqualTheFold(pipeline);
    const before = await liveSnapshot(pipeline);
    // One event per transaction: slow enough to be caught in the middle.
    const slow = { mode: 'preview', source: 'kafka', from: { earliest: true }, batchSize: 1 };
    const cancelled = await replay('account-statements', slow);
    const cancel = await adminCall('POST', `/admin/replays/${cancelled}/cancel`);
    expect(cancel.status).toBe(202);
    expect(await finished(cancelled)).toMatchObject({ state: 'cancelled' });
    expect(await audit(cancelled)).toEqual([
      'replay.request accepted',
      'replay.cancel cancel requested',
      'replay.outcome cancelled',
    ]);
    expect(await adminCall('POST', `/admin/replays/${cancelled}/cancel`)).toMatchObject({
      status: 409,
      body: { code: 'REPLAY_NOT_RUNNING' },
    });

    const interrupted = await replay('account-statements', slow);
    await waitFor(async () => (await shadowSchemas()).length > 0, { message: 'the shadow to exist' });
    await projector.stop('SIGKILL');
    projector = await startProjector();
    const view = await finished(interrupted);
    expect(view.state).toBe('failed');
    expect(view.error).toMatch(/interrupted/);
    await waitFor(async () => (await shadowSchemas()).length === 0, { message: 'the shadow to be dropped' });
    expect(await liveSnapshot(pipeline)).toEqual(before);
  }, 180_000);

  it('previews a range from a timestamp; a rebuild refuses a range that leaves out part of the history', async () => {
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const touched = accounts[2];
    for (let d = 0; d < 3; d++) await cmd('POST', `/v1/accounts/${touched}/deposits`, { amount: 7 });
    await expectReadModelsToEqualTheFold(pipeline);
    const { rows } = await pipeline.projectorSchema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM account_balances WHERE tenant_id = 'tenant-e2e'`,
    );
    // Only the touched account has events in the range; its earlier history is filled in from the command log, so
    // its row is whole and equal to live. Every other account is outside the range: reported as removed.
    const preview = await finished(
      await replay('account-balances', { mode: 'preview', source: 'kafka', from: { timestamp: since } }),
    );
    expect(preview).toMatchObject({
      state: 'completed',
      diff: { added: 0, changed: 0, unchanged: 1, removed: rows[0].n - 1 },
    });

    const rebuild = (from: object, source = 'kafka') =>
      adminCall('POST', '/admin/projections/account-balances/replays', { mode: 'rebuild', source, from });
    expect(await rebuild({ timestamp: since })).toMatchObject({ status: 422, body: { code: 'PARTIAL_RANGE' } });
    expect(await rebuild({ timestamp: since }, 'event-log')).toMatchObject({
      status: 422,
      body: { code: 'PARTIAL_RANGE' },
    });
    const kafkaAdmin = new Kafka({ brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 }).admin();
    await kafkaAdmin.connect();
    const late: { topic: string; partition: number; offset: string }[] = [];
    for (const topic of pipeline.topics) {
      for (const p of await kafkaAdmin.fetchTopicOffsets(topic))
        if (Number(p.high) > Number(p.low)) late.push({ topic, partition: p.partition, offset: p.high });
    }
    await kafkaAdmin.disconnect();
    expect(await rebuild({ offsets: late.slice(0, 1) })).toMatchObject({
      status: 422,
      body: { code: 'PARTIAL_RANGE' },
    });
    // A timestamp before all history is the whole history: not refused for that (the live model needs sign-off).
    expect(await rebuild({ timestamp: '2000-01-01T00:00:00.000Z' })).toMatchObject({
      status: 409,
      body: { code: 'CONFIRMATION_REQUIRED' },
    });
  }, 180_000);

  it('refuses what it must: non-admins, bad requests, other tenants, unsupported scopes', async () => {
    const reader = await signToken(
      { actorId: 'r', actorType: 'user', tenantId: 'tenant-e2e', spaceId: 's', roles: [] },
      E2E_SECRET,
      '5m',
    );
    const ok = { mode: 'preview', source: 'kafka', from: { earliest: true } };
    const post = (name: string, body: unknown, bearer = admin) =>
      adminCall('POST', `/admin/projections/${name}/replays`, body, bearer);
    expect((await post('account-balances', ok, reader)).status).toBe(403);
    expect(
      (await call(projector.url, 'POST', '/admin/projections/account-balances/replays', 'not-a-token', ok)).status,
    ).toBe(401);
    const bad = await post('account-balances', {
      mode: 'replay',
      source: 'kafka',
      from: { earliest: true, timestamp: 'x' },
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect((bad.body.details as { field: string }[]).map((e) => e.field).sort()).toEqual(
      ['extra', 'from.timestamp', 'mode'].sort(),
    );
    expect(
      (await post('account-balances', { ...ok, from: { earliest: true, timestamp: new Date().toISOString() } })).body,
    ).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'from' }],
    });
    expect(await post('no-such-projection', ok)).toMatchObject({ status: 404, body: { code: 'PROJECTION_NOT_FOUND' } });
    expect(await post('tenant-totals', { ...ok, scope: { subjectId: accounts[0] } })).toMatchObject({
      status: 422,
      body: { code: 'SCOPE_NOT_SUPPORTED' },
    });
    expect(await post('account-balances', { ...ok, scope: { tenantId: 'tenant-other' } })).toMatchObject({
      status: 403,
      body: { code: 'TENANT_SCOPE_FORBIDDEN' },
    });
    expect(
      await post('account-balances', {
        ...ok,
        source: 'event-log',
        from: { offsets: [{ topic: pipeline.topics[0], partition: 0, offset: '0' }] },
      }),
    ).toMatchObject({ status: 422, body: { code: 'OFFSETS_NEED_KAFKA' } });
    expect(
      await post('account-balances', {
        ...ok,
        from: { offsets: [{ topic: pipeline.topics[0], partition: 99, offset: '0' }] },
      }),
    ).toMatchObject({ status: 422, body: { code: 'UNKNOWN_POSITION' } });

    // Another tenant's admin can neither see nor cancel this tenant's replay.
    const mine = await replay('account-balances', { ...ok, scope: { subjectId: accounts[0] } });
    const stranger = await token('tenant-stranger');
    expect((await adminCall('GET', `/admin/replays/${mine}`, undefined, stranger)).status).toBe(404);
    expect((await adminCall('POST', `/admin/replays/${mine}/cancel`, undefined, stranger)).status).toBe(404);
    expect(await finished(mine)).toMatchObject({
      state: 'completed',
      diff: { added: 0, changed: 0, removed: 0, unchanged: 1 },
    });
    const { rows } = await pipeline.projectorSchema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM admin_audit_log WHERE action = 'replay.request' AND outcome <> 'accepted'`,
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(6);
  });
  // Last in this file: it deletes the topics' history, as retention eventually does.
  it('rebuilds from the event log when Kafka no longer holds the history', async () => {
    await expectReadModelsToEqualTheFold(pipeline);
    const kafkaAdmin = new Kafka({ brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 }).admin();
    await kafkaAdmin.connect();
    for (const topic of pipeline.topics) {
      const partitions = (await kafkaAdmin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        offset: p.high,
      }));
      await kafkaAdmin.deleteTopicRecords({ topic, partitions });
      for (const p of await kafkaAdmin.fetchTopicOffsets(topic)) expect(p.low).toBe(p.high);
    }
    await kafkaAdmin.disconnect();
    const { rows } = await pipeline.projectorSchema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM account_balances WHERE tenant_id = 'tenant-e2e'`,
    );
    const accountsLive = rows[0].n;

    // Kafka alone has nothing left to build from...
    const fromKafka = await finished(
      await replay('account-balances', { mode: 'preview', source: 'kafka', from: { earliest: true } }),
    );
    expect(fromKafka).toMatchObject({ state: 'completed', diff: { unchanged: 0, removed: accountsLive } });
    // ...the canonical log has it all: the same model, row for row, every event of it read from the log.
    const fromLog = await finished(
      await replay('account-balances', { mode: 'preview', source: 'event-log', from: { earliest: true } }),
    );
    expect(fromLog).toMatchObject({
      state: 'completed',
      diff: { added: 0, changed: 0, removed: 0, unchanged: accountsLive },
    });
    const { rows: logged } = await pipeline.commandSchema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log WHERE tenant_id = 'tenant-e2e' AND subject_type = 'account'`,
    );
    expect(fromLog.progress.applied).toBeGreaterThanOrEqual(logged[0].n);

    // And the signed-off rebuild from the log swaps in under load; live consumption goes on after it.
    const { result: rebuilt } = await underLoad(async () =>
      finished(
        await replay('account-balances', {
          mode: 'rebuild',
          source: 'event-log',
          from: { earliest: true },
          confirm: fromLog.replayId,
        }),
      ),
    );
    expect([rebuilt.state, rebuilt.outcome?.swapped, rebuilt.error]).toEqual(['completed', true, undefined]);
    await cmd('POST', `/v1/accounts/${accounts[3]}/deposits`, { amount: 11 });
    await expectReadModelsToEqualTheFold(pipeline);
  }, 240_000);
});
