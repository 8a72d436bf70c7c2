import { signToken } from '@event-spine/auth';
import type { ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from './support/pipeline';

interface Causality {
  complete: boolean;
  blocked: boolean;
  events: {
    eventType: string;
    subjectType: string;
    publication: { published: boolean; topic?: string; partition?: number; offset?: string };
    projections: { name: string; state: string }[];
  }[];
}

describe('causality query: what a command produced, where it is on Kafka, and whether every projection applied it', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let relay: ServiceProcess;
  let projector: ServiceProcess;
  let admin: string;

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service');
    relay = await pipeline.start('outbox-relay');
    projector = await pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });
    admin = await token();
  });
  afterAll(() => pipeline?.stop());

  const cmd = (path: string, body: unknown, bearer = admin, headers: Record<string, string> = {}) =>
    fetch(`${commands.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  const follow = (path: string, bearer = admin) => call(projector.url, 'GET', path, bearer);
  const invocationOf = async (subjectType: string, subjectId: string) => {
    const history = await call(commands.url, 'GET', `/v1/subjects/${subjectType}/${subjectId}/events`, admin);
    return (history.body.events as { actionInvocationId: string }[]).at(-1)!.actionInvocationId;
  };

  it('follows a transfer across its subjects to Kafka and every projection, and waits for it (barrier)', async () => {
    const a = (await cmd('/v1/accounts', { ownerName: 'From', currency: 'EUR' })).body.accountId as string;
    const b = (await cmd('/v1/accounts', { ownerName: 'To', currency: 'EUR' })).body.accountId as string;
    await cmd(`/v1/accounts/${a}/deposits`, { amount: 500 });
    const transfer = await cmd('/v1/transfers', { fromAccountId: a, toAccountId: b, amount: 200 });
    expect(transfer.status).toBe(201);
    const invocation = await invocationOf('transfer', transfer.body.transferId as string);

    const res = await follow(`/admin/invocations/${invocation}?wait=20000`);
    expect(res.status).toBe(200);
    const view = res.body as unknown as Causality;
    expect(view).toMatchObject({ actionInvocationId: invocation, complete: true, blocked: false });
    expect(view.events.map((e) => `${e.subjectType}:${e.eventType}`)).toEqual([
      'transfer:TransferRequested',
      'account:FundsWithdrawn',
      'account:FundsDeposited',
      'transfer:TransferCompleted',
    ]);
    for (const e of view.events) {
      expect(e.publication).toEqual({
        published: true,
        topic: expect.stringMatching(/spine\.(account|transfer)\.events$/),
        partition: expect.any(Number),
        offset: expect.stringMatching(/^\d+$/),
      });
    }
    const balances = view.events[1].projections.find((p) => p.name === 'account-balances');
    expect(balances).toEqual({ name: 'account-balances', state: 'applied' });
    expect(view.events[0].projections.find((p) => p.name === 'account-balances')?.state).toBe('not-handled');

    // By correlation id: every command of the conversation.
    const correlation = `corr-${Date.now()}`;
    await cmd(`/v1/accounts/${a}/deposits`, { amount: 1 }, admin, { 'x-correlation-id': correlation });
    await cmd(`/v1/accounts/${b}/deposits`, { amount: 2 }, admin, { 'x-correlation-id': correlation });
    const conversation = await follow(`/admin/correlations/${correlation}?wait=20000`);
    expect(conversation.body).toMatchObject({ correlationId: correlation, complete: true });
    expect((conversation.body as unknown as Causality).events).toHaveLength(2);
  });

  it('shows an event not yet published while the relay is down; the barrier gives up with 503, then holds', async () => {
    await relay.stop('SIGKILL');
    const opened = await cmd('/v1/accounts', { ownerName: 'Waiting', currency: 'EUR' });
    const invocation = await invocationOf('account', opened.body.accountId as string);
    const now = await follow(`/admin/invocations/${invocation}`);
    expect(now.body).toMatchObject({
      complete: false,
      blocked: false,
      events: [
        {
          publication: { published: false },
          projections: expect.arrayContaining([{ name: 'account-balances', state: 'pending' }]),
        },
      ],
    });
    expect(await follow(`/admin/invocations/${invocation}?wait=300`)).toMatchObject({
      status: 503,
      body: { code: 'NOT_YET_PROJECTED' },
    });
    relay = await pipeline.start('outbox-relay');
    expect(await follow(`/admin/invocations/${invocation}?wait=20000`)).toMatchObject({
      status: 200,
      body: { complete: true },
    });
  });

  it('answers the command’s own actor and admins of its tenant only, and refuses bad input', async () => {
    const actor = await signToken(
      { actorId: 'clerk-1', actorType: 'user', tenantId: 'tenant-e2e', spaceId: 'space-1', roles: [] },
      E2E_SECRET,
      '1h',
    );
    const opened = await cmd('/v1/accounts', { ownerName: 'Mine', currency: 'EUR' }, actor);
    const invocation = await invocationOf('account', opened.body.accountId as string);
    expect((await follow(`/admin/invocations/${invocation}?wait=20000`, actor)).status).toBe(200);
    const colleague = await signToken(
      { actorId: 'clerk-2', actorType: 'user', tenantId: 'tenant-e2e', spaceId: 'space-1', roles: [] },
      E2E_SECRET,
      '1h',
    );
    expect(await follow(`/admin/invocations/${invocation}`, colleague)).toMatchObject({
      status: 403,
      body: { code: 'NOT_YOUR_INVOCATION' },
    });
    expect(await follow(`/admin/invocations/${invocation}`, await token('tenant-other'))).toMatchObject({
      status: 404,
      body: { code: 'INVOCATION_NOT_FOUND' },
    });
    expect(await follow('/admin/invocations/not-a-uuid')).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED' },
    });
    expect(await follow(`/admin/invocations/${invocation}?wait=-1`)).toMatchObject({ status: 400 });
    expect((await fetch(`${projector.url}/admin/invocations/${invocation}`)).status).toBe(401);
  });
});
