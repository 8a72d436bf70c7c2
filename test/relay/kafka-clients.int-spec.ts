import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_CLIENTS, createMessageProducer, type MessageProducer, type OutgoingMessage } from '@event-spine/kafka';
import { isKafkaAway, rowFault } from '@event-spine/relay';
import { testKafka, testKafkaBrokers, uniqueName } from '@event-spine/testing';

/**
 * The two adapters of the Kafka client port against the real broker: what the relay's guarantees rest on is the
 * same whichever is configured (partition per key as the Java client, each message's offset, order per partition,
 * and failures the relay's rules can read).
 */
describe('Kafka client port: kafkajs and @platformatic/kafka adapters', () => {
  const admin = testKafka().admin();
  const topics = { a: uniqueName('clients-a'), b: uniqueName('clients-b') };
  const producers = new Map<string, MessageProducer>();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: topics.a, numPartitions: 6 },
        { topic: topics.b, numPartitions: 6 },
      ],
      waitForLeaders: true,
    });
    for (const client of KAFKA_CLIENTS) {
      const p = createMessageProducer(client, testKafka(), {
        brokers: testKafkaBrokers(),
        clientId: uniqueName(client),
      });
      await p.connect();
      producers.set(client, p);
    }
  });

  afterAll(async () => {
    for (const p of producers.values()) await p.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  });

  const messages = (topic: string, n: number): OutgoingMessage[] =>
    Array.from({ length: n }, (_, i) => ({
      topic,
      key: `tenant-a:subject-${i % 17}`,
      value: JSON.stringify({ i }),
      headers: { seq: String(i) },
    }));

  it('put every key on the same partition, and say where each message landed, in order per partition', async () => {
    const placed: Record<string, number[]> = {};
    for (const [client, producer] of producers) {
      const topic = client === 'kafkajs' ? topics.a : topics.b;
      const sent = messages(topic, 120);
      // Two sends: offsets continue from the first one's.
      const landed = [...(await producer.send(sent.slice(0, 50))), ...(await producer.send(sent.slice(50)))];
      expect(landed.every((l) => l !== undefined)).toBe(true);
      placed[client] = landed.map((l) => l!.partition);

      // What the broker holds, read back: each message where its adapter said, in the order sent per partition.
      const consumer = testKafka().consumer({ groupId: uniqueName('clients') });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: { partition: number; offset: string; seq: string }[] = [];
      await consumer.run({
        eachMessage: async ({ partition, message }) =>
          void got.push({ partition, offset: message.offset, seq: String(message.headers?.seq) }),
      });
      const deadline = Date.now() + 20_000;
      while (got.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await consumer.disconnect();
      expect(got).toHaveLength(sent.length);
      const bySeq = new Map(got.map((g) => [g.seq, g]));
      landed.forEach((l, i) => {
        expect(bySeq.get(String(i))).toEqual({ partition: l!.partition, offset: l!.offset, seq: String(i) });
      });
      for (const p of new Set(got.map((g) => g.partition))) {
        const seqs = got.filter((g) => g.partition === p).map((g) => Number(g.seq));
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    expect(placed.platformatic).toEqual(placed.kafkajs);
    expect(new Set(placed.kafkajs).size).toBeGreaterThan(1);
  });

  it.each(KAFKA_CLIENTS)(
    '%s: a topic the broker does not know is the rows’ fault (unknown-topic), not retried for ever',
    async (client) => {
      const error = await producers
        .get(client)!
        .send(messages(uniqueName('never-created'), 3))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeDefined();
      expect(rowFault(error, { refusingForMs: 0, boundMs: 5000, suspect: false })).toBe('unknown-topic');
    },
    60_000,
  );

  it('@platformatic/kafka: a broker nobody answers at is Kafka away (waited for), not the rows’ fault', async () => {
    const away = createMessageProducer(
      'platformatic',
      new Kafka({ brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING }),
      { brokers: ['127.0.0.1:9'], clientId: uniqueName('away') },
    );
    const error = await away.send(messages(topics.a, 2)).then(
      () => undefined,
      (e: unknown) => e,
    );
    await away.disconnect().catch(() => undefined);
    expect(isKafkaAway(error)).toBe(true);
    expect(rowFault(error, { refusingForMs: 60_000, boundMs: 5000, suspect: true })).toBeUndefined();
  }, 60_000);
});
