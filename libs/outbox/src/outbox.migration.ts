import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Subjects are spread over this many buckets; each bucket is published by one relay instance at a time. */
export const OUTBOX_BUCKETS = 64;

/** The bucket of a message key, as SQL: the outbox's generated column, and what the wake-up after a commit names. */
export const outboxBucketOf = (key: string) =>
  `((hashtext(${key}) % ${OUTBOX_BUCKETS}) + ${OUTBOX_BUCKETS}) % ${OUTBOX_BUCKETS}`;

/**
 * The transactional outbox: one ready-to-publish Kafka message per event, written in the command's transaction.
 *  - `tx_id` lets the relay read gap-safely: never past a transaction still in flight.
 *  - `bucket` is a hash of the message key: all events of a subject share a bucket, so the one relay instance that
 *    owns the bucket publishes them in order, while other instances publish other buckets.
 *  - `relay_cursor` holds, per bucket, the last published position (and the batch in flight, which after a crash
 *    tells how many messages are sent again); `relay_instances` is the relays' heartbeat, used to share buckets.
 */
export class Outbox1763800000100 implements MigrationInterface {
  name = 'Outbox1763800000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id(),
        event_id    uuid        NOT NULL,
        topic       text        NOT NULL,
        message_key text        NOT NULL,
        bucket      smallint    NOT NULL GENERATED ALWAYS AS (${outboxBucketOf('message_key')}) STORED,
        headers     jsonb       NOT NULL,
        value       text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX outbox_bucket_order ON outbox (bucket, tx_id, position)`);
    await q.query(`
      CREATE TABLE relay_cursor (
        bucket       smallint PRIMARY KEY,
        tx_id        xid8        NOT NULL DEFAULT '0',
        position     bigint      NOT NULL DEFAULT 0,
        inflight_tx  xid8,
        inflight_pos bigint,
        published    bigint      NOT NULL DEFAULT 0,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO relay_cursor (bucket) SELECT generate_series(0, ${OUTBOX_BUCKETS - 1})`);
    await q.query(`
      CREATE TABLE relay_instances (
        instance_id text PRIMARY KEY,
        last_seen   timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_instances`);
    await q.query(`DROP TABLE relay_cursor`);
    await q.query(`DROP TABLE outbox`);
  }
}

/** The outbox and the relay's bookkeeping, for the migrations of a service that writes commands. */
/**
 * Where each published event landed on Kafka (partition and offset), kept for a while after the outbox row is gone:
 * the causality query answers "is it published, and where" from here.
 */
export class OutboxPublished1764600000200 implements MigrationInterface {
  name = 'OutboxPublished1764600000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_published (
        event_id     uuid        PRIMARY KEY,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        kafka_offset bigint      NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_published_age ON outbox_published (published_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox_published`);
  }
}

export const outboxMigrations = [Outbox1763800000100, OutboxPublished1764600000200];
