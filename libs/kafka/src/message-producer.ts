/**
 * The one way the platform's publishers reach Kafka, so the client library behind it can be swapped and measured:
 * `kafkajs` (the long-standing one, no release since 2023) and `@platformatic/kafka` (maintained, pure TypeScript).
 * Both adapters keep the contract the relay's guarantees rest on:
 *  - idempotent, acks from every in-sync replica, one request in flight: a partition receives a send's messages in
 *    the order given, and a retried send neither reorders nor duplicates them;
 *  - the key picks the partition as the Java client does (murmur2), so switching clients keeps every subject on its
 *    partition;
 *  - topics are never created by a send (created with the broker's defaults, they would be wrong);
 *  - retries are bounded, so a send that cannot succeed comes back as an error the relay can act on.
 */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Where Kafka put a message. */
export interface Landed {
  partition: number;
  offset: string;
}

export const KAFKA_CLIENTS = ['platformatic', 'kafkajs'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

export interface MessageProducer {
  readonly client: KafkaClientName;
  connect(): Promise<void>;
  /**
   * Resolves once Kafka acknowledged every message, with where each landed (same index; undefined if the client did
   * not say). Rejects with an error whose chain carries `retriable`, and `type` for a broker's answer
   * (`UNKNOWN_TOPIC_OR_PARTITION`, `NOT_ENOUGH_REPLICAS`...), or the name `KafkaUnreachable` when no broker answered.
   */
  send(messages: readonly OutgoingMessage[]): Promise<(Landed | undefined)[]>;
  disconnect(): Promise<void>;
}

/** A send that failed, described the way the relay's rules read failures, whichever client it came from. */
export class KafkaSendError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly type: string | undefined,
    override readonly cause: unknown,
    name = 'KafkaSendError',
  ) {
    super(message);
    this.name = name;
  }
}
