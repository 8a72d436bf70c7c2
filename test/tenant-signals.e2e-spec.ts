import { waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, PrivateBroker, token } from './support/pipeline';

/** Every sample of a metric, by its tenant label. */
async function byTenant(base: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{[^}]*tenant="([^"]+)"[^}]*\\} (\\S+)$`).exec(line);
    if (match) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

describe('per-tenant signals: the busiest tenants by name, the rest as "other"', () => {
  let broker: PrivateBroker;
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let relay: ServiceProcess;
  let projector: ServiceProcess;
  const top = { METRICS_TOP_TENANTS: '1' };

  beforeAll(async () => {
    broker = PrivateBroker.start(19792 + Number(process.env.JEST_WORKER_ID ?? 0) * 10);
    pipeline = await Pipeline.create(broker.brokers);
    commands = await pipeline.start('command-service', top);
    relay = await pipeline.start('outbox-relay', { ...top, RELAY_REBALANCE_MS: '200' });
    projector = await pipeline.start('projector', top);
  });
  afterAll(async () => {
    await pipeline?.stop();
    broker?.down();
  });

  const open = async (tenant: string, n: number) => {
    const bearer = await token(tenant);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await call(commands.url, 'POST', '/v1/accounts', bearer, {
        ownerName: `${tenant} ${i}`,
        currency: 'EUR',
      });
      expect(res.status).toBe(201);
      ids.push(res.body.accountId as string);
    }
    return ids;
  };

  it('shows command rate and projection delay of a noisy tenant by name, a quiet one only in "other"', async () => {
    const noisy = await open('tenant-noisy', 24);
    const quiet = await open('tenant-quiet', 3);
    const rates = await byTenant(commands.url, 'spine_tenant_command_rate');
    expect([...rates.keys()].sort()).toEqual(['other', 'tenant-noisy']);
    expect(rates.get('tenant-noisy')).toBeCloseTo(24 / 60, 5);
    expect(rates.get('other')).toBeCloseTo(3 / 60, 5);

    for (const [tenant, ids] of [
      ['tenant-noisy', noisy],
      ['tenant-quiet', quiet],
    ] as const) {
      const bearer = await token(tenant);
      const last = await call(projector.url, 'GET', `/v1/accounts/${ids.at(-1)!}?minSequence=1&waitMs=20000`, bearer);
      expect(last.status).toBe(200);
    }
    const delays = await byTenant(projector.url, 'spine_tenant_projection_delay_seconds');
    expect([...delays.keys()].sort()).toEqual(['other', 'tenant-noisy']);
    expect(delays.get('tenant-noisy')).toBeGreaterThan(0);
  });

  it('shows the outbox backlog by tenant while Kafka is away', async () => {
    broker.down();
    await waitFor(async () => (await fetch(`${relay.url}/health/ready`)).status === 503, {
      timeoutMs: 20000,
      message: 'the relay to see the broker down',
    });
    await open('tenant-noisy', 12);
    await open('tenant-quiet', 2);
    const backlog = await waitFor(
      async () => {
        const b = await byTenant(relay.url, 'spine_tenant_relay_backlog');
        return b.get('tenant-noisy') === 12 && b;
      },
      { timeoutMs: 20000, message: 'the backlog by tenant' },
    );
    expect(Object.fromEntries(backlog)).toEqual({ 'tenant-noisy': 12, other: 2 });
    broker.up();
    await waitFor(async () => (await byTenant(relay.url, 'spine_tenant_relay_backlog')).get('other') === 0, {
      timeoutMs: 60000,
      message: 'the backlog drained',
    });
  });
});
