import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_CLIENTS, createMessageConsumer, type KafkaClientName } from '@event-spine/kafka';
import { uniqueName, waitFor } from '@event-spine/testing';
import { PrivateBroker } from '../support/pipeline';

/**
 * A consumer told to stop while its broker (and so its group coordinator) is gone: it stops, rather than waiting for
 * a coordinator that will not answer, so a service can shut down while Kafka is away.
 */
describe('Kafka consumer port: stopping with the broker gone', () => {
  let broker: PrivateBroker;
  let kafka: Kafka;
  const topic = uniqueName('shutdown');

  beforeAll(async () => {
    broker = PrivateBroker.start(19492 + Number(process.env.JEST_WORKER_ID ?? 0) * 10);
    kafka = new Kafka({ clientId: uniqueName('admin'), brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ key: `k${i}`, value: '{}' })) });
    await producer.disconnect();
  }, 120_000);

  afterAll(() => broker.down());

  it.each(KAFKA_CLIENTS)(
    '%s: stop returns while the broker is down',
    async (client: KafkaClientName) => {
      broker.up();
      const consumer = createMessageConsumer(
        client,
        kafka,
        { brokers: [broker.brokers], clientId: uniqueName(client) },
        {
          groupId: uniqueName('group'),
          topics: [topic],
          sessionTimeoutMs: 6000,
          maxWaitMs: 50,
          partitionsConcurrently: 2,
        },
      );
      let seen = 0;
      await consumer.start({
        startAt: async () => undefined,
        eachBatch: async (batch) => {
          seen += batch.messages.length;
          return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
        },
      });
      await waitFor(() => seen >= 6, { timeoutMs: 60_000, message: `6 messages (have ${seen})` });
      broker.down();
      await consumer.stop();
    },
    180_000,
  );
});
