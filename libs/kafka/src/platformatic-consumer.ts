import { Logger } from '@nestjs/common';
import {
  Consumer,
  IS_CONTROL,
  ListOffsetTimestamps,
  type fetchV17,
  type GroupAssignment,
  type RecordsBatch,
} from '@platformatic/kafka';
import {
  heartbeatFresh,
  type BatchContext,
  type ConsumerHandlers,
  type ConsumerSettings,
  type IncomingBatch,
  type IncomingMessage,
  type MessageConsumer,
} from './message-consumer';
import type { PlatformaticSettings } from './platformatic-producer';

type FetchRequestTopic = fetchV17.FetchRequestTopic;
type FetchResponse = fetchV17.FetchResponse;

const OFFSET_OUT_OF_RANGE = 1;
const PARTITION_MAX_BYTES = 1_048_576;
const FETCH_MAX_BYTES = 10 * 1_048_576;

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

interface Assigned {
  topic: string;
  partition: number;
}

/**
 * The `@platformatic/kafka` adapter. The library's group membership (join, sync, heartbeats, rejoin after a rebalance)
 * with a fetch loop of this adapter's own instead of the library's message stream: the stream keeps its own idea of
 * every partition's next offset across rebalances and buffers messages ahead, while the contract here is that a
 * partition newly given to this member starts where `startAt` says and resumes where `eachBatch` says. So the loop
 * holds the next offset of each assigned partition, per generation of the group: when a rebalance comes, what the
 * older generation was fetching or applying no longer moves any position, and every partition of the new assignment
 * starts again from `startAt`.
 */
export class PlatformaticConsumer implements MessageConsumer {
  readonly client = 'platformatic' as const;
  private readonly logger = new Logger('KafkaConsumer');
  private consumer: Consumer;
  private handlers?: ConsumerHandlers;
  private stopping = false;
  private generation = 0;
  /** When the current assignment came (a join counts as a heartbeat answered). */
  private joinedAt = 0;
  private assigned: Assigned[] = [];
  /** The next offset of each assigned partition whose start is known, for the current generation. */
  private positions = new Map<string, bigint>();
  private readonly loading = new Set<string>();
  /** Partitions of a topic seen with a new id, not started since. */
  private readonly recreated = new Set<string>();
  /** When a partition whose start could not be told is asked again. */
  private readonly retryStartAt = new Map<string, number>();
  private loop?: Promise<void>;
  private wake?: () => void;
  private joining?: Promise<void>;
  private inactiveSince?: number;
  private readonly newConsumer: () => Consumer;
  private readonly topicIds = new Map<string, string>();
  private readonly groupOptions: { sessionTimeout: number; heartbeatInterval: number; rebalanceTimeout: number };

  constructor(
    connection: PlatformaticSettings,
    private readonly settings: ConsumerSettings,
  ) {
    this.groupOptions = {
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(settings.sessionTimeoutMs / 10)),
      rebalanceTimeout: settings.sessionTimeoutMs,
    };
    this.newConsumer = () => {
      const consumer = new Consumer({
        clientId: connection.clientId,
        bootstrapBrokers: connection.brokers,
        groupId: settings.groupId,
        ...this.groupOptions,
        autocommit: false,
        autocreateTopics: false,
        retries: 3,
        retryDelay: 200,
        connectTimeout: 3000,
        timeout: 10_000,
      });
      for (const topic of settings.topics) consumer.topics.track(topic);
      consumer.on('consumer:group:join', ({ assignments }) => {
        if (consumer === this.consumer && this.handlers) this.assign(assignments ?? [], this.handlers);
      });
      // The group is rebalancing (a heartbeat said so, and the library rejoins): this member gives up every partition
      // now, before it rejoins and so before any other member can be given one, and the batches being applied are
      // told they are no longer current. The join gives the new assignment.
      consumer.on('consumer:group:rebalance', () => {
        if (consumer === this.consumer) this.revoke();
      });
      // A rejoin the library gave up on; the loop sees the member out of the group and joins again.
      consumer.on('error', (error: Error) =>
        this.logger.warn({ message: 'Kafka consumer group error', error: String(error) }),
      );
      return consumer;
    };
    this.consumer = this.newConsumer();
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    await this.consumer.joinGroup(this.groupOptions);
    this.loop = this.run(handlers);
  }

  private assign(assignments: readonly GroupAssignment[], handlers: ConsumerHandlers): void {
    this.generation++;
    this.joinedAt = Date.now();
    this.assigned = assignments.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
    this.positions = new Map();
    this.loading.clear();
    // A recreated partition still assigned stays marked: its stored position is still the old topic's.
    const still = new Set(this.assigned.map((a) => keyOf(a.topic, a.partition)));
    for (const key of this.recreated) if (!still.has(key)) this.recreated.delete(key);
    this.loadStarts(handlers);
    this.wake?.();
  }

  /** Asks where each assigned partition without a known start begins; a failed ask is asked again next round. */
  private loadStarts(handlers: ConsumerHandlers): void {
    const generation = this.generation;
    for (const { topic, partition } of this.assigned) {
      const key = keyOf(topic, partition);
      if (this.positions.has(key) || this.loading.has(key)) continue;
      if ((this.retryStartAt.get(key) ?? 0) > Date.now()) continue;
      this.loading.add(key);
      const reason = this.recreated.has(key) ? 'recreated' : 'assigned';
      handlers
        .startAt(topic, partition, reason)
        .then(
          (offset) => {
            // An answer for an older assignment, or one asked before the topic was found recreated, is asked again.
            if (generation !== this.generation || (reason === 'assigned' && this.recreated.has(key))) return;
            this.recreated.delete(key);
            this.retryStartAt.delete(key);
            // Offset 0 on a partition whose log starts later is answered "out of range", which reads from its start.
            this.positions.set(key, offset === undefined ? 0n : BigInt(offset));
            this.wake?.();
          },
          (error: unknown) => {
            this.retryStartAt.set(key, Date.now() + 1000);
            this.logger.warn({
              message: 'could not tell where to start a partition',
              topic,
              partition,
              error: String(error),
            });
          },
        )
        .finally(() => {
          if (generation === this.generation) this.loading.delete(key);
        });
    }
  }

  private async run(handlers: ConsumerHandlers): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        this.rejoinIfLeft();
        this.loadStarts(handlers);
        const fetched = await this.round(handlers);
        failures = 0;
        if (!fetched) await this.idle(200);
      } catch (error) {
        if (this.stopping) return;
        failures++;
        if (failures === 1 || failures % 20 === 0)
          this.logger.warn({ message: 'Kafka fetch failed; retrying', failures, error: String(error) });
        this.consumer.clearMetadata();
        // Short: a topic being recreated, or a broker back, should not wait long to be read again.
        await this.idle(Math.min(1000, 50 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  /**
   * The library rejoins by itself after a rebalance. A member out of the group for a session timeout (a rejoin the
   * library gave up on while the broker was away), or whose heartbeats have gone unanswered that long (the library
   * keeps sending them to a coordinator that moved, answered NOT_COORDINATOR), starts over with a new client: the
   * group has dropped it, and its partitions may be another member's by now.
   */
  private rejoinIfLeft(): void {
    const heartbeat = this.consumer.lastHeartbeat?.getTime();
    const member = this.consumer.isActive();
    if (member && (heartbeat === undefined || Date.now() - heartbeat < this.settings.sessionTimeoutMs)) {
      this.inactiveSince = undefined;
      return;
    }
    this.inactiveSince ??= Date.now();
    if (Date.now() - this.inactiveSince < this.settings.sessionTimeoutMs) return;
    this.inactiveSince = undefined;
    if (this.joining || this.stopping) return;
    this.logger.warn({ message: 'out of the consumer group; joining again with a new client' });
    const old = this.consumer;
    this.consumer = this.newConsumer();
    this.revoke();
    this.joining = closeConsumer(old)
      .then(() => this.consumer.joinGroup(this.groupOptions))
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ message: 'could not join the group yet', error: String(error) }))
      .finally(() => (this.joining = undefined));
  }

  /** No partition is this member's until the next assignment; what is fetched or applied meanwhile moves nothing. */
  private revoke(): void {
    this.generation++;
    this.assigned = [];
    this.positions = new Map();
    this.loading.clear();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One fetch from every leader of a partition with a known start, then its batches applied. False: nothing to fetch. */
  private async round(handlers: ConsumerHandlers): Promise<boolean> {
    const generation = this.generation;
    const ready = this.assigned.filter((a) => this.positions.has(keyOf(a.topic, a.partition)));
    if (ready.length === 0) return false;
    const metadata = await this.consumer.metadata({ topics: [...this.settings.topics] });
    if (this.recreatedTopics(metadata.topics)) return true;
    const byLeader = new Map<number, Map<string, FetchRequestTopic>>();
    const topicById = new Map<string, string>();
    const requested = new Map<string, bigint>();
    for (const { topic, partition } of ready) {
      const topicMeta = metadata.topics.get(topic);
      const leader = topicMeta?.partitions[partition]?.leader;
      if (topicMeta === undefined || leader === undefined || leader < 0) continue;
      topicById.set(topicMeta.id, topic);
      // A rebalance while the metadata was asked for has replaced the positions.
      const fetchOffset = this.positions.get(keyOf(topic, partition));
      if (fetchOffset === undefined) continue;
      requested.set(keyOf(topic, partition), fetchOffset);
      let topics = byLeader.get(leader);
      if (!topics) byLeader.set(leader, (topics = new Map<string, FetchRequestTopic>()));
      let request = topics.get(topic);
      if (!request) topics.set(topic, (request = { topicId: topicMeta.id, partitions: [] }));
      request.partitions.push({
        partition,
        fetchOffset,
        partitionMaxBytes: PARTITION_MAX_BYTES,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
    }
    if (byLeader.size === 0) {
      this.consumer.clearMetadata();
      return false;
    }
    // Settled: a leader that does not answer holds back its own partitions, not the others'.
    const settled = await Promise.allSettled(
      [...byLeader].map(([node, topics]) => this.fetchFrom(node, [...topics.values()])),
    );
    const responses = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.consumer.clearMetadata();
      if (responses.length === 0) throw failed.reason;
    }
    if (generation !== this.generation || this.stopping) return true;
    const { batches, skipTo, outOfRange, refused } = readResponses(responses, topicById, requested);
    for (const [key, offset] of skipTo) this.positions.set(key, offset);
    if (outOfRange.length > 0) await this.restartFromLogStart(generation, outOfRange);
    await this.apply(generation, batches, handlers);
    // Every partition refused (not authorised, unknown...): wait before asking again rather than spin.
    return refused < requested.size;
  }

  /**
   * A topic deleted and created again has a new id: its partitions are new ones, so they start again from `startAt`,
   * told so, instead of resuming at offsets of a partition that no longer exists. Every fetch is sent with the ids of
   * the metadata checked here, so no message of the new topic is read at an old position before then.
   */
  private recreatedTopics(topics: ReadonlyMap<string, { id: string }>): boolean {
    let recreated = false;
    for (const [topic, { id }] of topics) {
      const known = this.topicIds.get(topic);
      this.topicIds.set(topic, id);
      if (known === undefined || known === id) continue;
      recreated = true;
      for (const a of this.assigned) {
        if (a.topic !== topic) continue;
        this.positions.delete(keyOf(topic, a.partition));
        this.recreated.add(keyOf(topic, a.partition));
      }
      this.logger.warn({ message: 'topic recreated; its partitions start again', topic });
    }
    return recreated;
  }

  /** A fetch; partition errors come back in the response (a failed response carries it) rather than as a throw. */
  private async fetchFrom(node: number, topics: FetchRequestTopic[]): Promise<FetchResponse> {
    try {
      return await this.consumer.fetch({
        node,
        topics,
        maxWaitTime: this.settings.maxWaitMs,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
      });
    } catch (error) {
      const response = (error as { response?: FetchResponse }).response;
      if (response?.responses && response.errorCode === 0) {
        if (
          response.responses.some((t) =>
            t.partitions.some((p) => p.errorCode !== 0 && p.errorCode !== OFFSET_OUT_OF_RANGE),
          )
        )
          this.consumer.clearMetadata();
        return response;
      }
      throw error;
    }
  }

  /** A position below the log start (retention) or beyond the end (a new cluster): read from the log start. */
  private async restartFromLogStart(generation: number, partitions: Assigned[]): Promise<void> {
    const starts = await this.consumer.listOffsets({
      topics: [...new Set(partitions.map((p) => p.topic))],
      timestamp: ListOffsetTimestamps.EARLIEST,
    });
    if (generation !== this.generation) return;
    for (const { topic, partition } of partitions) {
      const start = starts.get(topic)?.[partition];
      if (start !== undefined) this.positions.set(keyOf(topic, partition), start);
    }
  }

  /** Each batch in turn per partition (one per partition here), up to `partitionsConcurrently` partitions at once. */
  private async apply(generation: number, batches: IncomingBatch[], handlers: ConsumerHandlers): Promise<void> {
    let next = 0;
    const context: BatchContext = {
      // The library heartbeats on its own timer; unanswered for a session timeout, the member may be out of the group.
      isCurrent: () =>
        !this.stopping &&
        generation === this.generation &&
        heartbeatFresh(
          Math.max(this.consumer.lastHeartbeat?.getTime() ?? 0, this.joinedAt),
          this.settings.sessionTimeoutMs,
        ),
      heartbeat: async () => undefined, // the library heartbeats on its own timer
    };
    const worker = async () => {
      for (let i = next++; i < batches.length; i = next++) {
        const batch = batches[i];
        const resumeAt = await handlers.eachBatch(batch, context);
        if (generation === this.generation) this.positions.set(keyOf(batch.topic, batch.partition), BigInt(resumeAt));
      }
    };
    // Settled, so a failed batch does not let the next round fetch a partition whose batch is still being applied.
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(this.settings.partitionsConcurrently, batches.length) }, worker),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async commit(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commit({
      offsets: offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: BigInt(o.offset),
        leaderEpoch: -1,
      })),
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop?.catch(() => undefined);
    await this.joining;
    await closeConsumer(this.consumer);
  }
}

/**
 * What a round's fetch responses hold: the batches to apply, per partition; where a partition with only control
 * records (or records before the offset asked for) moves on to; the partitions out of range; and how many partitions
 * the broker refused.
 */
function readResponses(
  responses: readonly FetchResponse[],
  topicById: ReadonlyMap<string, string>,
  requested: ReadonlyMap<string, bigint>,
): { batches: IncomingBatch[]; skipTo: Map<string, bigint>; outOfRange: Assigned[]; refused: number } {
  const batches: IncomingBatch[] = [];
  const skipTo = new Map<string, bigint>();
  const outOfRange: Assigned[] = [];
  let refused = 0;
  for (const topicResponse of responses.flatMap((r) => r.responses)) {
    const topic = topicById.get(topicResponse.topicId);
    if (topic === undefined) continue;
    for (const p of topicResponse.partitions) {
      const key = keyOf(topic, p.partitionIndex);
      const from = requested.get(key);
      if (from === undefined) continue;
      if (p.errorCode === OFFSET_OUT_OF_RANGE) outOfRange.push({ topic, partition: p.partitionIndex });
      else if (p.errorCode !== 0) refused++;
      if (p.errorCode !== 0 || !p.records?.length) continue;
      const messages: IncomingMessage[] = [];
      let last = from - 1n;
      for (const batch of p.records) {
        last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (!(batch.attributes & IS_CONTROL)) pushRecords(batch, from, messages);
      }
      if (messages.length > 0)
        batches.push({ topic, partition: p.partitionIndex, messages, highWatermark: p.highWatermark.toString() });
      else if (last >= from) skipTo.set(key, last + 1n);
    }
  }
  return { batches, skipTo, outOfRange, refused };
}

/**
 * A record batch's messages from offset `from` on (a compressed batch is returned whole, from before the offset asked
 * for), as text. Offsets are counted in numbers while they are exact (every offset a broker hands out in practice),
 * which costs a fraction of BigInt arithmetic per message.
 */
function pushRecords(batch: RecordsBatch, from: bigint, out: IncomingMessage[]): void {
  const exact = batch.firstOffset + BigInt(batch.lastOffsetDelta) <= BigInt(Number.MAX_SAFE_INTEGER);
  const base = Number(batch.firstOffset);
  const fromNumber = Number(from);
  for (const record of batch.records) {
    const offset = exact ? base + record.offsetDelta : batch.firstOffset + BigInt(record.offsetDelta);
    if (exact ? (offset as number) < fromNumber : (offset as bigint) < from) continue;
    out.push(
      new FetchedMessage(
        String(offset),
        record.key === null ? null : record.key.toString(),
        record.value === null ? null : record.value.toString(),
        record.headers,
      ),
    );
  }
}

/**
 * A fetched message whose headers are decoded when first read. An envelope carries ten or so headers, and the
 * projector reads one of them (`traceparent`), only while tracing; decoding every name and value of every message
 * was two dozen strings made per message for nothing.
 */
class FetchedMessage implements IncomingMessage {
  #raw: readonly (readonly [Buffer | null, Buffer | null])[] | undefined;
  #headers: Record<string, string> | undefined;

  constructor(
    readonly offset: string,
    readonly key: string | null,
    readonly value: string | null,
    raw: readonly (readonly [Buffer | null, Buffer | null])[],
  ) {
    this.#raw = raw;
  }

  get headers(): Record<string, string> {
    if (this.#headers === undefined) {
      const headers: Record<string, string> = {};
      for (const [name, value] of this.#raw ?? []) {
        if (name !== null && value !== null) headers[name.toString()] = value.toString();
      }
      this.#headers = headers;
      this.#raw = undefined;
    }
    return this.#headers;
  }
}

/**
 * Leaves the group (handing its partitions to the others now rather than after the session timeout) and closes the
 * connections. When the coordinator cannot be reached the library fails the close and keeps its connections open; the
 * group drops the member after the session timeout anyway, so the connections are closed without leaving, or they
 * would keep the process alive.
 */
async function closeConsumer(consumer: Consumer): Promise<void> {
  try {
    await consumer.close();
  } catch {
    const base = Object.getPrototypeOf(Consumer.prototype) as { close(this: Consumer): Promise<void> };
    await base.close.call(consumer).catch(() => undefined);
  }
}
