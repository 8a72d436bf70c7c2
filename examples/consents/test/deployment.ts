import type { Pool } from 'pg';
import { signToken } from '@event-spine/auth';
import {
  ServiceProcess,
  TestSchema,
  testDatabaseUrl,
  testKafkaBrokers,
  uniqueName,
  type ServiceEntry,
} from '@event-spine/testing';

export const SECRET = 'consents-e2e-secret-long-enough-0123456789';

const ENTRY = {
  commands: 'examples/consents/src/command-service/main.ts',
  relay: 'examples/consents/src/relay/main.ts',
  projector: 'examples/consents/src/projector/main.ts',
} as const satisfies Record<string, ServiceEntry>;

/** The consents domain deployed for one suite: its own schemas and topic prefix, its three services as processes. */
export class ConsentsDeployment {
  readonly topicPrefix = `${uniqueName('cons')}.`;
  commands!: ServiceProcess;
  relay!: ServiceProcess;
  projector!: ServiceProcess;

  private constructor(
    readonly commandSchema: TestSchema,
    readonly projectorSchema: TestSchema,
  ) {}

  static async start(): Promise<ConsentsDeployment> {
    const d = new ConsentsDeployment(await TestSchema.create('cons'), await TestSchema.create('cons_proj'));
    d.commands = await d.startService('commands');
    d.relay = await d.startService('relay');
    d.projector = await d.startService('projector');
    return d;
  }

  private env(): Record<string, string> {
    return {
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: this.commandSchema.name,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      JWT_SECRET: SECRET,
      SHUTDOWN_TIMEOUT_MS: '10000',
    };
  }

  async startService(which: keyof typeof ENTRY): Promise<ServiceProcess> {
    const own: Record<string, string> =
      which === 'projector'
        ? {
            DATABASE_SCHEMA: this.projectorSchema.name,
            PROJECTOR_SESSION_TIMEOUT_MS: '3000',
            COMMAND_SERVICE_URL: this.commands.url,
          }
        : {};
    const service = await ServiceProcess.start(ENTRY[which], { ...this.env(), ...own });
    await service.waitReady();
    return service;
  }

  get commandDb(): Pool {
    return this.commandSchema.pool;
  }

  get projectorDb(): Pool {
    return this.projectorSchema.pool;
  }

  async stop(): Promise<void> {
    await Promise.all([this.projector, this.relay, this.commands].filter(Boolean).map((s) => s.stop('SIGKILL')));
    const shadows = await this.projectorDb
      .query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname IN (SELECT shadow_schema FROM replays)`,
      )
      .catch(() => ({ rows: [] as { nspname: string }[] }));
    for (const { nspname } of shadows.rows) await this.projectorDb.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await this.commandSchema.drop();
    await this.projectorSchema.drop();
  }
}

export const bearer = (tenantId: string, roles = ['admin']) =>
  signToken({ actorId: 'consents-e2e', actorType: 'user', tenantId, spaceId: 'space-1', roles }, SECRET, '1h');

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

export async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
