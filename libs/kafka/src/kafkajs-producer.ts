import {
  Partitioners,
  type ICustomPartitioner,
  type Kafka,
  type Producer,
  type ProducerConfig,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import { codecFor, KAFKAJS_COMPRESSION, registerKafkajsCodecs, type CompressionPolicy } from './compression';
import type { Landed, MessageProducer, OutgoingMessage } from './message-producer';

const partitionOf = new WeakMap<object, number>();

/**
 * kafkajs's default partitioner (murmur2 of the key, as the Java client's), remembering the partition it chose for
 * each message object: with the base offset Kafka acknowledges per partition, that gives each message's offset.
 */
const recordingPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  return (args) => {
    const chosen = partition(args);
    partitionOf.set(args.message, chosen);
    return chosen;
  };
};

/** Bounded retries: kafkajs retries an idempotent send for ever by default. */
export const KAFKAJS_PRODUCER_CONFIG = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: recordingPartitioner,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
} as const satisfies ProducerConfig;

/** The kafkajs adapter. Its errors go out as kafkajs raised them: the relay's rules read their chain directly. */
export class KafkajsProducer implements MessageProducer {
  readonly client = 'kafkajs' as const;
  /** The underlying producer, for tests that stand in for the broker's refusals. */
  readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly compression?: CompressionPolicy,
  ) {
    registerKafkajsCodecs();
    this.producer = kafka.producer(KAFKAJS_PRODUCER_CONFIG);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async send(messages: readonly OutgoingMessage[]): Promise<(Landed | undefined)[]> {
    // Grouped by topic, in the order given: per key (one partition), Kafka receives them in that order.
    const byTopic = new Map<string, TopicMessages & { indexes: number[] }>();
    messages.forEach((m, i) => {
      let t = byTopic.get(m.topic);
      if (!t) byTopic.set(m.topic, (t = { topic: m.topic, messages: [], indexes: [] }));
      t.messages.push({ key: m.key, value: m.value, headers: m.headers });
      t.indexes.push(i);
    });
    const topicMessages = [...byTopic.values()];
    const acknowledged = await this.producer.sendBatch({
      topicMessages: topicMessages.map(({ topic, messages: m }) => ({ topic, messages: m })),
      acks: -1,
      compression: KAFKAJS_COMPRESSION[codecFor(this.compression, messages.length)],
    });
    return landings(topicMessages, acknowledged, messages.length);
  }
}

/**
 * Each message's partition and offset: Kafka acknowledges a base offset per partition, and a partition's messages
 * of one send follow it in the order they were given.
 */
function landings(
  sent: readonly (TopicMessages & { indexes: number[] })[],
  acknowledged: readonly RecordMetadata[],
  count: number,
): (Landed | undefined)[] {
  const out: (Landed | undefined)[] = new Array<Landed | undefined>(count).fill(undefined);
  for (const t of sent) {
    const next = new Map<number, bigint>();
    for (const ack of acknowledged) {
      if (ack.topicName === t.topic && ack.baseOffset !== undefined) next.set(ack.partition, BigInt(ack.baseOffset));
    }
    t.messages.forEach((message, i) => {
      const partition = partitionOf.get(message);
      const offset = partition === undefined ? undefined : next.get(partition);
      if (partition === undefined || offset === undefined) return;
      next.set(partition, offset + 1n);
      out[t.indexes[i]] = { partition, offset: offset.toString() };
    });
  }
  return out;
}
