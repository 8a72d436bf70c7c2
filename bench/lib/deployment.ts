import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { registerKafkajsCodecs } from '@event-spine/kafka';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { signToken } from '@event-spine/auth';
import { commandsMigrations } from '@event-spine/commands';
import { eventLogMigrations } from '@event-spine/event-log';
import { ledgerCatalog } from '@ledger/contract';
import { outboxMigrations } from '@event-spine/outbox';
import { dataSourceOptions, migrate } from '@event-spine/persistence';
import { ProjectorCore1763800001000 } from '@event-spine/projections';
import { ServiceProcess, uniqueName, type AppName } from '@event-spine/testing';
import { readModelMigrations } from '../../apps/projector/src/projections/read-models.migration';
import { benchConfig } from './config';

export interface ProfiledRun {
  deployment: string;
  app: AppName;
  file: string;
  readyAt: number[];
  stoppedAt: number;
}

/** Everything one `npm run bench` creates carries this id: schemas, topic prefixes, consumer groups. */
export const RUN_ID = uniqueName('bench');

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the benchmark with `npm run bench`');
  return url;
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the benchmark with `npm run bench`');
  return brokers.split(',');
}

export function kafka(clientId = `${RUN_ID}-client`): Kafka {
  // With BENCH_RELAY_COMPRESSION=lz4 or snappy, the bench's kafkajs consumers read them with the platform's codecs.
  registerKafkajsCodecs();
  return new Kafka({ clientId, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

async function adminQuery(sql: string, url = databaseUrl()): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string, url = databaseUrl()): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, url);
}

/**
 * The database beside `url`'s (same server) that projectors use, made if missing: `npm run up` runs the projector
 * in a database of its own, and the relay's gap guard passes over other databases' transactions, so a bench that put
 * both schemas in one database would hold the relay back behind the projector's batches as no deployment does.
 */
async function projectorDatabase(url: string): Promise<string> {
  const target = new URL(url);
  const name = `${decodeURIComponent(target.pathname.slice(1)) || 'postgres'}_projector`;
  target.pathname = `/${encodeURIComponent(name)}`;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount)
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        // Another run made it meanwhile.
        if (error.code !== '42P04') throw error;
      });
  } finally {
    await client.end();
  }
  return target.toString();
}

/** A pool whose connections resolve unqualified names in `schema` (of DATABASE_URL's database unless `url` is given). */
export function schemaPool(schema: string, max = 4, url = databaseUrl()): Pool {
  return new Pool({
    connectionString: url,
    options: `-c search_path=${schema}`,
    max,
    application_name: `${RUN_ID}-bench`,
  });
}

/**
 * One isolated deployment of the system for a scenario: its own command and projector schemas (in two databases, as
 * `npm run up` deploys them), its own topic prefix,
 * the services as real OS processes (as in production), started and stopped as the scenario needs them. Nothing of
 * the development system or of concurrently running test suites is visible to it, nor it to them.
 */
export class Deployment {
  readonly topicPrefix: string;
  readonly commandSchema: string;
  readonly projectorSchema: string;
  readonly projectorGroup = 'spine-projector';
  private readonly running = new Map<AppName, ServiceProcess>();
  private readonly profiling = new Map<AppName, ProfiledRun>();
  private static readonly all: Deployment[] = [];
  /** CPU profiles written by services of this run (BENCH_CPU_PROF=1). */
  static readonly profiles: ProfiledRun[] = [];

  private constructor(
    readonly name: string,
    /** The database of its command schema: DATABASE_URL unless the scenario brings its own. */
    readonly databaseUrl: string,
    /** The database of its projector schema, on the same server. */
    readonly projectorDatabaseUrl: string,
  ) {
    this.topicPrefix = `${RUN_ID}.${name}.`;
    this.commandSchema = `${RUN_ID}_${name}_cmd`;
    this.projectorSchema = `${RUN_ID}_${name}_proj`;
  }

  /** `options.databaseUrl`: another PostgreSQL server than DATABASE_URL's (e.g. a private cluster of the scenario). */
  static async create(name: string, options: { databaseUrl?: string } = {}): Promise<Deployment> {
    const url = options.databaseUrl ?? databaseUrl();
    const d = new Deployment(name, url, await projectorDatabase(url));
    Deployment.all.push(d);
    await adminQuery(`CREATE SCHEMA "${d.commandSchema}"`, d.databaseUrl);
    await adminQuery(`CREATE SCHEMA "${d.projectorSchema}"`, d.projectorDatabaseUrl);
    return d;
  }

  /** A pool on the projector's schema, in its database. */
  projectorPool(max = 1): Pool {
    return schemaPool(this.projectorSchema, max, this.projectorDatabaseUrl);
  }

  get topics(): string[] {
    return ledgerCatalog.topics(this.topicPrefix);
  }

  /** The consumer group id (and projector_offsets.consumer) the projector uses. */
  get projectorConsumer(): string {
    return `${this.topicPrefix}${this.projectorGroup}`;
  }

  private env(app: AppName, extra: Record<string, string>): Record<string, string> {
    return {
      DATABASE_URL: app === 'projector' ? this.projectorDatabaseUrl : this.databaseUrl,
      DATABASE_SCHEMA: app === 'projector' ? this.projectorSchema : this.commandSchema,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_TOPIC_PARTITIONS: String(benchConfig.partitions),
      JWT_SECRET: benchConfig.jwtSecret,
      // Per-request info logs would measure the log pipe, not the system; warnings and errors still show.
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '10000',
      // As `npm run up` runs it: the projector opens sealed personal fields with the command schema's keys table.
      ...(app === 'projector'
        ? {
            PROJECTOR_GROUP_ID: this.projectorGroup,
            PERSONAL_DATA_KEYS_DATABASE_URL: this.databaseUrl,
            PERSONAL_DATA_KEYS_DATABASE_SCHEMA: this.commandSchema,
          }
        : {}),
      ...(app === 'outbox-relay' ? { RELAY_KAFKA_COMPRESSION: benchConfig.relayCompression } : {}),
      ...extra,
    };
  }

  async start(app: AppName, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    if (this.running.has(app)) throw new Error(`${app} already runs in deployment ${this.name}`);
    const profile = benchConfig.cpuProfile ? this.profileEnv(app) : {};
    const p = await ServiceProcess.start(app, this.env(app, { ...profile, ...extra }));
    this.running.set(app, p);
    try {
      await p.waitReady(90_000);
    } catch (error) {
      await this.stop(app, 'SIGKILL');
      throw error;
    }
    this.profiling.get(app)?.readyAt.push(performance.now());
    return p;
  }

  /** Preloads the profiler into the service (see cpu-profiler.ts); the profile is written when it exits. */
  private profileEnv(app: AppName): Record<string, string> {
    const dir = resolve(benchConfig.outDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    const n = Deployment.profiles.filter((p) => p.deployment === this.name && p.app === app).length;
    const run: ProfiledRun = {
      deployment: this.name,
      app,
      file: resolve(dir, `${this.name}-${app}${n ? `-${n}` : ''}.cpuprofile`),
      readyAt: [],
      stoppedAt: NaN,
    };
    Deployment.profiles.push(run);
    this.profiling.set(app, run);
    return {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} -r @swc-node/register -r ${resolve(__dirname, 'cpu-profiler.ts')}`,
      BENCH_CPU_PROF_FILE: run.file,
    };
  }

  service(app: AppName): ServiceProcess {
    const p = this.running.get(app);
    if (!p) throw new Error(`${app} is not running in deployment ${this.name}`);
    return p;
  }

  async stop(app: AppName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.running.get(app);
    this.running.delete(app);
    const profiled = this.profiling.get(app);
    if (profiled) profiled.stoppedAt = performance.now();
    this.profiling.delete(app);
    await p?.stop(signal);
  }

  /** Applies the command service's migrations (all of them, as it would) without starting it (the relay's database is the command service's). */
  async migrateCommandSchema(): Promise<void> {
    await runMigrations(
      this.commandSchema,
      [...eventLogMigrations, ...outboxMigrations, ...commandsMigrations],
      this.databaseUrl,
    );
  }

  /** Applies the projector's core and read-model migrations; the projector applies any newer ones itself. */
  async migrateProjectorSchema(): Promise<void> {
    await runMigrations(
      this.projectorSchema,
      [ProjectorCore1763800001000, ...readModelMigrations],
      this.projectorDatabaseUrl,
    );
  }

  /** An empty projector schema again (the projector migrates it when it starts): a second run from nothing. */
  async resetProjectorSchema(): Promise<void> {
    if (this.running.has('projector')) throw new Error('stop the projector before resetting its schema');
    await adminQuery(
      `DROP SCHEMA IF EXISTS "${this.projectorSchema}" CASCADE; CREATE SCHEMA "${this.projectorSchema}"`,
      this.projectorDatabaseUrl,
    );
  }

  async createTopics(admin: Admin, topics = this.topics): Promise<void> {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: benchConfig.partitions, replicationFactor: -1 })),
      waitForLeaders: true,
    });
  }

  async destroy(): Promise<void> {
    // SIGTERM, not SIGKILL: a projector ends its replays and drops their shadow schemas (outside this deployment's
    // schemas) as it shuts down, and a profiled service writes its profile. The services stop in about a second.
    await Promise.all([...this.running.keys()].map((app) => this.stop(app, 'SIGTERM')));
    await adminQuery(`DROP SCHEMA IF EXISTS "${this.commandSchema}" CASCADE`, this.databaseUrl);
    await adminQuery(`DROP SCHEMA IF EXISTS "${this.projectorSchema}" CASCADE`, this.projectorDatabaseUrl);
  }

  /** Stops every service of every deployment and drops their schemas; then deletes the run's topics and groups. */
  static async destroyAll(): Promise<void> {
    for (const d of Deployment.all.splice(0)) await d.destroy().catch(() => undefined);
    const admin = kafka(`${RUN_ID}-cleanup`).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${RUN_ID}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(RUN_ID));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own migration list type
async function runMigrations(schema: string, migrations: Function[], url = databaseUrl()): Promise<void> {
  const dataSource = new DataSource(
    dataSourceOptions({ url, schema, poolSize: 2, applicationName: `${RUN_ID}-migrate`, migrations }),
  );
  await dataSource.initialize();
  try {
    await migrate(dataSource, schema);
  } finally {
    await dataSource.destroy();
  }
}

/** A bearer token for the bench tenant (admin, so the same token drives the admin API). */
export function benchToken(): Promise<string> {
  return signToken(
    { actorId: 'bench-user', actorType: 'user', tenantId: benchConfig.tenantId, spaceId: 'space-1', roles: ['admin'] },
    benchConfig.jwtSecret,
    '2h',
  );
}
