import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox: one ready-to-publish Kafka message per event, written in the command's transaction.
 * `tx_id` lets the relay read gap-safely (never past a transaction still in flight); `key_hash` lets several relay
 * instances split subjects into buckets while each subject stays with one instance.
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
        key_hash    integer     NOT NULL GENERATED ALWAYS AS (hashtext(message_key)) STORED,
        headers     jsonb       NOT NULL,
        value       text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX outbox_tx_order ON outbox (tx_id, position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
  }
}
