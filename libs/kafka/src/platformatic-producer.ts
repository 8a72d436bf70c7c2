import { Producer, stringSerializers } from '@platformatic/kafka';
import { codecFor, type CompressionPolicy } from './compression';
import { partitionOf } from './murmur2';
import { KafkaSendError, type Landed, type MessageProducer, type OutgoingMessage } from './message-producer';

export interface PlatformaticSettings {
  brokers: string[];
  clientId: string;
  compression?: CompressionPolicy;
}

interface PlatformaticErrorLike {
  code?: string;
  apiId?: string;
  canRetry?: boolean;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
}

/** Every error in the tree the client raises (aggregates and causes). */
function tree(error: unknown): PlatformaticErrorLike[] {
  const out: PlatformaticErrorLike[] = [];
  const visit = (e: unknown) => {
    if (!e || typeof e !== 'object' || out.length > 32 || out.includes(e)) return;
    const err = e as PlatformaticErrorLike;
    out.push(err);
    for (const inner of err.errors ?? []) visit(inner);
    visit(err.cause);
  };
  visit(error);
  return out;
}

/**
 * The client's errors in the shape the relay's rules read: no broker answering is `KafkaUnreachable`; a broker's
 * answer keeps its protocol name as `type`; a topic the broker does not know is `UNKNOWN_TOPIC_OR_PARTITION` (the
 * client says it in a message of its own when it finds out from metadata).
 */
export function describeSendFailure(error: unknown): KafkaSendError {
  const all = tree(error);
  const message = String((error as PlatformaticErrorLike)?.message ?? error);
  if (all.some((e) => /^Unknown topic/i.test(String(e.message ?? ''))))
    return new KafkaSendError(message, false, 'UNKNOWN_TOPIC_OR_PARTITION', error);
  const answer = all.find((e) => typeof e.apiId === 'string');
  if (answer) return new KafkaSendError(message, answer.canRetry ?? true, answer.apiId, error);
  if (all.some((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT'))
    return new KafkaSendError(message, true, undefined, error, 'KafkaUnreachable');
  const retriable = all.find((e) => typeof e.canRetry === 'boolean')?.canRetry ?? true;
  return new KafkaSendError(message, retriable, undefined, error);
}

/**
 * A string serializer that keeps the bytes of short strings it has seen (at most `limit` of them, forgotten all at once
 * when full). Header names, and short header values (event types, versions, tenants, small sequence numbers) come back
 * message after message; the client encodes every header of every message, and making a small buffer per string was a
 * quarter of the producer's CPU (bench/README.md). Identifiers are longer than `maxLength` and are not kept. The
 * buffers are shared between messages: the client copies them into its request and never writes to them.
 *
 * Typed structurally rather than as the client's `Serializer`: this file's declarations are public, and naming the
 * client's type would make every consumer of the package type-check the client's own declarations (which need
 * `@types/debug`).
 */
export function repeatingStringSerializer(limit: number, maxLength: number): (text?: string) => Buffer | undefined {
  const known = new Map<string, Buffer>();
  return (text) => {
    if (typeof text !== 'string') return undefined;
    if (text.length > maxLength) return Buffer.from(text, 'utf-8');
    let bytes = known.get(text);
    if (bytes === undefined) {
      if (known.size >= limit) known.clear();
      bytes = Buffer.from(text, 'utf-8');
      known.set(text, bytes);
    }
    return bytes;
  };
}

/**
 * The `@platformatic/kafka` adapter. Partitions are chosen here, as the Java client does (positive murmur2 of the key
 * modulo the partition count, from the client's cached metadata), so each message's offset follows from the base
 * offset Kafka acknowledges per partition.
 */
export class PlatformaticProducer implements MessageProducer {
  readonly client = 'platformatic' as const;
  private readonly producer: Producer<string, string, string, string>;
  private readonly compression?: CompressionPolicy;

  constructor(settings: PlatformaticSettings) {
    this.compression = settings.compression;
    this.producer = new Producer({
      clientId: settings.clientId,
      bootstrapBrokers: settings.brokers,
      serializers: {
        ...stringSerializers,
        headerKey: repeatingStringSerializer(256, 64),
        headerValue: repeatingStringSerializer(4096, 24),
      },
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      retries: 5,
      retryDelay: 200,
      connectTimeout: 3000,
      timeout: 10_000,
    });
  }

  async connect(): Promise<void> {
    // Connections open on the first send; nothing to wait for.
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }

  async send(messages: readonly OutgoingMessage[]): Promise<(Landed | undefined)[]> {
    try {
      const topics = [...new Set(messages.map((m) => m.topic))];
      const metadata = await this.producer.metadata({ topics });
      const partitions = messages.map((m) => {
        const count = metadata.topics.get(m.topic)?.partitionsCount;
        if (!count)
          throw new KafkaSendError(`Unknown topic ${m.topic}.`, false, 'UNKNOWN_TOPIC_OR_PARTITION', undefined);
        return partitionOf(m.key, count);
      });
      const result = await this.producer.send({
        compression: codecFor(this.compression, messages.length),
        messages: messages.map((m, i) => ({
          topic: m.topic,
          key: m.key,
          value: m.value,
          headers: new Map(Object.entries(m.headers)),
          partition: partitions[i],
        })),
      });
      const next = new Map<string, bigint>();
      for (const o of result.offsets ?? []) next.set(`${o.partition}:${o.topic}`, BigInt(o.offset));
      return messages.map((m, i) => {
        const at = `${partitions[i]}:${m.topic}`;
        const offset = next.get(at);
        if (offset === undefined) return undefined;
        next.set(at, offset + 1n);
        return { partition: partitions[i], offset: offset.toString() };
      });
    } catch (error) {
      throw error instanceof KafkaSendError ? error : describeSendFailure(error);
    }
  }
}
