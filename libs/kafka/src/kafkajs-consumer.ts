import { Logger } from '@nestjs/common';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { registerKafkajsCodecs } from './compression';
import {
  heartbeatFresh,
  type ConsumerHandlers,
  type ConsumerSettings,
  type IncomingMessage,
  type MessageConsumer,
} from './message-consumer';

/** kafkajs's special offset for a partition's log start. */
const EARLIEST = '-2';

/**
 * The `kafkajs` adapter: the library's own consumer loop (`eachBatch`), with every assigned partition sought to where
 * `startAt` says when the group is joined.
 */
export class KafkajsConsumer implements MessageConsumer {
  readonly client = 'kafkajs' as const;
  private readonly logger = new Logger('KafkaConsumer');
  private consumer?: Consumer;
  private stopping = false;
  /**
   * Counts the group's rebalances as this member sees them: from when it starts rejoining, before any other member can
   * be given its partitions (kafkajs rejoins from its fetch loop, which need not wait for the batches being applied,
   * and its `isStale` is about seeks, not assignments).
   */
  private generation = 0;
  /** When the group coordinator last answered a heartbeat (or a join) of this member. */
  private lastHeartbeat = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ConsumerSettings,
  ) {
    // Batches a platformatic producer compressed with lz4 or snappy are read too.
    registerKafkajsCodecs();
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const { groupId, topics, sessionTimeoutMs, maxWaitMs, partitionsConcurrently } = this.settings;
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 10)),
      maxWaitTimeInMs: maxWaitMs,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts by itself except after errors it deems final (a broker gone for longer than its retries):
      // then a fresh consumer, again and again until it works, rather than one sitting idle.
      if (payload.restart || this.stopping) return;
      this.logger.error({ message: 'Kafka consumer stopped; starting a new one', error: String(payload.error) });
      void this.restart(handlers);
    });
    consumer.on(consumer.events.REBALANCING, () => this.generation++);
    consumer.on(consumer.events.HEARTBEAT, () => (this.lastHeartbeat = Date.now()));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.generation++;
      this.lastHeartbeat = Date.now();
      void this.seekAssigned(consumer, handlers, payload.memberAssignment);
    });
    await consumer.connect();
    // A stop while a restart was connecting: this consumer must not run on.
    if (this.stopping) return consumer.disconnect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: partitionsConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const generation = this.generation;
        // kafkajs heartbeats only between batches, or when a batch asks: a batch that ran past the session timeout
        // without one may have had its member dropped from the group, and its partitions given to another.
        const isCurrent = () =>
          payload.isRunning() &&
          !payload.isStale() &&
          generation === this.generation &&
          heartbeatFresh(this.lastHeartbeat, sessionTimeoutMs);
        const next = await handlers.eachBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages.map((m): IncomingMessage => ({
              offset: m.offset,
              key: m.key?.toString() ?? null,
              value: m.value?.toString() ?? null,
              headers: textHeaders(m.headers),
            })),
            highWatermark: batch.highWatermark,
          },
          { isCurrent, heartbeat: () => payload.heartbeat() },
        );
        if (BigInt(next) === BigInt(batch.lastOffset()) + 1n) payload.resolveOffset(batch.lastOffset());
        else if (isCurrent()) consumer.seek({ topic: batch.topic, partition: batch.partition, offset: next });
        await payload.heartbeat();
      },
    });
  }

  private async restart(handlers: ConsumerHandlers): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      await this.consumer?.disconnect().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
      if (this.stopping) return;
      try {
        await this.start(handlers);
        return;
      } catch (error) {
        this.logger.warn({ message: 'Kafka consumer could not start yet', attempt, error: String(error) });
      }
    }
  }

  private async seekAssigned(
    consumer: Consumer,
    handlers: ConsumerHandlers,
    assignment: Record<string, number[]>,
  ): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        let offset: string | undefined;
        for (let attempt = 1; ; attempt++) {
          try {
            offset = await handlers.startAt(topic, partition, 'assigned');
            break;
          } catch (error) {
            if (attempt === 1)
              this.logger.warn({
                message: 'could not tell where to start a partition; asking again',
                topic,
                partition,
                error: String(error),
              });
            if (this.consumer !== consumer || this.stopping) return;
            await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt)));
          }
        }
        // A restart may have replaced the consumer meanwhile, and seeking one that is not running throws.
        if (this.consumer !== consumer || this.stopping) return;
        consumer.seek({ topic, partition, offset: offset ?? EARLIEST });
      }
    }
  }

  async commit(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void> {
    if (offsets.length > 0) await this.consumer?.commitOffsets([...offsets]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
  }
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
