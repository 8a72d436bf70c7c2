import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type ChannelCredentials,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  freePort,
  ServiceProcess,
  TestSchema,
  testDatabaseUrl,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type AppName,
} from '@event-spine/testing';
import { signToken } from '@event-spine/auth';
import { migrateCommandSchema } from './support/pipeline';

// Each of the three services boots as a real process, serves health, readiness and metrics, carries correlation
// ids, and exits 0 on SIGTERM after a graceful shutdown.
const apps: AppName[] = ['command-service', 'outbox-relay', 'projector'];

describe.each(apps)('%s process', (app) => {
  let schema: TestSchema;
  let service: ServiceProcess;
  let grpcPort: number;

  beforeAll(async () => {
    schema = await TestSchema.create(app.replace(/-/g, '_'));
    grpcPort = await freePort();
    // The relay publishes the command service's outbox: its schema is the command service's, migrated by it.
    if (app === 'outbox-relay') await migrateCommandSchema(schema.name);
    service = await ServiceProcess.start(app, {
      GRPC_PORT: String(grpcPort),
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: schema.name,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_TOPIC_PREFIX: `${uniqueName('svc')}.`,
      KAFKA_TOPIC_PARTITIONS: '2',
      JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    });
    await service.waitReady();
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await schema?.drop();
  });

  it('reports liveness and readiness of the database and Kafka', async () => {
    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; details: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.details.database?.status).toBe('up');
    expect(body.details.kafka?.status).toBe('up');
    if (app === 'outbox-relay') expect(body.details.outbox?.status).toBe('up');
  });

  it('serves Prometheus metrics labelled with the service', async () => {
    await fetch(`${service.url}/health/live`);
    const res = await fetch(`${service.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain(`process_cpu_user_seconds_total{service="${app}"}`);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/health\/live"[^}]*\} \d+/);
  });

  it('echoes an acceptable X-Correlation-Id, replaces a hostile one, and logs it as JSON', async () => {
    const id = `it-${randomUUID()}`;
    const echoed = await fetch(`${service.url}/no-such-route`, { headers: { 'x-correlation-id': id } });
    expect(echoed.headers.get('x-correlation-id')).toBe(id);
    expect(echoed.status).toBe(404);
    expect(await echoed.json()).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'Cannot GET /no-such-route',
      correlationId: id,
    });
    const hostile = await fetch(`${service.url}/health/live`, { headers: { 'x-correlation-id': 'a b\tc;drop' } });
    expect(hostile.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);

    // The request line is written once the response has gone out; give it a moment to reach the pipe.
    const line = await waitFor(
      () =>
        service.logs
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((entry) => entry.correlationId === id),
      { timeoutMs: 5000, message: 'the request log line' },
    );
    expect(line).toMatchObject({ service: app, correlationId: id });
  });

  if (app === 'command-service') {
    it('serves gRPC from the same process, called as the README shows', async () => {
      // The README's Node example, loaded with its options: field names as in the .proto.
      const definition = loadSync(resolve(__dirname, '../apps/command-service/proto/spine/ledger/v1/ledger.proto'), {
        keepCase: true,
        longs: Number,
      });
      type Call = (
        r: object,
        m: Metadata,
        cb: (e: ServiceError | null, reply?: Record<string, unknown>) => void,
      ) => void;
      const pkg = loadPackageDefinition(definition) as unknown as {
        spine: {
          ledger: {
            v1: {
              LedgerCommands: new (
                a: string,
                c: ChannelCredentials,
              ) => Client & { GetAccount: Call; OpenAccount: Call; DepositFunds: Call };
            };
          };
        };
      };
      const client = new pkg.spine.ledger.v1.LedgerCommands(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
      const invoke = (rpc: Call, request: object, metadata: Metadata) =>
        new Promise<{ error: ServiceError | null; reply?: Record<string, unknown> }>((done) =>
          rpc.call(client, request, metadata, (error, reply) => done({ error, reply })),
        );
      const anonymous = await invoke(client.GetAccount, { account_id: randomUUID() }, new Metadata());
      expect(anonymous.error?.code).toBe(status.UNAUTHENTICATED);

      const md = new Metadata();
      const bearer = await signToken(
        { actorId: 'readme', actorType: 'user', tenantId: 'tenant-readme', spaceId: 's', roles: [] },
        'test-secret-that-is-long-enough-0123456789',
      );
      md.set('authorization', `Bearer ${bearer}`);
      const opened = await invoke(client.OpenAccount, { owner_name: 'Ada', currency: 'EUR' }, md);
      expect(opened.error).toBeNull();
      const accountId = opened.reply?.account_id as string;
      const deposit = await invoke(client.DepositFunds, { account_id: accountId, amount: 1250 }, md);
      client.close();
      expect(deposit).toMatchObject({ error: null, reply: { account_id: accountId, sequence: 2, balance: 1250 } });
    });
  }

  it('shuts down cleanly on SIGTERM with exit code 0', async () => {
    const result = await service.stop('SIGTERM');
    expect(result).toEqual({ code: 0, signal: null });
    expect(service.logs).toContain('stopped cleanly');
  });
});

describe('configuration errors', () => {
  it.each(apps)('%s refuses to start and names every bad variable', async (app) => {
    const service = await ServiceProcess.start(app, {
      DATABASE_URL: '',
      KAFKA_BROKERS: 'localhost',
      JWT_SECRET: 'short',
      LOG_LEVEL: 'loud',
    });
    const result = await service.exited;
    expect(result.code).toBe(1);
    expect(service.logs).toContain(`${app} failed to start: Invalid configuration`);
    expect(service.logs).toContain('DATABASE_URL is required');
    expect(service.logs).toContain('KAFKA_BROKERS must be a comma-separated list of host:port, got "localhost"');
    expect(service.logs).toContain('LOG_LEVEL must be one of');
    if (app !== 'outbox-relay') expect(service.logs).toContain('JWT_SECRET must be at least 32 characters long');
  });
});
