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

/**
 * Tamper evidence (see audit/chain.ts): each event's `hash` chains it to its subject's previous event, and
 * `subject_state.head_hash` keeps the head so the executor chains a new event without another query. Rows written
 * before this migration (or by an older release during a rolling deploy) keep `hash` NULL: nothing is rewritten in
 * the append-only log; verification computes their hashes, and accepts a NULL hash only in a prefix of a subject's
 * chain (the first hashed event after it covers it). The executor always writes one. `audit_checkpoints` keeps the
 * signed checkpoints, append-only too. `subject_state` belongs to the commands library: its column is added only
 * where that table exists (this migration's timestamp orders it after the table's creation).
 */
export class EventLogHashChain1765000000000 implements MigrationInterface {
  name = 'EventLogHashChain1765000000000';

  async up(q: QueryRunner): Promise<void> {
    // NOT VALID: checked for every new row without scanning the log under the table lock (old rows are all NULL).
    await q.query(`ALTER TABLE event_log ADD COLUMN hash bytea`);
    await q.query(`
      ALTER TABLE event_log ADD CONSTRAINT event_log_hash_length
        CHECK (hash IS NULL OR octet_length(hash) = 32) NOT VALID`);
    await q.query(`
      ALTER TABLE IF EXISTS subject_state ADD COLUMN IF NOT EXISTS head_hash bytea
        CONSTRAINT subject_state_head_hash_length CHECK (head_hash IS NULL OR octet_length(head_hash) = 32)`);
    await q.query(`
      CREATE TABLE audit_checkpoints (
        id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id   text        NOT NULL,
        created_at  timestamptz NOT NULL,
        root        bytea       NOT NULL CHECK (octet_length(root) = 32),
        heads       jsonb       NOT NULL,
        signature   bytea       NOT NULL,
        public_key  text        NOT NULL,
        key_id      text        NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_checkpoints_tenant ON audit_checkpoints (tenant_id, id)`);
    await q.query(`
      CREATE FUNCTION audit_checkpoints_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_checkpoints is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
        FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_are_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_are_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_checkpoints`);
    await q.query(`DROP FUNCTION audit_checkpoints_are_append_only()`);
    await q.query(`ALTER TABLE IF EXISTS subject_state DROP COLUMN IF EXISTS head_hash`);
    await q.query(`ALTER TABLE event_log DROP COLUMN hash`);
  }
}

/**
 * Crypto-shredding (see personal-data/): `data_subject_keys` holds each data subject's key outside the log, so
 * destroying it (key set to NULL, the row kept as the record that the data subject is forgotten) erases their sealed
 * fields everywhere. `event_log.data_subject_id` names whose personal data an event holds, so forgetting finds the
 * subjects whose state must be folded again.
 */
export class PersonalData1765200000000 implements MigrationInterface {
  name = 'PersonalData1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_subject_keys (
        tenant_id       text        NOT NULL,
        data_subject_id text        NOT NULL,
        key             bytea       CHECK (key IS NULL OR octet_length(key) = 32),
        created_at      timestamptz NOT NULL DEFAULT now(),
        forgotten_at    timestamptz,
        forgotten_by    text,
        PRIMARY KEY (tenant_id, data_subject_id),
        CONSTRAINT data_subject_keys_forgotten CHECK ((key IS NULL) = (forgotten_at IS NOT NULL))
      )`);
    await q.query(`ALTER TABLE event_log ADD COLUMN data_subject_id text`);
    await q.query(`
      CREATE INDEX event_log_data_subject ON event_log (tenant_id, data_subject_id)
        WHERE data_subject_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX event_log_data_subject`);
    await q.query(`ALTER TABLE event_log DROP COLUMN data_subject_id`);
    await q.query(`DROP TABLE data_subject_keys`);
  }
}

export const eventLogMigrations = [
  EventLog1763800000000,
  EventLogCausality1764600000100,
  EventLogHashChain1765000000000,
  PersonalData1765200000000,
];
