import {
  kafkaHeaders,
  partitionKey,
  serializeEnvelope,
  type EventCatalog,
  type EventEnvelope,
  type Publication,
} from '@event-spine/events';
import { OUTBOX_BUCKETS, outboxBucketOf } from './outbox.migration';

export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export interface OutboxMessage {
  eventId: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

/** The Kafka message an event becomes: its catalog's topic, the key, headers and the envelope as JSON. */
export function toOutboxMessage(
  envelope: EventEnvelope,
  catalog: EventCatalog,
  topicPrefix = '',
  /** W3C trace headers of the command that recorded it; they travel with the row to Kafka. */
  trace: Record<string, string> = {},
): OutboxMessage {
  return {
    eventId: envelope.id,
    topic: catalog.topicFor(envelope.subjectType, topicPrefix),
    key: partitionKey(envelope),
    headers: { ...kafkaHeaders(envelope), ...trace },
    value: serializeEnvelope(envelope),
  };
}

/** Enqueues messages in the caller's transaction, in one statement, in the given order. */
export async function enqueueOutbox(db: Queryable, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const { text, values } = enqueueOutboxStatement(messages);
  await db.query(text, values);
}

/** The statement `enqueueOutbox` sends, for an engine that sends it with others in one round trip. */
export function enqueueOutboxStatement(messages: readonly OutboxMessage[]): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO outbox (event_id, topic, message_key, headers, value)
     SELECT e, t, k, h, v
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[]) WITH ORDINALITY AS m(e, t, k, h, v, n)
      ORDER BY n`,
    values: [
      messages.map((m) => m.eventId),
      messages.map((m) => m.topic),
      messages.map((m) => m.key),
      messages.map((m) => JSON.stringify(m.headers)),
      messages.map((m) => m.value),
    ],
  };
}

/** The channel the command service notifies after a commit that wrote outbox rows; the relay listens on it. */
export const outboxChannel = (schema: string) => `spine_outbox:${schema}`;

/**
 * Wakes the relay after commits without a NOTIFY inside every command transaction (NOTIFY takes a global lock at
 * commit and would serialise all writers). Commits that end in the same turn of the event loop share one NOTIFY,
 * sent after they committed, on its own; at most one is in flight.
 *
 * The NOTIFY names the buckets of the rows committed (computed by PostgreSQL from their message keys, with the
 * outbox's own bucket expression), so the relay reads those buckets instead of probing all of them for every commit.
 * A commit whose keys are not given wakes it for every bucket (an empty payload).
 */
export class OutboxSignal {
  private scheduled = false;
  private sending = false;
  private again = false;
  /** Message keys committed since the last NOTIFY; `undefined` once a commit came without its keys. */
  private keys: Set<string> | undefined = new Set();

  constructor(
    private readonly db: Queryable,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  committed(messageKeys?: readonly string[]): void {
    if (!messageKeys) this.keys = undefined;
    else if (this.keys) for (const key of messageKeys) this.keys.add(key);
    this.schedule();
  }

  private schedule(): void {
    if (this.sending) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.send());
  }

  private async send(): Promise<void> {
    this.scheduled = false;
    this.sending = true;
    const keys = this.keys;
    this.keys = new Set();
    try {
      await this.db.query(
        `SELECT pg_notify($1, coalesce((SELECT string_agg(DISTINCT (${outboxBucketOf('k')})::text, ',')
                                          FROM unnest($2::text[]) AS k), ''))`,
        // A NOTIFY's payload holds at most 8,000 bytes; the buckets of any number of keys fit (64 of them at most).
        [this.channel, keys ? [...keys] : []],
      );
    } catch (error) {
      // Only a wake-up: the relay polls anyway, so a lost signal costs latency, never events.
      this.onError(error);
    } finally {
      this.sending = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }
}

/**
 * The buckets a NOTIFY payload names: `undefined` for every bucket (an empty payload: a writer that did not say, or
 * an older one).
 */
export function notifiedBuckets(payload: string | undefined): number[] | undefined {
  if (!payload) return undefined;
  const buckets = payload.split(',').map(Number);
  return buckets.every((b) => Number.isInteger(b) && b >= 0 && b < OUTBOX_BUCKETS) ? buckets : undefined;
}

/**
 * The publication of each event: pending while its outbox row is past its bucket's cursor; published once the relay
 * moved past it (the row may be gone since), with its partition and offset while the relay's record is kept.
 */
export async function publicationOf(db: Queryable, eventIds: readonly string[]): Promise<Map<string, Publication>> {
  const rows = await db.query<
    { id: string; pending: boolean; topic: string | null; partition: number | null; kafka_offset: string | null }[]
  >(
    `SELECT x.id::text AS id, p.topic, p.partition, p.kafka_offset::text AS kafka_offset,
            EXISTS (SELECT 1 FROM outbox o JOIN relay_cursor c ON c.bucket = o.bucket
                     WHERE o.event_id = x.id AND (o.tx_id, o.position) > (c.tx_id, c.position)) AS pending
       FROM unnest($1::uuid[]) AS x(id)
       -- An event sent again after a crash has a placement per send: the last one is given.
       LEFT JOIN LATERAL (
         SELECT p.topic, p.partition,
                p.first_offset + (SELECT max(e.i) FROM unnest(p.event_ids) WITH ORDINALITY AS e(id, i)
                                   WHERE e.id = x.id) - 1 AS kafka_offset
           FROM outbox_placement p
          WHERE p.event_ids @> ARRAY[x.id]
          ORDER BY p.id DESC
          LIMIT 1) p ON true`,
    [eventIds],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      r.pending || r.topic === null
        ? { published: !r.pending }
        : { published: true, topic: r.topic, partition: r.partition!, offset: r.kafka_offset! },
    ]),
  );
}
