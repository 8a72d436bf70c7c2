import type { Admin, Kafka, Producer, TopicMessages } from 'kafkajs';
import { createMessageConsumer, KAFKAJS_PRODUCER_CONFIG, type KafkaClientName } from '@event-spine/kafka';
import type { OutboxMessage } from '@event-spine/outbox';
import { kafka, kafkaBrokers, RUN_ID } from './deployment';

/** kafkajs configured as the relay's kafkajs adapter (one bare send at a time for B_send, the rebuild's fill). */
export function relayLikeProducer(kafka: Kafka): Producer {
  return kafka.producer(KAFKAJS_PRODUCER_CONFIG);
}

/** Grouped by topic in the given order, as the relay sends a batch. */
export function toTopicMessages(messages: readonly OutboxMessage[], topicOf = (m: OutboxMessage) => m.topic) {
  const byTopic = new Map<string, TopicMessages>();
  for (const m of messages) {
    const topic = topicOf(m);
    let t = byTopic.get(topic);
    if (!t) byTopic.set(topic, (t = { topic, messages: [] }));
    t.messages.push({ key: m.key, value: m.value, headers: m.headers });
  }
  return [...byTopic.values()];
}

/** Sum of the high watermarks of every partition of the topics: how many messages they hold. */
export async function topicEnds(admin: Admin, topics: readonly string[]): Promise<Map<string, string>> {
  const ends = new Map<string, string>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, p.high);
  }
  return ends;
}

export interface ConsumeTiming {
  client: KafkaClientName;
  consumed: number;
  /** performance.now() when the first partition was assigned (fetching starts) and of the last batch. */
  joinedAt: number;
  lastAt: number;
  /** CPU of the consuming process (this one) from the join to the last batch. */
  cpuMs: number;
}

/**
 * The raw consumer baseline: the projector's consumer port and settings (maxWaitMs 50, the projector's partitions
 * at once), a handler that does nothing, reading the topics from their start until `expected` messages have arrived.
 * Through the port, so what each client costs to hand over messages as text is in it, as it is in the projector.
 */
export async function consumeAll(
  client: KafkaClientName,
  topics: readonly string[],
  expected: number,
  timeoutMs: number,
): Promise<ConsumeTiming> {
  const consumer = createMessageConsumer(
    client,
    kafka(),
    { brokers: kafkaBrokers(), clientId: `${RUN_ID}-raw-consumer-${client}` },
    {
      groupId: `${RUN_ID}-raw-consumer-${client}-${Math.random().toString(36).slice(2, 8)}`,
      topics,
      sessionTimeoutMs: 10_000,
      maxWaitMs: 50,
      partitionsConcurrently: 3,
    },
  );
  const timing: ConsumeTiming = { client, consumed: 0, joinedAt: NaN, lastAt: NaN, cpuMs: NaN };
  let cpuAtJoin = process.cpuUsage();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    await consumer.start({
      startAt: async () => {
        // Timed from the first assignment, not from the first batch: the first fetch is part of consuming.
        if (Number.isNaN(timing.joinedAt)) {
          timing.joinedAt = performance.now();
          cpuAtJoin = process.cpuUsage();
        }
        return undefined;
      },
      eachBatch: async (batch) => {
        timing.consumed += batch.messages.length;
        timing.lastAt = performance.now();
        if (timing.consumed >= expected) {
          const used = process.cpuUsage(cpuAtJoin);
          timing.cpuMs = (used.user + used.system) / 1000;
          done();
        }
        return (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n).toString();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer); // a pending timer would keep the process alive after the run
    return timing;
  } finally {
    await consumer.stop();
  }
}
