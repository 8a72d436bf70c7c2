import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The canonical event log. Append-only by construction: triggers refuse UPDATE, DELETE and TRUNCATE for every role
 * the application uses. `tx_id` (the writing transaction's id) orders reads gap-safely: a reader never moves past
 * a transaction that is still in flight (see readFeed in event-log.ts).
 */
export class EventLog1763800000000 implements MigrationInterface {
  name = 'EventLog1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_log (
        global_position      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tx_id                xid8        NOT NULL DEFAULT pg_current_xact_id(),
        id                   uuid        NOT NULL UNIQUE,
        tenant_id            text        NOT NULL,
        space_id             text        NOT NULL,
        event_type           text        NOT NULL,
        event_schema_version integer     NOT NULL CHECK (event_schema_version >= 1),
        subject_type         text        NOT NULL,
        subject_id           text        NOT NULL,
        actor_id             text        NOT NULL,
        actor_type           text        NOT NULL,
        action_invocation_id uuid        NOT NULL,
        payload              jsonb       NOT NULL,
        sequence             integer     NOT NULL CHECK (sequence >= 1),
        occurred_at          timestamptz NOT NULL,
        recorded_at          timestamptz NOT NULL,
        correlation_id       text        NOT NULL,
        causation_id         text,
        CONSTRAINT event_log_subject_sequence UNIQUE (tenant_id, subject_type, subject_id, sequence)
      )`);
    await q.query(`CREATE INDEX event_log_tenant_feed ON event_log (tenant_id, tx_id, global_position)`);
    await q.query(`CREATE INDEX event_log_tenant_recorded ON event_log (tenant_id, recorded_at)`);
    await q.query(`
      CREATE FUNCTION event_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'event_log is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'restrict_violation',
                HINT = 'correct mistakes with a compensating event';
      END $$`);
    await q.query(`
      CREATE TRIGGER event_log_no_update_delete BEFORE UPDATE OR DELETE ON event_log
        FOR EACH ROW EXECUTE FUNCTION event_log_is_append_only()`);
    await q.query(`
      CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON event_log
        FOR EACH STATEMENT EXECUTE FUNCTION event_log_is_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_log`);
    await q.query(`DROP FUNCTION event_log_is_append_only()`);
  }
}

/** The event log's table, for the migrations of every service that writes or serves it. */
/** The causality query's lookups: the events of one command invocation, or of one conversation (correlation). */
export class EventLogCausality1764600000100 implements MigrationInterface {
  name = 'EventLogCausality1764600000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX event_log_invocation ON event_log (tenant_id, action_invocation_id)`);
    await q.query(`CREATE INDEX event_log_correlation ON event_log (tenant_id, correlation_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX event_log_correlation`);
    await q.query(`DROP INDEX event_log_invocation`);
  }
}

export const eventLogMigrations = [EventLog1763800000000, EventLogCausality1764600000100];
