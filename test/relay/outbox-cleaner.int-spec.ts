import { OutboxCleaner } from '@event-spine/relay';
import { TestSchema, waitFor } from '@event-spine/testing';
import { migrateCommandSchema } from '../support/pipeline';

// The cleanup against the real PostgreSQL: it deletes exactly the outbox rows every cursor has passed, and the
// placements past their retention, in DELETEs of a few rows each (so a round repeats them).
describe('outbox cleanup', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await TestSchema.create('clean');
    await migrateCommandSchema(schema.name);
  });
  afterAll(() => schema.drop());

  it('deletes the rows behind the cursors and old placements, and nothing else', async () => {
    const db = schema.pool;
    // Two transactions of 30 rows each over many buckets; every cursor stands after the 10th row of the second.
    for (const t of [0, 1])
      await db.query(
        `INSERT INTO outbox (event_id, topic, message_key, headers, value)
         SELECT gen_random_uuid(), 't', 'subject-' || g, '{}', 'v' FROM generate_series(${t * 30 + 1}, ${t * 30 + 30}) g`,
      );
    const { rows } = await db.query<{ tx_id: string; position: string }>(
      `SELECT o.tx_id::text, o.position::text FROM outbox o ORDER BY o.tx_id, o.position`,
    );
    const cursor = rows[39];
    await db.query(`UPDATE relay_cursor SET tx_id = $1, position = $2`, [cursor.tx_id, cursor.position]);
    const kept = rows.slice(40).map((r) => r.position);
    // Placements: 12 past a retention of an hour, 5 within it.
    await db.query(
      `INSERT INTO outbox_placement (topic, partition, first_offset, event_ids, published_at)
       SELECT 't', 0, g * 10, ARRAY[gen_random_uuid(), gen_random_uuid()], now() - CASE WHEN g <= 12 THEN interval '2 hours' ELSE interval '1 minute' END
         FROM generate_series(1, 17) g`,
    );

    const warnings: Record<string, unknown>[] = [];
    const cleaner = new OutboxCleaner({
      database: { connectionString: schema.url },
      schema: schema.name,
      intervalMs: 60_000,
      batch: 7,
      publishedRetentionMs: 3_600_000,
      warn: (entry) => warnings.push(entry),
    });
    cleaner.start();
    try {
      await waitFor(
        async () => (await db.query(`SELECT 1 FROM outbox_placement WHERE first_offset <= 120`)).rowCount === 0,
        { message: 'old placements deleted' },
      );
    } finally {
      await cleaner.stop();
    }
    expect(warnings).toEqual([]);
    const left = await db.query<{ position: string }>(
      `SELECT o.position::text FROM outbox o ORDER BY o.tx_id, o.position`,
    );
    expect(left.rows.map((r) => r.position)).toEqual(kept);
    const placements = await db.query<{ n: string }>(`SELECT first_offset::text AS n FROM outbox_placement ORDER BY 1`);
    expect(placements.rows.map((r) => Number(r.n)).sort((a, b) => a - b)).toEqual([130, 140, 150, 160, 170]);
  });
});
