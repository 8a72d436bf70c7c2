import type { Consumer, Kafka } from 'kafkajs';
import { createMessageProducer, KAFKA_CLIENTS, type KafkaClientName, type MessageProducer } from '@event-spine/kafka';
import { OutboxRelay, type HoldReason, type RelayOptions } from '@event-spine/relay';
import { testDatabaseUrl, testKafka, testKafkaBrokers, uniqueName, waitFor } from '@event-spine/testing';

export interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Record<string, unknown>;
  headers: Record<string, string>;
  /** performance.now() when the consumer handed the message over. */
  arrivedAt: number;
}

/** Everything that arrives on the given topics, from the beginning, via a consumer group of its own. */
export class TopicRecorder {
  readonly messages: Received[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topics: string[]): Promise<TopicRecorder> {
    const consumer = kafka.consumer({
      groupId: uniqueName('recorder'),
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
    });
    const recorder = new TopicRecorder(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        recorder.messages.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key!.toString(),
          value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
          headers,
          arrivedAt: performance.now(),
        });
      },
    });
    return recorder;
  }

  eventIds(): string[] {
    return this.messages.map((m) => m.headers['event-id']);
  }

  async waitForEvents(ids: Iterable<string>, timeoutMs = 30000): Promise<void> {
    const wanted = new Set(ids);
    await waitFor(() => [...wanted].every((id) => this.eventIds().includes(id)), {
      timeoutMs,
      message: `${wanted.size} events on Kafka (have ${this.messages.length})`,
    });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** The Kafka client the relay tests run with: the relay's default unless TEST_KAFKA_CLIENT names the other one. */
export function testKafkaClient(): KafkaClientName {
  const name = process.env.TEST_KAFKA_CLIENT ?? 'platformatic';
  if (!(KAFKA_CLIENTS as readonly string[]).includes(name))
    throw new Error(`TEST_KAFKA_CLIENT: unknown client ${name}`);
  return name as KafkaClientName;
}

export function relayProducer(kafka: Kafka, client: KafkaClientName = testKafkaClient()): MessageProducer {
  return createMessageProducer(client, kafka, { brokers: testKafkaBrokers(), clientId: uniqueName('relay-producer') });
}

/**
 * An in-process relay instance on the test schema, with counters the tests can read; an `observer` given to `start`
 * sees everything too (the service's metrics, say).
 */
export class RelayUnderTest {
  readonly counts = {
    published: 0,
    resent: 0,
    failures: 0,
    heldBack: [] as HoldReason[],
    held: {} as Partial<Record<HoldReason, number>>,
  };
  readonly relay: OutboxRelay;

  private constructor(
    readonly producer: MessageProducer,
    options: Omit<RelayOptions, 'producer' | 'database'>,
  ) {
    const also = options.observer;
    this.relay = new OutboxRelay({
      ...options,
      producer,
      database: { connectionString: testDatabaseUrl() },
      observer: {
        published: (n, ages) => {
          this.counts.published += n;
          also?.published(n, ages);
        },
        resentAfterRecovery: (n) => {
          this.counts.resent += n;
          also?.resentAfterRecovery(n);
        },
        publishFailed: (retriable) => {
          this.counts.failures += 1;
          also?.publishFailed(retriable);
        },
        bucketsOwned: (n) => also?.bucketsOwned(n),
        heldBack: (reason) => {
          this.counts.heldBack.push(reason);
          also?.heldBack(reason);
        },
        heldBuckets: (counts) => {
          this.counts.held = { ...counts };
          also?.heldBuckets(counts);
        },
      },
    });
  }

  static async start(schema: string, overrides: Partial<RelayOptions> = {}): Promise<RelayUnderTest> {
    const producer = relayProducer(testKafka());
    await producer.connect();
    const r = new RelayUnderTest(producer, {
      schema,
      instanceId: uniqueName('relay'),
      batchSize: 100,
      maxIdleMs: 50,
      rebalanceMs: 200,
      instanceTtlMs: 1500,
      cleanupIntervalMs: 200,
      cleanupBatch: 1000,
      ...overrides,
    });
    await r.relay.start();
    return r;
  }

  /** Dies like a killed process: the loop stops, the connection (and its locks) drop, the heartbeat stays. */
  async crash(): Promise<void> {
    const internals = this.relay as unknown as {
      running: boolean;
      client?: { end(): Promise<void> };
      cleaner: { stop(): Promise<void> };
    };
    internals.running = false;
    await internals.client?.end();
    // The process's other connection (the cleanup's) dies with it too.
    await internals.cleaner.stop();
    await this.producer.disconnect();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.producer.disconnect();
  }
}
