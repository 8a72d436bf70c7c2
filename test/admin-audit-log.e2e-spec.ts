import { randomUUID } from 'node:crypto';
import { Partitioners, type Producer } from 'kafkajs';
import { signToken } from '@event-spine/auth';
import { testKafka, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from './support/pipeline';

const tenantId = 'tenant-audit';

interface Entry {
  id: number;
  at: string;
  actorId: string;
  tenantId: string;
  action: string;
  target: Record<string, unknown>;
  outcome: string;
  details: unknown;
}
interface Page {
  entries: Entry[];
  nextBefore: number | null;
}

/**
 * The projector's admin audit log read back through `GET /admin/audit-log`: what the admin actions wrote, newest
 * first, filtered and paged, for the caller's tenant only and for admins only.
 */
describe('projector: GET /admin/audit-log', () => {
  let pipeline: Pipeline;
  let projector: ServiceProcess;
  let producer: Producer;
  let admin: string;
  let operator: string;
  let startedAt: string;

  const list = async (bearer: string, query = '') => {
    const res = await call(projector.url, 'GET', `/admin/audit-log${query}`, bearer);
    return { status: res.status, body: res.body as unknown as Page & { code?: string; details?: unknown } };
  };
  const actions = (page: Page) => page.entries.map((e) => [e.action, e.outcome]);

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    projector = await pipeline.start('projector', { KAFKA_TOPIC_PARTITIONS: '1' });
    producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    admin = await token(tenantId);
    operator = await signToken(
      { actorId: 'ops-2', actorType: 'user', tenantId, spaceId: 'space-1', roles: ['admin'] },
      E2E_SECRET,
      '1h',
    );
    startedAt = new Date(Date.now() - 1000).toISOString();

    // A subject parked at a gap the projector cannot repair (no command service): retried while still missing
    // sequence 2, then skipped past it. Each is an admin action, audited.
    const parked = randomUUID();
    const publish = (sequence: number, eventType: string, payload: object) =>
      producer.send({
        topic: pipeline.topics[0],
        messages: [
          {
            key: `${tenantId}:${parked}`,
            value: JSON.stringify({
              id: randomUUID(),
              tenantId,
              spaceId: 'space-1',
              eventType,
              eventSchemaVersion: eventType === 'AccountOpened' ? 2 : 1,
              subjectType: 'account',
              subjectId: parked,
              actorId: 'import',
              actorType: 'service',
              actionInvocationId: randomUUID(),
              payload,
              sequence,
              occurredAt: new Date().toISOString(),
              recordedAt: new Date().toISOString(),
              correlationId: `audit-${parked}`,
            }),
          },
        ],
      });
    await publish(1, 'AccountOpened', { ownerName: 'Audited', currency: 'EUR' });
    await publish(3, 'FundsDeposited', { amount: 30 });
    await waitFor(
      async () =>
        ((await call(projector.url, 'GET', '/admin/parked', admin)).body.parked as unknown[] | undefined)?.length === 1,
      { timeoutMs: 30000, message: 'the subject parked at its gap' },
    );
    const retry = await call(projector.url, 'POST', `/admin/parked/account/${parked}/retry`, admin);
    expect(retry.body).toMatchObject({ state: 'parked' });
    const skip = await call(projector.url, 'POST', `/admin/parked/account/${parked}/skip`, admin);
    expect(skip.body).toMatchObject({ state: 'flowing' });
    // Another admin of the tenant: a refused retry, and a replay scoped to another tenant (refused, audited).
    expect((await call(projector.url, 'POST', `/admin/parked/account/${randomUUID()}/retry`, operator)).status).toBe(
      404,
    );
    const replay = await call(projector.url, 'POST', '/admin/projections/account-balances/replays', operator, {
      mode: 'preview',
      source: 'kafka',
      from: { earliest: true },
      scope: { tenantId: 'tenant-elsewhere' },
    });
    expect(replay).toMatchObject({ status: 403, body: { code: 'TENANT_SCOPE_FORBIDDEN' } });
    // Another tenant's admin acts too: its entry is its own tenant's.
    expect(
      (await call(projector.url, 'POST', `/admin/parked/account/${parked}/retry`, await token('tenant-audit-other')))
        .status,
    ).toBe(404);
  }, 120000);

  afterAll(async () => {
    await producer?.disconnect();
    await pipeline?.stop();
  });

  it('lists the tenant’s admin actions, newest first, with who, when, what, to what and how it ended', async () => {
    const { status, body } = await list(admin);
    expect(status).toBe(200);
    expect(actions(body)).toEqual([
      ['replay.request', 'TENANT_SCOPE_FORBIDDEN'],
      ['parked.retry', 'refused: not parked'],
      ['parked.skip', 'released'],
      ['parked.retry', 'still parked'],
    ]);
    expect(body.nextBefore).toBeNull();
    const ids = body.entries.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect(new Set(body.entries.map((e) => e.tenantId))).toEqual(new Set([tenantId]));
    expect(body.entries.map((e) => e.actorId)).toEqual(['ops-2', 'ops-2', 'e2e', 'e2e']);
    const [, , skipped, retried] = body.entries;
    expect(retried.target).toMatchObject({ tenantId, subjectType: 'account' });
    expect(retried.details).toMatchObject({ state: 'parked', applied: 0 });
    expect(skipped.details).toMatchObject({ state: 'flowing', skippedEvent: 'missing sequence 2' });
    expect(Date.parse(retried.at)).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(new Date(retried.at).toISOString()).toBe(retried.at);
  });

  it('filters by action (or its family), actor, outcome (from its start) and time', async () => {
    expect(actions((await list(admin, '?action=parked')).body)).toEqual([
      ['parked.retry', 'refused: not parked'],
      ['parked.skip', 'released'],
      ['parked.retry', 'still parked'],
    ]);
    expect(actions((await list(admin, '?action=parked.retry')).body)).toEqual([
      ['parked.retry', 'refused: not parked'],
      ['parked.retry', 'still parked'],
    ]);
    // A family is named up to a dot, and a filter is text, never a LIKE pattern.
    expect((await list(admin, '?action=park')).body.entries).toEqual([]);
    expect((await list(admin, `?action=${encodeURIComponent('parked%')}`)).body.entries).toEqual([]);
    expect((await list(admin, '?action=parked_retry')).body.entries).toEqual([]);
    expect(actions((await list(admin, '?actorId=ops-2')).body)).toEqual([
      ['replay.request', 'TENANT_SCOPE_FORBIDDEN'],
      ['parked.retry', 'refused: not parked'],
    ]);
    expect((await list(admin, '?actorId=ops')).body.entries).toEqual([]);
    expect(actions((await list(admin, '?outcome=refused')).body)).toEqual([['parked.retry', 'refused: not parked']]);
    expect(actions((await list(admin, '?action=parked&actorId=e2e&outcome=still')).body)).toEqual([
      ['parked.retry', 'still parked'],
    ]);

    const all = (await list(admin)).body.entries;
    const oldest = all.at(-1)!;
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await list(admin, `?since=${encodeURIComponent(startedAt)}`)).body.entries).toHaveLength(all.length);
    expect((await list(admin, `?since=${encodeURIComponent(future)}`)).body.entries).toEqual([]);
    expect((await list(admin, `?until=${encodeURIComponent(startedAt)}`)).body.entries).toEqual([]);
    // `at` is answered to the millisecond; the database keeps microseconds.
    const justAfter = new Date(Date.parse(oldest.at) + 1).toISOString();
    const aroundOldest = await list(admin, `?since=${oldest.at}&until=${justAfter}`);
    expect(aroundOldest.body.entries.map((e) => e.id)).toContain(oldest.id);
    expect((await list(admin, `?until=${justAfter}`)).body.entries.at(-1)?.id).toBe(oldest.id);
  });

  it('pages by id: limit, then before=nextBefore until nextBefore is null', async () => {
    const all = (await list(admin)).body.entries.map((e) => e.id);
    const first = (await list(admin, '?limit=3')).body;
    expect(first.entries.map((e) => e.id)).toEqual(all.slice(0, 3));
    expect(first.nextBefore).toBe(all[2]);
    const second = (await list(admin, `?limit=3&before=${first.nextBefore}`)).body;
    expect(second.entries.map((e) => e.id)).toEqual(all.slice(3));
    expect(second.nextBefore).toBeNull();
    // A page that ends exactly at the last entry says so: no empty page to fetch.
    expect((await list(admin, `?limit=${all.length}`)).body.nextBefore).toBeNull();
  });

  it('shows another tenant’s admin only its own tenant’s entries', async () => {
    const other = await list(await token('tenant-audit-other'));
    expect(actions(other.body)).toEqual([['parked.retry', 'refused: not parked']]);
    expect(other.body.entries[0].tenantId).toBe('tenant-audit-other');
    expect((await list(await token('tenant-audit-none'))).body).toEqual({ entries: [], nextBefore: null });
  });

  it('is for admins: 403 for a token without the role, 401 without a token', async () => {
    const reader = await signToken(
      { actorId: 'reader', actorType: 'user', tenantId, spaceId: 'space-1', roles: [] },
      E2E_SECRET,
      '1h',
    );
    expect(await list(reader)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const anonymous = await fetch(`${projector.url}/admin/audit-log`);
    expect(anonymous.status).toBe(401);
  });

  it('refuses a malformed query with 400 VALIDATION_FAILED naming the field', async () => {
    const refused = async (query: string, field: string) => {
      const res = await list(admin, query);
      expect({ query, status: res.status, code: res.body.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect((res.body.details as { field: string }[]).map((d) => d.field)).toContain(field);
    };
    await refused('?limit=0', 'limit');
    await refused('?limit=501', 'limit');
    await refused('?limit=ten', 'limit');
    await refused('?limit=1.5', 'limit');
    await refused('?before=0', 'before');
    await refused('?since=yesterday', 'since');
    await refused('?since=2026-13-01T00:00:00Z', 'since');
    await refused('?until=2026-01-01%2000:00', 'until');
    await refused(`?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z`, 'until');
    await refused('?action=', 'action');
    await refused('?tenantId=tenant-audit-other', 'tenantId');
    expect((await list(admin, '?limit=500')).status).toBe(200);
  });

  it('is documented in the projector’s OpenAPI document', async () => {
    const document = (await (await fetch(`${projector.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId?: string; parameters?: { name: string }[] }>>;
    };
    const operation = document.paths['/admin/audit-log']?.get;
    expect(operation?.operationId).toBe('listAdminAuditLog');
    expect(operation?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['action', 'actorId', 'outcome', 'since', 'until', 'before', 'limit']),
    );
  });
});
