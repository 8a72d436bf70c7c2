import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * projector_fences: a replay about to swap in a rebuilt read model asks the live projection to stop at these
 * positions for a moment, so that both stand at exactly the same place. A fence expires by itself: a replay that
 * dies cannot stop the live projection for longer than that.
 */
export class ProjectorFences1763800003100 implements MigrationInterface {
  name = 'ProjectorFences1763800003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projector_fences (
        replay_id    uuid        NOT NULL,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        fence_offset bigint      NOT NULL,
        expires_at   timestamptz NOT NULL,
        PRIMARY KEY (replay_id, topic, partition)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE projector_fences`);
  }
}
