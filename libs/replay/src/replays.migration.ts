import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replays and their progress. A row per request, kept after it ends (the preview a rebuild names as its sign-off is
 * looked up here). At most one replay runs per tenant and projection.
 */
export class Replays1763800003000 implements MigrationInterface {
  name = 'Replays1763800003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE replays (
        id               uuid PRIMARY KEY,
        projection       text   NOT NULL,
        mode             text   NOT NULL CHECK (mode IN ('preview', 'rebuild')),
        source           text   NOT NULL CHECK (source IN ('kafka', 'event-log')),
        request          jsonb  NOT NULL,
        request_key      text   NOT NULL,
        tenant_id        text   NOT NULL,
        actor_id         text   NOT NULL,
        state            text   NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'cancelled')),
        phase            text   NOT NULL,
        shadow_schema    text   NOT NULL,
        processed        bigint NOT NULL DEFAULT 0,
        total            bigint NOT NULL DEFAULT 0,
        applied          bigint NOT NULL DEFAULT 0,
        cancel_requested boolean NOT NULL DEFAULT false,
        diff             jsonb,
        outcome          jsonb,
        error            text,
        requested_at     timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        finished_at      timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX replays_one_running ON replays (tenant_id, projection) WHERE state = 'running'`);
    await q.query(`CREATE INDEX replays_tenant ON replays (tenant_id, requested_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replays`);
  }
}
