import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Current state of every subject (a snapshot of the fold of its events, with the sequence it reflects) and the
 * stored first responses of idempotent requests.
 */
export class CommandState1763800000200 implements MigrationInterface {
  name = 'CommandState1763800000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE subject_state (
        tenant_id    text        NOT NULL,
        subject_type text        NOT NULL,
        subject_id   text        NOT NULL,
        sequence     integer     NOT NULL CHECK (sequence >= 1),
        state        jsonb       NOT NULL,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, subject_type, subject_id)
      )`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id    text        NOT NULL,
        key          text        NOT NULL,
        action_id    text        NOT NULL,
        request_hash text        NOT NULL,
        status_code  integer     NOT NULL,
        body         json        NOT NULL, -- json, not jsonb: the stored first response is replayed byte for byte
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE subject_state`);
  }
}

/**
 * `spine_expect_rows`: fails the statement that calls it with serialization_failure (40001) when a guarded write wrote
 * fewer rows than expected. The executor sends its writes with COMMIT in one round trip, so a guard that missed must
 * abort the transaction inside PostgreSQL: nothing after the failed statement runs, and the command is retried.
 */
export class CommandGuards1765600000000 implements MigrationInterface {
  name = 'CommandGuards1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION spine_expect_rows(written bigint, expected bigint, what text) RETURNS bigint
      LANGUAGE plpgsql AS $$
      BEGIN
        IF written <> expected THEN
          RAISE EXCEPTION '% of % rows of % written: another transaction moved them first', written, expected, what
            USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN written;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION spine_expect_rows(bigint, bigint, text)`);
  }
}

/** The tables of this library, for the migrations of a service that runs commands. */
export const commandsMigrations = [CommandState1763800000200, CommandGuards1765600000000];
