import type { QueryRunner } from 'typeorm';
import { OutboxPlacement1764900000300, publicationOf } from '@event-spine/outbox';
import { TestSchema } from '@event-spine/testing';
import { migrateCommandSchema } from '../support/pipeline';

// Where events landed, recorded per run of offsets: the causality query's reading of it, and the migration from (and
// back to) one row per event keeping what was recorded.
describe('outbox placements', () => {
  let schema: TestSchema;
  const ids = ['0000000a-0000-4000-8000-000000000000', '0000000b-0000-4000-8000-000000000000'];
  const [a, b] = ids;
  const c = '0000000c-0000-4000-8000-000000000000';
  const db = { query: async <T>(sql: string, p?: unknown[]) => (await schema.pool.query(sql, p)).rows as T };
  const runner = () => ({ query: (sql: string) => schema.pool.query(sql) }) as unknown as QueryRunner;

  beforeEach(async () => {
    schema = await TestSchema.create('placement');
    await migrateCommandSchema(schema.name);
  });
  afterEach(() => schema.drop());

  it('gives each event its offset within its run, and the last run of an event sent again', async () => {
    await schema.pool.query(
      `INSERT INTO outbox_placement (topic, partition, first_offset, event_ids) VALUES
         ('t', 1, 40, ARRAY[$1, $2]::uuid[]), ('t', 0, 7, ARRAY[$3, $1]::uuid[])`,
      [a, b, c],
    );
    const found = await publicationOf(db, [a, b, c, '0000000d-0000-4000-8000-000000000000']);
    expect(Object.fromEntries(found)).toEqual({
      [a]: { published: true, topic: 't', partition: 0, offset: '8' },
      [b]: { published: true, topic: 't', partition: 1, offset: '41' },
      [c]: { published: true, topic: 't', partition: 0, offset: '7' },
      // No outbox row waits for it, and no placement is kept: published, place unknown (or never written).
      '0000000d-0000-4000-8000-000000000000': { published: true },
    });
  });

  it('keeps every recorded place through the migration down and up again', async () => {
    await schema.pool.query(
      `INSERT INTO outbox_placement (topic, partition, first_offset, event_ids, published_at) VALUES
         ('t', 1, 40, ARRAY[$1, $2]::uuid[], now() - interval '5 minutes'), ('t', 0, 7, ARRAY[$1]::uuid[], now())`,
      [a, b],
    );
    const before = Object.fromEntries(await publicationOf(db, ids));

    await new OutboxPlacement1764900000300().down(runner());
    const perEvent = await schema.pool.query<{ event_id: string; partition: number; kafka_offset: string }>(
      `SELECT event_id::text, partition, kafka_offset::text FROM outbox_published ORDER BY event_id`,
    );
    expect(perEvent.rows).toEqual([
      { event_id: a, partition: 0, kafka_offset: '7' },
      { event_id: b, partition: 1, kafka_offset: '41' },
    ]);

    await new OutboxPlacement1764900000300().up(runner());
    expect(Object.fromEntries(await publicationOf(db, ids))).toEqual(before);
    const aged = await schema.pool.query<{ old: boolean }>(
      `SELECT published_at < now() - interval '1 minute' AS old FROM outbox_placement ORDER BY first_offset`,
    );
    expect(aged.rows.map((r) => r.old)).toEqual([false, true]);
  });
});
