import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { TestSchema, testKafka, uniqueName, waitFor } from '@event-spine/testing';

// Proves the parts the suite stands on are the real ones: a PostgreSQL transaction that commits or leaves nothing,
// and a Kafka broker that takes a message from an idempotent producer and hands it to a consumer group.
describe('real infrastructure', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await TestSchema.create('infra');
    await schema.pool.query('CREATE TABLE notes (id uuid PRIMARY KEY, body text NOT NULL)');
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('commits a row written in one transaction, visible to another connection', async () => {
    const id = randomUUID();
    const client = await schema.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [id, 'committed']);
      const before = await schema.pool.query('SELECT 1 FROM notes WHERE id = $1', [id]);
      expect(before.rowCount).toBe(0); // not visible before commit: this is a real MVCC database
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const after = await schema.pool.query<{ body: string }>('SELECT body FROM notes WHERE id = $1', [id]);
    expect(after.rows).toEqual([{ body: 'committed' }]);
  });

  it('leaves nothing behind when the transaction rolls back, even after a failed statement', async () => {
    const id = randomUUID();
    const client = await schema.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [id, 'doomed']);
      await expect(client.query('INSERT INTO notes (id, body) VALUES ($1, NULL)', [randomUUID()])).rejects.toThrow(
        /null value/,
      );
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const after = await schema.pool.query('SELECT 1 FROM notes WHERE id = $1', [id]);
    expect(after.rowCount).toBe(0);
  });

  describe('kafka', () => {
    let kafka: Kafka;
    let producer: Producer;
    let consumer: Consumer;
    const topic = `${uniqueName('infra')}.events`;

    beforeAll(async () => {
      kafka = testKafka();
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
      await admin.disconnect();
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      consumer = kafka.consumer({
        groupId: uniqueName('group'),
        sessionTimeout: 6000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: false,
      });
      await consumer.connect();
    });

    afterAll(async () => {
      await producer.disconnect();
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    });

    it('delivers produced messages, with key and headers, to a consumer group', async () => {
      const sent = Array.from({ length: 10 }, (_, i) => ({ key: `subject-${i % 3}`, value: JSON.stringify({ i }) }));
      const [ack] = await producer.send({
        topic,
        acks: -1,
        messages: sent.map((m) => ({ ...m, headers: { 'event-id': randomUUID() } })),
      });
      expect(ack?.errorCode).toBe(0);

      const received: { key: string; value: string; partition: number; header: string }[] = [];
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({
            key: message.key!.toString(),
            value: message.value!.toString(),
            partition,
            header: message.headers!['event-id']!.toString(),
          });
        },
      });
      await waitFor(() => received.length >= sent.length, { timeoutMs: 30000, message: 'all messages consumed' });

      expect(received.map(({ key, value }) => ({ key, value })).sort((a, b) => a.value.localeCompare(b.value))).toEqual(
        [...sent].sort((a, b) => a.value.localeCompare(b.value)),
      );
      // One key, one partition: the property per-subject ordering rests on.
      for (const key of new Set(received.map((r) => r.key))) {
        expect(new Set(received.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
      }
      // Same key, same partition: order within a key is the order sent.
      const forKey0 = received
        .filter((r) => r.key === 'subject-0')
        .map((r) => (JSON.parse(r.value) as { i: number }).i);
      expect(forKey0).toEqual([0, 3, 6, 9]);
      expect(received.every((r) => /^[0-9a-f-]{36}$/.test(r.header))).toBe(true);
    });
  });
});
