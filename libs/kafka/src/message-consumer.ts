import type { KafkaClientName } from './message-producer';

/**
 * The one way the platform's consumers (the projector, a replay's shadow feed) read Kafka, so the client library behind
 * it can be swapped and measured like the producer's. Positions are the caller's: they live in PostgreSQL, committed
 * with the read models. So the contract is about where reading starts and resumes, not about Kafka's committed
 * offsets:
 *  - a consumer group shares the partitions of the topics among its members, and every partition a member is given is
 *    read from where `startAt` says (Kafka's committed offset is not used; a position below the partition's log start
 *    or beyond its end reads from its log start, as a fresh group would);
 *  - one partition's batches reach `eachBatch` one at a time, in offset order; batches of different partitions may run
 *    at the same time, up to `partitionsConcurrently`;
 *  - the offset `eachBatch` returns is where that partition's next read starts (the message after the batch, or an
 *    earlier one to read it again);
 *  - `commit` stores offsets in Kafka for tools that look at the group's lag; nothing here reads them back.
 */
export interface IncomingMessage {
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  /** Never empty. */
  messages: IncomingMessage[];
  /** The partition's end when the batch was fetched (the offset the next message will get). */
  highWatermark: string;
}

export interface BatchContext {
  /** False once the partition was taken from this member (a rebalance) or the consumer is stopping. */
  isCurrent(): boolean;
  /** Tells the group this member is alive, during a long batch. */
  heartbeat(): Promise<void>;
}

/**
 * Why a partition starts: given to this member by the group, or found to belong to a topic that was deleted and
 * created again (a new topic id), whose offsets are not the ones any position was stored for. Only an adapter that
 * sees topic ids tells the second (`platformatic`); the other leaves the caller to find it from the partition's bounds.
 */
export type StartReason = 'assigned' | 'recreated';

export interface ConsumerHandlers {
  /** Where reading a partition starts; undefined for its log start. A rejection is asked again shortly. */
  startAt(topic: string, partition: number, reason: StartReason): Promise<string | undefined>;
  /** Applies a batch; returns the offset the partition's next read starts at. */
  eachBatch(batch: IncomingBatch, context: BatchContext): Promise<string>;
}

export interface ConsumerSettings {
  groupId: string;
  topics: readonly string[];
  sessionTimeoutMs: number;
  /** How long a read waits on the broker for a first message. */
  maxWaitMs: number;
  partitionsConcurrently: number;
}

export interface MessageConsumer {
  readonly client: KafkaClientName;
  /**
   * Joins the group and keeps consuming until `stop`, through broker outages and rebalances (the adapter reconnects
   * and rejoins by itself). Resolves once the first join was asked for; rejects if the consumer could not even start.
   */
  start(handlers: ConsumerHandlers): Promise<void>;
  commit(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** Leaves the group once the batches being applied are done. */
  stop(): Promise<void>;
}

/** The `traceparent` header of a message, for the span that applies it. */
export function traceCarrier(message: IncomingMessage): { traceparent?: string } | undefined {
  const traceparent = message.headers.traceparent;
  return traceparent === undefined ? undefined : { traceparent };
}

/**
 * Whether the group coordinator can still count a member in: its last answered heartbeat (or join) is younger than the
 * session timeout, less a tenth for the time the heartbeat took to reach the coordinator and come back. Past that, its
 * partitions may be another member's, and a batch it is applying is no longer current.
 */
export function heartbeatFresh(lastAnswered: number, sessionTimeoutMs: number, now = Date.now()): boolean {
  return now - lastAnswered < sessionTimeoutMs * 0.9;
}
