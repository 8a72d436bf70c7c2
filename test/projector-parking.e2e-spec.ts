import { randomUUID } from 'node:crypto';
import { Partitioners, type Producer } from 'kafkajs';
import { signToken } from '@event-spine/auth';
import { testKafka, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from './support/pipeline';

const tenantId = 'tenant-e2e';

/** A well-formed envelope of the ledger, as the command service would write it. */
function envelope(subjectId: string, sequence: number, eventType: string, payload: object) {
  return {
    id: randomUUID(),
    tenantId,
    spaceId: 'space-1',
    eventType,
    eventSchemaVersion: eventType === 'AccountOpened' ? 2 : 1,
    subjectType: 'account',
    subjectId,
    actorId: 'test',
    actorType: 'user',
    actionInvocationId: randomUUID(),
    payload,
    sequence,
    occurredAt: new Date().toISOString(),
    recordedAt: new Date().toISOString(),
    correlationId: 'parking',
  };
}

describe('projector: gaps and poison park one subject, the partition keeps flowing', () => {
  let pipeline: Pipeline;
  let projector: ServiceProcess;
  let producer: Producer;
  let admin: string;

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    // One partition: the parked subject and the healthy one share it.
    projector = await pipeline.start('projector', { KAFKA_TOPIC_PARTITIONS: '1' });
    producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    admin = await token(tenantId);
  });
  afterAll(async () => {
    await producer.disconnect();
    await pipeline.stop();
  });

  const topic = () => pipeline.topics[0];
  const send = (key: string, value: string) => producer.send({ topic: topic(), messages: [{ key, value }] });
  const publish = (e: ReturnType<typeof envelope>) => send(`${tenantId}:${e.subjectId}`, JSON.stringify(e));
  const balance = (id: string) => call(projector.url, 'GET', `/v1/accounts/${id}`, admin);

  it('upcasts an event stored at an older schema version, as the command side does', async () => {
    const legacy = randomUUID();
    const v1 = {
      ...envelope(legacy, 1, 'AccountOpened', { owner: 'Legacy Ltd', currency: 'EUR' }),
      eventSchemaVersion: 1,
    };
    await publish(v1);
    await waitFor(async () => (await balance(legacy)).status === 200, {
      timeoutMs: 30000,
      message: 'the v1 event projected',
    });
    expect((await balance(legacy)).body).toMatchObject({ ownerName: 'Legacy Ltd', currency: 'EUR', sequence: 1 });
  });

  it('parks a subject at a gap and a poison event, lists it, and retry/skip resume it; every action is audited', async () => {
    const gapped = randomUUID();
    const healthy = randomUUID();
    const poisoned = randomUUID();
    await publish(envelope(gapped, 1, 'AccountOpened', { ownerName: 'Gap', currency: 'EUR' }));
    await publish(envelope(gapped, 3, 'FundsDeposited', { amount: 30 })); // sequence 2 is missing
    await publish(envelope(gapped, 4, 'FundsDeposited', { amount: 40 }));
    await send(`${tenantId}:${poisoned}`, '{not json');
    await publish(envelope(healthy, 1, 'AccountOpened', { ownerName: 'Fine', currency: 'EUR' }));
    await publish(envelope(healthy, 2, 'FundsDeposited', { amount: 5 }));

    // The healthy subject after them on the same partition is applied.
    await waitFor(async () => (await balance(healthy)).body.balance === 5, {
      timeoutMs: 30000,
      message: 'healthy subject applied',
    });
    expect((await balance(gapped)).body).toMatchObject({ balance: 0, sequence: 1 });

    const parked = await call(projector.url, 'GET', '/admin/parked', admin);
    const list = parked.body.parked as { subjectId: string; reason: string; events: { sequence: number | null }[] }[];
    const gap = list.find((p) => p.subjectId === gapped)!;
    expect(gap.reason).toBe('gap: expected sequence 2, got 3');
    expect(gap.events.map((e) => e.sequence)).toEqual([3, 4]);
    expect(list.find((p) => p.subjectId === poisoned)?.reason).toMatch(/^poison/);

    const metrics = await (await fetch(`${projector.url}/metrics`)).text();
    expect(metrics).toMatch(/spine_projector_gaps_total\{[^}]*\} 1/);

    // Non-admins may not touch it.
    const user = await signToken({ actorId: 'u', actorType: 'user', tenantId, spaceId: 's', roles: [] }, E2E_SECRET);
    expect((await call(projector.url, 'POST', `/admin/parked/account/${gapped}/retry`, user)).status).toBe(403);
    expect((await call(projector.url, 'GET', '/admin/parked', user)).status).toBe(403);

    // Another tenant's admin neither sees nor releases this tenant's parked subjects.
    const otherAdmin = await token('tenant-other');
    expect((await call(projector.url, 'GET', '/admin/parked', otherAdmin)).body.parked).toEqual([]);
    const parkedCount = async (bearer: string) =>
      (
        (await call(projector.url, 'GET', '/admin/projections', bearer)).body.projections as {
          parkedSubjects: number;
        }[]
      )[0].parkedSubjects;
    expect(await parkedCount(admin)).toBeGreaterThanOrEqual(2);
    expect(await parkedCount(otherAdmin)).toBe(0);
    const foreign = await call(projector.url, 'POST', `/admin/parked/account/${gapped}/retry`, otherAdmin);
    expect(foreign).toMatchObject({ status: 404, body: { code: 'NOT_PARKED' } });
    expect((await balance(gapped)).body).toMatchObject({ balance: 0, sequence: 1 });

    // Retry while sequence 2 is still missing: it parks again, nothing applied past the gap.
    const retry = await call(projector.url, 'POST', `/admin/parked/account/${gapped}/retry`, admin);
    expect(retry.body).toMatchObject({ state: 'parked', applied: 0 });
    // The missing event arrives late: it parks behind the gap too.
    await publish(envelope(gapped, 2, 'FundsDeposited', { amount: 20 }));
    await waitFor(
      async () => {
        const p = await call(projector.url, 'GET', '/admin/parked', admin);
        return (
          (p.body.parked as { subjectId: string; events: unknown[] }[]).find((x) => x.subjectId === gapped)?.events
            .length === 3
        );
      },
      { message: 'sequence 2 parked behind the gap' },
    );
    // Now the retry applies 2, 3, 4 in sequence order.
    const resumed = await call(projector.url, 'POST', `/admin/parked/account/${gapped}/retry`, admin);
    expect(resumed.body).toMatchObject({ state: 'flowing', applied: 3, parkedAgain: 0 });
    expect((await balance(gapped)).body).toMatchObject({ balance: 90, sequence: 4 });
    // Later events of the subject flow live again.
    await publish(envelope(gapped, 5, 'FundsWithdrawn', { amount: 10 }));
    await waitFor(async () => (await balance(gapped)).body.sequence === 5, { message: 'live events after release' });

    // Skipping at a gap passes over the missing sequence, never the real event that revealed it.
    const skipGap = randomUUID();
    await publish(envelope(skipGap, 1, 'AccountOpened', { ownerName: 'Skip', currency: 'EUR' }));
    await publish(envelope(skipGap, 3, 'FundsDeposited', { amount: 30 }));
    await publish(envelope(skipGap, 4, 'FundsDeposited', { amount: 4 }));
    await waitFor(
      async () =>
        (
          (await call(projector.url, 'GET', '/admin/parked', admin)).body.parked as {
            subjectId: string;
            events: unknown[];
          }[]
        ).find((p) => p.subjectId === skipGap)?.events.length === 2,
      { message: 'the gapped subject parked' },
    );
    const skippedGap = await call(projector.url, 'POST', `/admin/parked/account/${skipGap}/skip`, admin);
    expect(skippedGap.body).toMatchObject({ state: 'flowing', applied: 2, skippedEvent: 'missing sequence 2' });
    expect((await balance(skipGap)).body).toMatchObject({ balance: 34, sequence: 4 });

    // An unreadable event can only be skipped.
    expect((await call(projector.url, 'POST', `/admin/parked/account/${poisoned}/retry`, admin)).body).toMatchObject({
      state: 'parked',
    });
    const skipped = await call(projector.url, 'POST', `/admin/parked/account/${poisoned}/skip`, admin);
    expect(skipped.body).toMatchObject({ state: 'flowing', released: 1 });
    expect((await call(projector.url, 'POST', `/admin/parked/account/${poisoned}/skip`, admin)).status).toBe(404);
    expect(((await call(projector.url, 'GET', '/admin/parked', admin)).body.parked as unknown[]).length).toBe(0);

    const { rows: foreignAudit } = await pipeline.projectorSchema.pool.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM admin_audit_log WHERE tenant_id = 'tenant-other'`,
    );
    expect(foreignAudit).toEqual([{ action: 'parked.retry', outcome: 'refused: not parked' }]);
    const { rows } = await pipeline.projectorSchema.pool.query<{ action: string; outcome: string; actor_id: string }>(
      `SELECT action, outcome, actor_id FROM admin_audit_log WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    );
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([
      ['parked.retry', 'still parked'],
      ['parked.retry', 'released'],
      ['parked.skip', 'released'],
      ['parked.retry', 'still parked'],
      ['parked.skip', 'released'],
      ['parked.skip', 'refused: not parked'],
    ]);
    expect(new Set(rows.map((r) => r.actor_id))).toEqual(new Set(['e2e']));
    await expect(pipeline.projectorSchema.pool.query(`DELETE FROM admin_audit_log`)).rejects.toThrow(/append-only/);
  });
});
