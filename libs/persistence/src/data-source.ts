import type { Pool } from 'pg';
import type { DataSource, DataSourceOptions, EntitySchema, MixedList } from 'typeorm';

export interface DatabaseSettings {
  url: string;
  schema: string;
  poolSize: number;
  applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own MixedList type
  entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    entities: settings.entities ?? [],
    migrations: settings.migrations ?? [],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    // Schema changes are migrations, always: never let the ORM guess them from entities.
    synchronize: false,
    migrationsRun: false,
    // Failed queries surface as errors to the caller and are logged there once, as JSON.
    logging: false,
    extra: {
      max: settings.poolSize,
      application_name: settings.applicationName,
      // Every connection resolves unqualified names in the service's schema (one schema per test suite), and its
      // transactions are READ COMMITTED whatever the server's default, which the command executor relies on: set
      // here once per connection instead of a SET TRANSACTION round trip per command.
      options: `-c search_path=${settings.schema} -c default_transaction_isolation=read\\ committed`,
      // A stuck transaction holds back the outbox visibility horizon; never let one idle forever.
      idle_in_transaction_session_timeout: 60000,
    },
  };
}

/**
 * Applies pending migrations. An advisory lock per schema serialises concurrent starters (two replicas of a
 * service booting at once), so a migration is never applied twice.
 */
export async function migrate(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`spine:migrations:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner
      .query(`SELECT pg_advisory_unlock(hashtext($1))`, [`spine:migrations:${schema}`])
      .catch(() => undefined);
    await runner.release();
  }
}

/** The pg pool under a TypeORM data source: engines that count round trips talk to it directly. */
export function poolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('poolOf: the data source is not an initialised PostgreSQL one');
  return pool;
}
