import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { signToken } from '@event-spine/auth';
import { ledgerCatalog } from '@ledger/contract';
import {
  ServiceProcess,
  TestSchema,
  testDatabaseUrl,
  testKafkaBrokers,
  uniqueName,
  type AppName,
} from '@event-spine/testing';

export const E2E_SECRET = 'e2e-secret-that-is-long-enough-0123456789';

/** One isolated deployment for a suite: its own schema(s), topic prefix and, optionally, its own broker. */
export class Pipeline {
  readonly topicPrefix = `${uniqueName('e2e')}.`;
  private readonly processes: ServiceProcess[] = [];

  private constructor(
    readonly commandSchema: TestSchema,
    readonly projectorSchema: TestSchema,
    readonly kafkaBrokers: string,
    readonly databaseUrl: string,
  ) {}

  static async create(kafkaBrokers = testKafkaBrokers().join(','), databaseUrl = testDatabaseUrl()): Promise<Pipeline> {
    return new Pipeline(
      await TestSchema.create('e2e', databaseUrl),
      await TestSchema.create('e2e_proj', databaseUrl),
      kafkaBrokers,
      databaseUrl,
    );
  }

  get topics(): string[] {
    return ledgerCatalog.topics(this.topicPrefix);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      DATABASE_SCHEMA: this.commandSchema.name,
      KAFKA_BROKERS: this.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      JWT_SECRET: E2E_SECRET,
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...extra,
    };
  }

  async start(app: AppName, extra: Record<string, string> = {}, ready = true): Promise<ServiceProcess> {
    // The projector owns its own database (here: its own schema); the relay shares the command service's.
    const own: Record<string, string> =
      app === 'projector' ? { DATABASE_SCHEMA: this.projectorSchema.name, PROJECTOR_SESSION_TIMEOUT_MS: '3000' } : {};
    const p = await ServiceProcess.start(app, this.env({ ...own, ...extra }));
    this.processes.push(p);
    if (ready) await p.waitReady();
    return p;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
    // Replays killed with the projector leave their shadow schemas; the projector's reaper would drop them.
    const shadows = await this.projectorSchema.pool
      .query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname IN (SELECT shadow_schema FROM replays)`,
      )
      .catch(() => ({ rows: [] as { nspname: string }[] }));
    for (const { nspname } of shadows.rows) await this.projectorSchema.pool.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await this.commandSchema.drop();
    await this.projectorSchema.drop();
  }
}

export const token = (tenantId = 'tenant-e2e') =>
  signToken({ actorId: 'e2e', actorType: 'user', tenantId, spaceId: 'space-1', roles: ['admin'] }, E2E_SECRET, '1h');

export async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  bearer: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Reads one sample of a Prometheus metric (summed over label sets). */
export async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** A Kafka broker of the suite's own (real, from scripts/infra) that it may stop and start. */
export class PrivateBroker {
  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static start(port: number): PrivateBroker {
    const root = resolve(__dirname, '../..');
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(port + 1),
      SPINE_LOCAL_DIR: resolve(root, `.local/broker-${port}`),
      // The downloaded broker is shared with the main launcher's cache.
      SPINE_KAFKA_LIBS: resolve(root, '.local/kafka/libs'),
    };
    const broker = new PrivateBroker(port, env);
    broker.up();
    return broker;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  up(): void {
    execFileSync('bash', [resolve(__dirname, '../../scripts/infra'), 'kafka-up'], { env: this.env, stdio: 'inherit' });
  }

  down(): void {
    execFileSync('bash', [resolve(__dirname, '../../scripts/infra'), 'down'], { env: this.env, stdio: 'inherit' });
  }

  /** Stops the broker and deletes its data: the next `up` is a new, empty cluster on the same port. */
  wipe(): void {
    this.down();
    rmSync(resolve(this.env.SPINE_LOCAL_DIR!, 'kafka/run/data'), { recursive: true, force: true });
  }
}

/** Applies the command service's migrations to a schema (the relay's database is the command service's). */
export async function migrateCommandSchema(schema: string): Promise<void> {
  const { DataSource } = await import('typeorm');
  const { dataSourceOptions, migrate } = await import('@event-spine/persistence');
  const { eventLogMigrations } = await import('@event-spine/event-log');
  const { outboxMigrations } = await import('@event-spine/outbox');
  const { commandsMigrations } = await import('@event-spine/commands');
  const dataSource = new DataSource(
    dataSourceOptions({
      url: testDatabaseUrl(),
      schema,
      poolSize: 2,
      applicationName: 'test-migrate',
      migrations: [...eventLogMigrations, ...outboxMigrations, ...commandsMigrations],
    }),
  );
  await dataSource.initialize();
  try {
    await migrate(dataSource, schema);
  } finally {
    await dataSource.destroy();
  }
}
