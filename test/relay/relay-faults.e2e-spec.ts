import { testKafka, waitFor, type ServiceProcess } from '@event-spine/testing';
import { Kafka, logLevel } from 'kafkajs';
import { TopicRecorder } from '../../apps/outbox-relay/test/relay.harness';
import { call, metric, Pipeline, PrivateBroker, token } from '../support/pipeline';

/** Keeps sending deposits to a set of accounts until stopped; returns how many succeeded. */
function steadyCommands(base: string, bearer: string, accounts: string[]) {
  let running = true;
  let ok = 0;
  let failed = 0;
  const workers = accounts.map(async (id) => {
    while (running) {
      const res = await call(base, 'POST', `/v1/accounts/${id}/deposits`, bearer, { amount: 1 }).catch(() => undefined);
      if (res?.status === 201) ok++;
      else failed++;
    }
  });
  return {
    get ok() {
      return ok;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      return { ok, failed };
    },
  };
}

async function openAccounts(base: string, bearer: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call(base, 'POST', '/v1/accounts', bearer, { ownerName: `Fault ${i}`, currency: 'EUR' });
    expect(res.status).toBe(201);
    ids.push(res.body.accountId as string);
  }
  return ids;
}

async function expectEverythingOnKafka(pipeline: Pipeline, recorder: TopicRecorder) {
  const { rows } = await pipeline.commandSchema.pool.query<{ id: string; subject_id: string; sequence: number }>(
    `SELECT id, subject_id, sequence FROM event_log ORDER BY subject_id, sequence`,
  );
  await recorder.waitForEvents(
    rows.map((r) => r.id),
    60000,
  );
  // Per subject, the first delivery of each sequence comes in sequence order.
  const bySubject = new Map<string, number[]>();
  for (const m of recorder.messages) {
    const list = bySubject.get(m.headers['subject-id']) ?? [];
    list.push(Number(m.headers.sequence));
    bySubject.set(m.headers['subject-id'], list);
  }
  for (const [, sequences] of bySubject) {
    const first = sequences.filter((s, i) => sequences.indexOf(s) === i);
    expect(first).toEqual(first.map((_, i) => i + 1));
  }
  const ids = recorder.eventIds();
  return { events: rows.length, duplicates: ids.length - new Set(ids).size };
}

describe('relay under kill -9', () => {
  let pipeline: Pipeline;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    pipeline = await Pipeline.create();
  });
  afterAll(async () => {
    await recorder?.stop();
    await pipeline.stop();
  });

  it('loses nothing when the relay is killed mid-stream, and counts what it re-sends', async () => {
    const commands = await pipeline.start('command-service');
    const relayEnv = { RELAY_BATCH_SIZE: '25', RELAY_REBALANCE_MS: '200', RELAY_INSTANCE_TTL_MS: '1500' };
    let relay: ServiceProcess = await pipeline.start('outbox-relay', relayEnv);
    recorder = await TopicRecorder.start(testKafka(), pipeline.topics);
    const bearer = await token();
    const accounts = await openAccounts(commands.url, bearer, 12);
    const load = steadyCommands(commands.url, bearer, accounts);

    let resent = 0;
    for (let kill = 0; kill < 3; kill++) {
      await waitFor(() => recorder.messages.length > (kill + 1) * 60, {
        timeoutMs: 30000,
        message: 'traffic on Kafka',
      });
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      const result = await relay.stop('SIGKILL');
      expect(result.signal).toBe('SIGKILL');
      relay = await pipeline.start('outbox-relay', relayEnv);
      await waitFor(async () => (await metric(relay.url, 'spine_relay_published_total')) > 0, {
        timeoutMs: 30000,
        message: 'the restarted relay publishing',
      });
      // Counted when the buckets were taken over, before the first publish.
      resent += await metric(relay.url, 'spine_relay_resent_after_recovery_total');
    }
    const sent = await load.stop();
    expect(sent.ok).toBeGreaterThan(100);

    const { events, duplicates } = await expectEverythingOnKafka(pipeline, recorder);
    expect(events).toBe(sent.ok + accounts.length);
    // Every duplicate on Kafka was counted by the relay as a possible one.
    expect(duplicates).toBeLessThanOrEqual(resent);
    process.stderr.write(`[relay kill -9] events=${events} duplicates=${duplicates} counted-resends=${resent}\n`);
  });
});

describe('relay while the broker is down', () => {
  let broker: PrivateBroker;
  let pipeline: Pipeline;
  let recorder: TopicRecorder | undefined;

  beforeAll(async () => {
    broker = PrivateBroker.start(19092 + Number(process.env.JEST_WORKER_ID ?? 0) * 10);
    pipeline = await Pipeline.create(broker.brokers);
  });
  afterAll(async () => {
    await recorder?.stop();
    await pipeline.stop();
    broker.down();
  });

  it('keeps taking commands, holds the backlog, and drains it completely when the broker returns', async () => {
    const commands = await pipeline.start('command-service');
    const relay = await pipeline.start('outbox-relay', { RELAY_REBALANCE_MS: '200' });
    const bearer = await token();
    const accounts = await openAccounts(commands.url, bearer, 4);

    broker.down();
    await waitFor(async () => (await fetch(`${relay.url}/health/ready`)).status === 503, {
      timeoutMs: 20000,
      message: 'relay readiness to report the broker down',
    });
    const load = steadyCommands(commands.url, bearer, accounts);
    await waitFor(() => load.ok >= 100, { timeoutMs: 30000, message: 'commands succeeding without Kafka' });
    const sent = await load.stop();
    expect(sent.failed).toBe(0);
    const backlog = await metric(relay.url, 'spine_relay_backlog');
    expect(backlog).toBeGreaterThanOrEqual(sent.ok);
    expect(await metric(relay.url, 'spine_relay_oldest_unpublished_age_seconds')).toBeGreaterThan(0);

    broker.up();
    await waitFor(async () => (await metric(relay.url, 'spine_relay_backlog')) === 0, {
      timeoutMs: 60000,
      message: 'the backlog to drain',
    });
    expect((await fetch(`${relay.url}/health/ready`)).status).toBe(200);
    recorder = await TopicRecorder.start(
      new Kafka({ clientId: 'broker-check', brokers: [broker.brokers], logLevel: logLevel.NOTHING }),
      pipeline.topics,
    );
    const { events } = await expectEverythingOnKafka(pipeline, recorder);
    expect(events).toBe(sent.ok + accounts.length);
  });
});
