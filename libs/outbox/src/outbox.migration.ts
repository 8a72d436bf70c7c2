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

/**
 * Placements per run instead of per event: one row for the events the relay sent to one partition at consecutive
 * offsets, the i-th event (from 1) at `first_offset + i - 1`. A row per event was about a quarter of the relay's work
 * while draining a backlog (a heap row, an index entry and their WAL each, inserted and later deleted). The causality
 * query finds an event through the GIN index on `event_ids`. Rows kept so far become runs of one.
 */
export class OutboxPlacement1764900000300 implements MigrationInterface {
  name = 'OutboxPlacement1764900000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_placement (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        first_offset bigint      NOT NULL,
        event_ids    uuid[]      NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_placement_events ON outbox_placement USING gin (event_ids)`);
    await q.query(`CREATE INDEX outbox_placement_age ON outbox_placement (published_at)`);
    await q.query(`
      INSERT INTO outbox_placement (topic, partition, first_offset, event_ids, published_at)
      SELECT topic, partition, kafka_offset, ARRAY[event_id], published_at FROM outbox_published ORDER BY published_at`);
    await q.query(`DROP TABLE outbox_published`);
  }

  async down(q: QueryRunner): Promise<void> {
    await new OutboxPublished1764600000200().up(q);
    // The latest placement of an event wins, as the causality query reads them.
    await q.query(`
      INSERT INTO outbox_published (event_id, topic, partition, kafka_offset, published_at)
      SELECT DISTINCT ON (e.id) e.id, p.topic, p.partition, p.first_offset + e.i - 1, p.published_at
        FROM outbox_placement p CROSS JOIN LATERAL unnest(p.event_ids) WITH ORDINALITY AS e(id, i)
       ORDER BY e.id, p.id DESC, e.i DESC`);
    await q.query(`DROP TABLE outbox_placement`);
  }
}

/**
 * The relay's logical-replication mode, per replication slot: the snapshot taken right after the slot was made (rows
 * of transactions visible in it were there before the stream begins: the hand-off publishes them from the table),
 * whether that hand-off is done, and the polling cursors' published count then (a polling relay that ran since would
 * have published what the slot still holds: the slot is made again).
 */
export class RelayLogical1764900000400 implements MigrationInterface {
  name = 'RelayLogical1764900000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE relay_logical (
        slot        text        PRIMARY KEY,
        handoff     pg_snapshot NOT NULL,
        handed_off  boolean     NOT NULL DEFAULT false,
        cursor_mark bigint      NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relay_logical`);
  }
}

/** The outbox and the relay's bookkeeping, for the migrations of a service that writes commands. */
export const outboxMigrations = [
  Outbox1763800000100,
  OutboxPublished1764600000200,
  OutboxPlacement1764900000300,
  RelayLogical1764900000400,
];
