import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The projector's bookkeeping, committed in the same transaction as the read models:
 *  - projector_offsets: the next Kafka offset per (consumer, topic, partition), plus per-partition counters;
 *  - projector_subjects: the last applied sequence per subject, and whether the subject is parked;
 *  - parked_events: events waiting behind a gap or a poison event, in order, with the reason;
 *  - admin_audit_log: every admin action, append-only.
 */
export class ProjectorCore1763800001000 implements MigrationInterface {
  name = 'ProjectorCore1763800001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projector_offsets (
        consumer    text    NOT NULL,
        topic       text    NOT NULL,
        partition   integer NOT NULL,
        next_offset bigint  NOT NULL,
        applied     bigint  NOT NULL DEFAULT 0,
        duplicates  bigint  NOT NULL DEFAULT 0,
        parked      bigint  NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, partition)
      )`);
    await q.query(`
      CREATE TABLE projector_subjects (
        tenant_id     text    NOT NULL,
        subject_type  text    NOT NULL,
        subject_id    text    NOT NULL,
        last_sequence integer NOT NULL,
        parked_reason text,
        parked_at     timestamptz,
        PRIMARY KEY (tenant_id, subject_type, subject_id)
      )`);
    await q.query(
      `CREATE INDEX projector_subjects_parked ON projector_subjects (parked_at) WHERE parked_at IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE parked_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id    text    NOT NULL,
        subject_type text    NOT NULL,
        subject_id   text    NOT NULL,
        sequence     integer,
        event_id     text,
        reason       text    NOT NULL,
        topic        text    NOT NULL,
        partition    integer NOT NULL,
        kafka_offset bigint  NOT NULL,
        value        text    NOT NULL,
        parked_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX parked_events_subject ON parked_events (tenant_id, subject_type, subject_id, id)`);
    await q.query(`
      CREATE TABLE admin_audit_log (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT now(),
        actor_id    text NOT NULL,
        tenant_id   text NOT NULL,
        action      text NOT NULL,
        target      jsonb NOT NULL,
        outcome     text NOT NULL,
        details     jsonb
      )`);
    await q.query(`
      CREATE FUNCTION admin_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'admin_audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation'; END $$`);
    await q.query(`
      CREATE TRIGGER admin_audit_log_append_only BEFORE UPDATE OR DELETE ON admin_audit_log
        FOR EACH ROW EXECUTE FUNCTION admin_audit_log_is_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE admin_audit_log`);
    await q.query(`DROP FUNCTION admin_audit_log_is_append_only()`);
    await q.query(`DROP TABLE parked_events`);
    await q.query(`DROP TABLE projector_subjects`);
    await q.query(`DROP TABLE projector_offsets`);
  }
}
