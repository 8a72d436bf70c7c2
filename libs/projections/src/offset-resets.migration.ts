import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the projector saw of its source partitions, beside each position: offset resets (the stored position was
 * beyond the partition's end: a new cluster, a recreated topic, a restored database) and gaps in the source
 * (retention deleted offsets before they were read). An operator reads them in /admin/projections.
 */
export class ProjectorOffsetResets1763800003200 implements MigrationInterface {
  name = 'ProjectorOffsetResets1763800003200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE projector_offsets
        ADD COLUMN resets          integer NOT NULL DEFAULT 0,
        ADD COLUMN last_reset      jsonb,
        ADD COLUMN source_gaps     integer NOT NULL DEFAULT 0,
        ADD COLUMN last_source_gap jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE projector_offsets
        DROP COLUMN resets, DROP COLUMN last_reset, DROP COLUMN source_gaps, DROP COLUMN last_source_gap`);
  }
}
