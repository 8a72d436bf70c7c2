import type { ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, token } from './support/pipeline';

/**
 * The bound this test holds the quiet tenant to, and the README documents: while another tenant floods the command
 * service at full speed, a trickle of another tenant's commands is in its read model within this long (p99).
 */
const TRICKLE_P99_BOUND_MS = 2000;

function summarize(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)];
  return { p50: at(50), p99: at(99) };
}
const RATE = 50;

describe('fair sharing: a tenant flooding the system cannot starve the others', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  const limits = { RATE_LIMIT_COMMANDS_PER_SECOND: String(RATE), RATE_LIMIT_BURST: String(RATE) };

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service', limits);
    await pipeline.start('outbox-relay');
    projector = await pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });
  });
  afterAll(() => pipeline?.stop());

  it('limits the flood with 429 RATE_LIMITED and Retry-After, while the trickle stays within the bound', async () => {
    const noisy = await token('tenant-flood');
    const quiet = await token('tenant-trickle');
    const account = (await call(commands.url, 'POST', '/v1/accounts', noisy, { ownerName: 'F', currency: 'EUR' })).body
      .accountId as string;
    const own = (await call(commands.url, 'POST', '/v1/accounts', quiet, { ownerName: 'T', currency: 'EUR' })).body
      .accountId as string;

    const floodStarted = performance.now();
    let flooding = true;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    const flood = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (flooding) {
          const res = await fetch(`${commands.url}/v1/accounts/${account}/deposits`, {
            method: 'POST',
            headers: { authorization: `Bearer ${noisy}`, 'content-type': 'application/json' },
            body: JSON.stringify({ amount: 1 }),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 429) {
            retryAfter = res.headers.get('retry-after');
            expect(((await res.json()) as { code: string }).code).toBe('RATE_LIMITED');
          } else await res.arrayBuffer();
        }
      }),
    );

    // The trickle: one deposit every 100 ms for 8 s, each timed from the request to its row in the read model.
    const latencies: number[] = [];
    for (let i = 0; i < 80; i++) {
      const sent = performance.now();
      const res = await call(commands.url, 'POST', `/v1/accounts/${own}/deposits`, quiet, { amount: 1 });
      expect(res.status).toBe(201);
      const read = await call(
        projector.url,
        'GET',
        `/v1/accounts/${own}?minSequence=${res.body.sequence as number}&waitMs=10000`,
        quiet,
      );
      expect(read.status).toBe(200);
      latencies.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 100));
    }
    flooding = false;
    await flood;
    const floodSeconds = (performance.now() - floodStarted) / 1000;

    const flood201 = statuses.get(201) ?? 0;
    const flood429 = statuses.get(429) ?? 0;
    const trickle = summarize(latencies);
    process.stderr.write(
      `[fairness] flood: ${flood201} accepted in ${floodSeconds.toFixed(1)} s, ${flood429} refused (429); trickle p50 ${trickle.p50.toFixed(0)} ms, p99 ${trickle.p99.toFixed(0)} ms\n`,
    );
    expect(flood429).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // The flood got its burst and its rate over the time it flooded, not more.
    expect(flood201).toBeLessThanOrEqual(RATE + Math.ceil(RATE * floodSeconds) + 1);
    expect(trickle.p99).toBeLessThanOrEqual(TRICKLE_P99_BOUND_MS);
  });
});
