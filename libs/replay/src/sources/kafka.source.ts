import type { Kafka } from 'kafkajs';
import type { BatchContext, IncomingBatch, MessageConsumer } from '@event-spine/kafka';
import type { Pool } from 'pg';
import type { ProjectionRunner } from '@event-spine/projections';
import type { ReplayFrom } from '../replay.request';

export type Positions = Map<string, bigint>;

export const positionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Feeds a shadow from Kafka with a consumer group of its own. It never reads past the cap (the live projection's
 * positions): a shadow that is about to be swapped in must end exactly where the live projection stands, or the live
 * consumer would apply an event twice or skip one after the swap. Positions are stored in the shadow's own
 * projector_offsets, committed with the shadow rows by the same runner as live consumption.
 */
export class KafkaShadowFeed {
  private cap: Positions = new Map();
  private started = false;
  scanned = 0;
  applied = 0;

  constructor(
    private readonly consumer: MessageConsumer,
    private readonly runner: ProjectionRunner,
    private readonly shadowPool: Pool,
    private readonly batchSize: number,
  ) {}

  setCap(cap: Positions): void {
    this.cap = cap;
  }

  /** Stores where each partition starts, then consumes from there. */
  async start(startAt: Positions): Promise<void> {
    for (const [key, offset] of startAt) {
      const [topic, partition] = key.split('\u0000');
      await this.shadowPool.query(
        `INSERT INTO projector_offsets (consumer, topic, partition, next_offset) VALUES ('replay', $1, $2, $3)
         ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`,
        [topic, Number(partition), offset.toString()],
      );
    }
    this.started = true;
    await this.consumer.start({
      // Where the shadow stands, durably: after a rebalance of the replay's group, what it applied is not read again.
      startAt: async (topic, partition) => (await this.positions()).get(positionKey(topic, partition))?.toString(),
      eachBatch: (batch, context) => this.apply(batch, context),
    });
  }

  private async apply(batch: IncomingBatch, context: BatchContext): Promise<string> {
    const cap = this.cap.get(positionKey(batch.topic, batch.partition)) ?? 0n;
    const below = batch.messages.filter((m) => BigInt(m.offset) < cap);
    let next = batch.messages[0].offset;
    for (let i = 0; i < below.length && context.isCurrent(); i += this.batchSize) {
      const chunk = below.slice(i, i + this.batchSize);
      const outcome = await this.runner.process(
        batch.topic,
        batch.partition,
        chunk,
        // The same rule as live consumption: a stored position beyond the partition's end is an offset reset.
        batch.highWatermark,
      );
      this.scanned += chunk.length;
      this.applied += outcome.applied;
      next = (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
      await context.heartbeat();
    }
    const firstBeyond = batch.messages.find((m) => BigInt(m.offset) >= cap);
    if (firstBeyond && context.isCurrent() && next === firstBeyond.offset) {
      // Not yet: come back to this offset once the live projection has moved past it.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return next;
  }

  /** The shadow's next offset per partition (what it has applied, durably). */
  async positions(): Promise<Positions> {
    const { rows } = await this.shadowPool.query<{ topic: string; partition: number; next_offset: string }>(
      `SELECT topic, partition, next_offset FROM projector_offsets WHERE consumer = 'replay'`,
    );
    return new Map(rows.map((r) => [positionKey(r.topic, r.partition), BigInt(r.next_offset)]));
  }

  async stop(): Promise<void> {
    if (this.started) await this.consumer.stop().catch(() => undefined);
    this.started = false;
  }
}

/** Where a Kafka replay starts on every partition of the topics. Partitions not named by `offsets` start earliest. */
export async function startPositions(kafka: Kafka, topics: readonly string[], from: ReplayFrom): Promise<Positions> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const start: Positions = new Map();
    for (const topic of topics) {
      const partitions =
        'timestamp' in from
          ? await admin.fetchTopicOffsetsByTimestamp(topic, Date.parse(from.timestamp))
          : (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low }));
      for (const p of partitions) start.set(positionKey(topic, p.partition), BigInt(p.offset));
    }
    if ('offsets' in from) {
      for (const o of from.offsets) start.set(positionKey(o.topic, o.partition), BigInt(o.offset));
    }
    return start;
  } finally {
    await admin.disconnect();
  }
}

/** The end offsets (high watermarks) of every partition: how far a scan may have to go. */
export async function endPositions(kafka: Kafka, topics: readonly string[]): Promise<Positions> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const end: Positions = new Map();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) end.set(positionKey(topic, p.partition), BigInt(p.high));
    }
    return end;
  } finally {
    await admin.disconnect();
  }
}
