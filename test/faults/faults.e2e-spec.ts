import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { freePort, uniqueName, waitFor, type ServiceProcess } from '@event-spine/testing';
import { CommandLoad } from '../support/command-load';
import { expectInvariants, type InvariantReport } from '../support/invariants';
import { call, metric, Pipeline, PrivateBroker, token } from '../support/pipeline';
import { PrivatePostgres } from '../support/private-postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jitter = (min: number, max: number) => sleep(min + Math.random() * (max - min));

/**
 * The fault suite: each scenario runs under a steady stream of concurrent commands against the three services as
 * separate processes, on a PostgreSQL server and a Kafka broker of the suite's own (so it may crash them), and ends
 * with the same invariant (test/support/invariants.ts).
 */
/**
 * Every scenario runs with the relay polling the outbox (the default); those where the relay's way of finding rows
 * matters (kills, a broker or PostgreSQL away, commits out of id order) run again with it streaming the outbox by
 * logical replication, on a server with wal_level=logical.
 */
const modes = [
  { mode: 'polling', offset: 0 },
  { mode: 'logical', offset: 5 },
] as const;

describe.each(modes)(
  'faults (relay: $mode): the invariant holds after every fault, under a steady stream of commands',
  ({ mode, offset }) => {
    /** A scenario about the projector or the broker alone runs once, with the default relay. */
    const relayAgnostic = mode === 'polling' ? it : it.skip;
    const report = {
      commandsSent: 0,
      commandsAcknowledged: 0,
      commandsRefusedByTheDomain: 0,
      retriesAfterFaults: 0,
      faultsInjected: {} as Record<string, number>,
      scenarios: {} as Record<string, InvariantReport>,
    };
    const fault = (name: string) => (report.faultsInjected[name] = (report.faultsInjected[name] ?? 0) + 1);
    let pg: PrivatePostgres;
    let broker: PrivateBroker;
    let pipeline: Pipeline;
    let commands: ServiceProcess;
    let relay: ServiceProcess;
    let projector: ServiceProcess;
    let commandPort: number;
    let bearer: string;
    let load: CommandLoad;

    const startCommands = () => pipeline.start('command-service', { HTTP_PORT: String(commandPort) });
    const startRelay = () => pipeline.start('outbox-relay', { RELAY_MODE: mode });
    const startProjector = () =>
      pipeline.start('projector', { COMMAND_SERVICE_URL: `http://127.0.0.1:${commandPort}` });

    beforeAll(async () => {
      const base = (process.env.JEST_WORKER_ID ? Number(process.env.JEST_WORKER_ID) : 1) * 10;
      pg = PrivatePostgres.start(25400 + base + offset, mode === 'logical' ? { wal_level: 'logical' } : {});
      broker = PrivateBroker.start(29300 + base + offset);
      pipeline = await Pipeline.create(broker.brokers, pg.url);
      commandPort = await freePort();
      commands = await startCommands();
      relay = await startRelay();
      projector = await startProjector();
      bearer = await token();
      load = new CommandLoad(() => `http://127.0.0.1:${commandPort}`, bearer);
      await load.openAccounts(8);
    }, 180_000);

    afterAll(async () => {
      await load?.stop();
      Object.assign(report, {
        commandsSent: load?.sent,
        commandsAcknowledged: load?.acknowledged,
        commandsRefusedByTheDomain: load?.refused,
        retriesAfterFaults: load?.retries,
      });
      const dir = resolve(__dirname, '../../.local/reports');
      mkdirSync(dir, { recursive: true });
      const file = mode === 'polling' ? 'faults.json' : `faults-relay-${mode}.json`;
      writeFileSync(resolve(dir, file), `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`\n[faults, relay ${mode}] ${JSON.stringify(report)}\n`);
      await pipeline?.stop();
      broker?.down();
      pg?.destroy();
    }, 120_000);

    async function verify(scenario: string): Promise<void> {
      await load.stop();
      report.scenarios[scenario] = await expectInvariants(pipeline, load.expected);
    }

    it('kill -9 of the relay, the projector and the command service at random moments, three times each', async () => {
      load.start();
      for (let round = 0; round < 3; round++) {
        await jitter(300, 1200);
        await relay.stop('SIGKILL');
        fault('kill -9 outbox-relay');
        relay = await startRelay();
        await jitter(300, 1200);
        await projector.stop('SIGKILL');
        fault('kill -9 projector');
        projector = await startProjector();
        await jitter(300, 1200);
        await commands.stop('SIGKILL');
        fault('kill -9 command-service');
        commands = await startCommands();
      }
      await jitter(500, 1000);
      await verify('kill -9');
    }, 300_000);

    it('the Kafka broker stopped for 30 s: commands keep succeeding, and the backlog drains when it is back', async () => {
      load.start();
      await sleep(1000);
      broker.down();
      fault('kafka broker stopped 30 s');
      const before = load.acknowledged;
      await sleep(30_000);
      expect(load.acknowledged).toBeGreaterThan(before); // writes never depend on Kafka
      // In logical mode the slot holds the WAL of what Kafka could not take, and the relay's gauge says how much.
      const unconfirmed = () => metric(relay.url, 'spine_relay_slot_unconfirmed_wal_bytes');
      const withheld = mode === 'logical' ? await unconfirmed() : 0;
      if (mode === 'logical') expect(withheld).toBeGreaterThan(100_000);
      broker.up();
      await sleep(2000);
      await verify('kafka down 30 s');
      if (mode === 'logical')
        await waitFor(async () => (await unconfirmed()) < withheld / 10, {
          timeoutMs: 30_000,
          message: 'the slot confirmed once the backlog was published',
        });
    }, 300_000);

    it('PostgreSQL crashed and restarted: every service recovers by itself', async () => {
      load.start();
      await sleep(1000);
      pg.down('immediate');
      fault('postgresql crash (immediate stop) and restart');
      await sleep(3000);
      pg.up();
      await sleep(3000);
      // Nothing was restarted: the services reconnect on their own.
      for (const p of [commands, relay, projector]) {
        expect({ app: p.app, running: p.running, logs: p.running ? '' : p.logs.slice(-3000) }).toEqual({
          app: p.app,
          running: true,
          logs: '',
        });
      }
      await waitFor(async () => (await fetch(`${projector.url}/health/ready`)).status === 200, { timeoutMs: 30000 });
      await verify('postgresql restart');
    }, 300_000);

    it('transactions committing out of id order on purpose: the held ones are published and projected too', async () => {
      // A command's transaction can be held open from outside after it wrote its event and outbox row: its last step
      // (storing the Idempotency-Key) waits on an uncommitted row with the same key, until that row is rolled back.
      const held = await load.openAccountsOutsideTheLoad(3);
      load.start();
      const blockers = await Promise.all(
        held.map(async () => {
          const c = new Client({ connectionString: pg.url, options: `-c search_path=${pipeline.commandSchema.name}` });
          await c.connect();
          return c;
        }),
      );
      const keys = held.map(() => randomUUID());
      for (const [i, c] of blockers.entries()) {
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
         VALUES ('tenant-e2e', $1, 'blocker', 'blocker', 0, '{}')`,
          [keys[i]],
        );
      }
      const deposits = held.map((account, i) =>
        fetch(`http://127.0.0.1:${commandPort}/v1/accounts/${account}/deposits`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${bearer}`,
            'content-type': 'application/json',
            'idempotency-key': keys[i],
          },
          body: JSON.stringify({ amount: 1000 + i }),
        }),
      );
      // Later transactions of the load commit meanwhile.
      const during = load.acknowledged;
      await sleep(3000);
      expect(load.acknowledged).toBeGreaterThan(during);
      for (const c of blockers.reverse()) {
        await c.query('ROLLBACK');
        fault('transaction committed out of id order');
        await sleep(300);
      }
      const answers = await Promise.all(deposits);
      expect(answers.map((a) => a.status)).toEqual(held.map(() => 201));
      held.forEach((account, i) => load.expected.set(account, 1000 + i));
      await Promise.all(blockers.map((c) => c.end()));
      await verify('out-of-order commits');
    }, 300_000);

    relayAgnostic(
      'duplicate and reordered deliveries from another producer, and a poison message mid-partition',
      async () => {
        load.start();
        const kafka = new Kafka({ clientId: uniqueName('inject'), brokers: [broker.brokers], logLevel: 0 });
        const copies: {
          topic: string;
          partition: number;
          key: string;
          value: string;
          headers: Record<string, string>;
        }[] = [];
        const reader = kafka.consumer({ groupId: uniqueName('inject'), maxWaitTimeInMs: 100 });
        await reader.connect();
        await reader.subscribe({ topics: pipeline.topics, fromBeginning: true });
        await reader.run({
          eachMessage: async ({ topic, partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            copies.push({ topic, partition, key: message.key!.toString(), value: message.value!.toString(), headers });
          },
        });
        await waitFor(() => copies.length >= 300, { timeoutMs: 30000, message: 'messages to copy' });
        await reader.disconnect();
        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        const sample = copies.slice(0, 300);
        const poisonSubject = randomUUID();
        const accountTopic = pipeline.topics.find((t) => t.endsWith('account.events'))!;
        // Reordered: every copy goes back in reverse order, each subject's later events before its earlier ones.
        for (const [i, m] of [...sample].reverse().entries()) {
          await producer.send({
            topic: m.topic,
            messages: [{ partition: m.partition, key: m.key, value: m.value, headers: m.headers }],
          });
          fault('duplicate delivery (reordered)');
          if (i === 150) {
            await producer.send({
              topic: accountTopic,
              messages: [
                { partition: m.partition, key: `tenant-e2e:${poisonSubject}`, value: '{"not": "an envelope"' },
              ],
            });
            fault('poison message');
          }
        }
        await producer.disconnect();
        await sleep(1000);
        await verify('duplicates, reordering, poison');
        const parked = await call(projector.url, 'GET', '/admin/parked', bearer);
        expect(parked.body.parked).toEqual([
          expect.objectContaining({ subjectId: poisonSubject, reason: expect.stringMatching(/^poison/) }),
        ]);
      },
      300_000,
    );

    relayAgnostic(
      'a fresh, empty broker that gets the same events published again (a cluster move): the projector starts over',
      async () => {
        load.start();
        await sleep(1500);
        await load.stop();
        const kafka = () => new Kafka({ clientId: uniqueName('move'), brokers: [broker.brokers], logLevel: 0 });
        // The relay re-sends after a crash: on the old cluster every partition holds some events twice.
        const old = await readAll(kafka(), pipeline.topics);
        const { rowCount } = await pipeline.commandSchema.pool.query('SELECT id FROM event_log');
        expect(old.events.size).toBe(rowCount);
        const resend = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await resend.connect();
        for (const [partitionKey, messages] of old.byPartition) {
          const [topic, partition] = JSON.parse(partitionKey) as [string, number];
          const m = messages[messages.length - 1];
          await resend.send({ topic, messages: [{ partition, key: m.key, value: m.value, headers: m.headers }] });
          fault('duplicate delivery before the move');
        }
        await resend.disconnect();
        await waitFor(
          async () => (await metricOf(projector, 'spine_projector_duplicates_total')) >= old.byPartition.size,
          {
            timeoutMs: 30000,
            message: 'the old cluster’s duplicates applied as duplicates',
          },
        );
        // Every partition's stored position is past its injected duplicate (the counter above is a sum over partitions,
        // which earlier re-sends can fill while one partition's duplicate is still unread).
        await waitFor(
          async () => {
            const { rows } = await pipeline.projectorSchema.pool.query<{
              topic: string;
              partition: number;
              next: string;
            }>(`SELECT topic, partition, next_offset::text AS next FROM projector_offsets`);
            return [...old.byPartition].every(([partitionKey, messages]) => {
              const [topic, partition] = JSON.parse(partitionKey) as [string, number];
              const row = rows.find((r) => r.topic === topic && r.partition === partition);
              return row !== undefined && Number(row.next) >= messages.length + 1;
            });
          },
          { timeoutMs: 30000, message: 'every partition’s position past its duplicate' },
        );

        // The move: the services that talk to Kafka stop, the new cluster is empty, every event is published once again.
        await relay.stop('SIGKILL');
        await projector.stop('SIGKILL');
        broker.wipe();
        broker.up();
        fault('kafka replaced by a fresh broker');
        const admin = kafka().admin();
        await admin.connect();
        await admin.createTopics({
          topics: pipeline.topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
          waitForLeaders: true,
        });
        await admin.disconnect();
        const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        for (const m of old.events.values()) {
          await producer.send({
            topic: m.topic,
            messages: [{ partition: m.partition, key: m.key, value: m.value, headers: m.headers }],
          });
        }
        await producer.disconnect();

        relay = await startRelay();
        projector = await startProjector();
        type Position = { topic: string; partition: number; offsetResets: number; lag: number };
        const positions = async () =>
          (
            (await call(projector.url, 'GET', '/admin/projections', bearer)).body.projections as {
              partitions: Position[];
            }[]
          )[0].partitions;
        // Every partition that held events on the old cluster held a duplicate too, so its stored position lay beyond
        // the new end. A partition that never held one (the data-subject topic: nobody was forgotten) has nothing to reset.
        const held = (p: Position) => old.byPartition.has(JSON.stringify([p.topic, p.partition]));
        // The projector checks positions when it is assigned its partitions, which it is some time after it is ready.
        // New commands are held until then: a new event reaching a partition first would fill it up to the stored
        // position, and the move would look like no move there (its new events then arrive as sequence gaps and are
        // repaired from the command service's log, which `verify` covers; the detection is what this test is about).
        await waitFor(async () => (await positions()).filter(held).every((p) => p.offsetResets > 0), {
          timeoutMs: 30000,
          message: 'every moved partition seen as reset',
        });
        load.start();
        await sleep(1500);
        await verify('fresh broker, same events published again');
        const partitions = await positions();
        const moved = partitions.filter(held);
        expect(moved.length).toBe(old.byPartition.size);
        expect(moved.map((p) => p.offsetResets)).toEqual(moved.map(() => 1));
        expect(partitions.filter((p) => !held(p)).map((p) => p.offsetResets)).toEqual(
          partitions.filter((p) => !held(p)).map(() => 0),
        );
        expect(partitions.every((p) => p.lag >= 0)).toBe(true);
        expect(await metricOf(projector, 'spine_projector_offset_anomalies_total')).toBe(moved.length);
        const ready = await call(projector.url, 'GET', '/health/ready', bearer);
        expect(ready.body).toMatchObject({ info: { positions: { status: 'up', offsetResets: moved.length } } });
        expect(projector.logs).toContain('offset reset');
      },
      300_000,
    );
  },
);

interface Copy {
  topic: string;
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Every message of the topics: per partition in offset order, and the first copy of each event of the log. */
async function readAll(kafka: Kafka, topics: string[]) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic))
      ends.set(JSON.stringify([topic, p.partition]), Number(p.high));
  }
  await admin.disconnect();
  const byPartition = new Map<string, Copy[]>();
  const events = new Map<string, Copy>();
  const reader = kafka.consumer({ groupId: uniqueName('copy'), maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topics, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      const copy = {
        topic,
        partition,
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers,
      };
      const at = JSON.stringify([topic, partition]);
      byPartition.set(at, [...(byPartition.get(at) ?? []), copy]);
      try {
        const id = (JSON.parse(copy.value) as { id?: string }).id;
        if (id && !events.has(id)) events.set(id, copy);
      } catch {
        // a poison message of an earlier scenario: not an event, not published again
      }
    },
  });
  await waitFor(() => [...ends].every(([at, end]) => (byPartition.get(at)?.length ?? 0) >= end), {
    timeoutMs: 30000,
    message: 'every message of the old cluster read',
  });
  await reader.disconnect();
  return { byPartition, events };
}

const metricOf = (p: ServiceProcess, name: string) => metric(p.url, name);
