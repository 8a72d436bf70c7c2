import type { Admin, Kafka, Producer, TopicMessages } from 'kafkajs';
import { KAFKAJS_PRODUCER_CONFIG } from '@event-spine/kafka';
import type { OutboxMessage } from '@event-spine/outbox';
import { RUN_ID } from './deployment';

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
  consumed: number;
  /** performance.now() when the group was joined (partitions assigned: fetching starts) and of the last batch. */
  joinedAt: number;
  lastAt: number;
}

/**
 * The raw consumer baseline: kafkajs with the projector's consumer settings (eachBatch, maxWaitTimeInMs 50), a handler
 * that does nothing, reading the topics from the beginning until `expected` messages have arrived.
 */
export async function consumeAll(
  kafka: Kafka,
  topics: readonly string[],
  expected: number,
  timeoutMs: number,
): Promise<ConsumeTiming> {
  const consumer = kafka.consumer({
    groupId: `${RUN_ID}-raw-consumer-${Math.random().toString(36).slice(2, 8)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  const timing: ConsumeTiming = { consumed: 0, joinedAt: NaN, lastAt: NaN };
  // Timed from the join, not from the first batch: the first fetch is part of consuming.
  consumer.on(consumer.events.GROUP_JOIN, () => (timing.joinedAt = performance.now()));
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        timing.consumed += batch.messages.length;
        timing.lastAt = performance.now();
        if (timing.consumed >= expected) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer); // a pending timer would keep the process alive after the run

    return timing;
  } finally {
    await consumer.disconnect();
  }
}
