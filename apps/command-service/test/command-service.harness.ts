import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { signToken, type Principal } from '@event-spine/auth';
import { loadConfig } from '@event-spine/config';
import { createHttpApp } from '@event-spine/http';
import { ledgerCatalog } from '@ledger/contract';
import {
  freePort,
  TestSchema,
  testDatabaseUrl,
  testKafka,
  testKafkaBrokers,
  uniqueName,
  waitFor,
} from '@event-spine/testing';
import { grpcOptions } from '../src/grpc.options';
import { commandServiceConfig } from '../src/command-service.config';
import { CommandServiceModule } from '../src/command-service.module';

export const JWT_SECRET = 'integration-secret-0123456789-abcdefghijkl';

export interface Response<T = Record<string, unknown>> {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
}

/** The command service in this process, on its own schema and topic prefix, driven through Fastify's inject. */
export class CommandServiceHarness {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly schema: TestSchema,
    readonly topicPrefix: string,
    readonly grpcAddress: string,
  ) {}

  static async start(): Promise<CommandServiceHarness> {
    const schema = await TestSchema.create('cmd');
    const topicPrefix = `${uniqueName('cmd')}.`;
    const grpcPort = await freePort();
    const config = loadConfig(commandServiceConfig, {
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: schema.name,
      DATABASE_POOL_SIZE: '10',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      KAFKA_TOPIC_PARTITIONS: '2',
      JWT_SECRET,
      // Failure-injection suites make the service log errors on purpose; TEST_LOG_LEVEL=info shows them.
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
    });
    const app = await createHttpApp(CommandServiceModule.forRoot(config), {
      bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
      openApi: {
        title: 'test',
        description: 'test',
        version: '1',
        bearerAuth: true,
        servers: [{ url: 'http://127.0.0.1' }],
      },
      configure: (a) => a.connectMicroservice(grpcOptions('127.0.0.1', grpcPort)),
    });
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
    return new CommandServiceHarness(app, schema, topicPrefix, `127.0.0.1:${grpcPort}`);
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.schema.drop();
  }

  /** Waits until the service created its topics (it does so in the background: Kafka is not needed to serve). */
  async topicsReady(): Promise<string[]> {
    const topics = ledgerCatalog.topics(this.topicPrefix);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const have = new Set(await admin.listTopics());
          return topics.every((t) => have.has(t));
        },
        { timeoutMs: 20000, message: 'the command service topics' },
      );
    } finally {
      await admin.disconnect();
    }
    return topics;
  }

  get db() {
    return this.schema.pool;
  }

  async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST',
    url: string,
    options: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    const res = await this.app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        headers,
        payload: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      });
    const json = String(res.headers['content-type'] ?? '').includes('json');
    return {
      statusCode: res.statusCode,
      headers: res.headers,
      body: (res.body ? (json ? res.json() : res.body) : undefined) as T,
    };
  }

  /**
   * A pool of its own on the service's schema whose clients hand the text of every query they send to `record`: what
   * a command costs in round trips, counted on the wire (a pipeline is one query).
   */
  recordingPool(max: number, record: (text: string) => void): Pool {
    const pool = new Pool({ connectionString: this.schema.url, options: `-c search_path=${this.schema.name}`, max });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        record(typeof first === 'string' ? first : (first as { text: string }).text);
        return query(...args);
      };
    });
    return pool;
  }

  /** Counts of every written table: what "writes nothing" is checked against. */
  async writeCounts(): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ t: string; n: number }>(
      `SELECT 'event_log' AS t, count(*)::int AS n FROM event_log
       UNION ALL SELECT 'outbox', count(*)::int FROM outbox
       UNION ALL SELECT 'subject_state', count(*)::int FROM subject_state
       UNION ALL SELECT 'idempotency_keys', count(*)::int FROM idempotency_keys`,
    );
    return Object.fromEntries(rows.map((r) => [r.t, r.n]));
  }
}

export function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    actorId: 'user-1',
    actorType: 'user',
    tenantId: 'tenant-a',
    spaceId: 'space-1',
    roles: [],
    ...overrides,
  };
}

export const tokenFor = (p: Partial<Principal> = {}, expiresIn: string | number = '10m') =>
  signToken(principal(p), JWT_SECRET, expiresIn);
