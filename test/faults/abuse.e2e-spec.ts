import { credentials, loadPackageDefinition, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { Kafka, Partitioners } from 'kafkajs';
import { signToken } from '@event-spine/auth';
import { freePort, uniqueName, waitFor, type ServiceProcess } from '@event-spine/testing';
import { call, E2E_SECRET, Pipeline, token } from '../support/pipeline';

type Unary = (req: object, meta: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => unknown;
type LedgerClient = Record<string, Unary> & { close(): void };

/**
 * Bad input at every public surface and the security matrix, against the three services as processes. Every
 * refusal must be a clear error (a 4xx with a stable `code`, or a gRPC status other than INTERNAL/UNKNOWN), and
 * nothing may be written: the event log, the outbox and the replays table are counted before and after.
 */
describe('abuse: bad input and foreign credentials at every public surface change nothing', () => {
  const report = { badInputsTried: 0, securityChecks: 0, byRoute: {} as Record<string, number> };
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let projector: ServiceProcess;
  let grpc: LedgerClient;
  let bearer: string;
  let account: string;
  let eventId: string;

  beforeAll(async () => {
    pipeline = await Pipeline.create();
    const grpcPort = await freePort();
    commands = await pipeline.start('command-service', { GRPC_PORT: String(grpcPort) });
    await pipeline.start('outbox-relay');
    projector = await pipeline.start('projector', { COMMAND_SERVICE_URL: commands.url });
    bearer = await token();
    const opened = await call(commands.url, 'POST', '/v1/accounts', bearer, { ownerName: 'Abe', currency: 'EUR' });
    account = opened.body.accountId as string;
    const deposit = await call(commands.url, 'POST', `/v1/accounts/${account}/deposits`, bearer, { amount: 500 });
    eventId = ((deposit.body.events as { id: string }[] | undefined)?.[0]?.id ?? '') || (await firstDepositId());
    const definition = loadSync(resolve(__dirname, '../../apps/command-service/proto/spine/ledger/v1/ledger.proto'), {
      keepCase: true,
      longs: Number,
      defaults: false,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      spine: { ledger: { v1: { LedgerCommands: new (a: string, c: unknown) => LedgerClient } } };
    };
    grpc = new pkg.spine.ledger.v1.LedgerCommands(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    await waitFor(async () => (await call(projector.url, 'GET', `/v1/accounts/${account}`, bearer)).status === 200);
  });

  afterAll(async () => {
    grpc?.close();
    const dir = resolve(__dirname, '../../.local/reports');
    mkdirSync(dir, { recursive: true });
    writeFileSync(resolve(dir, 'abuse.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n[abuse] ${JSON.stringify(report)}\n`);
    await pipeline.stop();
  });

  async function firstDepositId(): Promise<string> {
    const { rows } = await pipeline.commandSchema.pool.query<{ id: string }>(
      `SELECT id FROM event_log WHERE event_type = 'FundsDeposited' LIMIT 1`,
    );
    return rows[0].id;
  }

  async function writes(): Promise<{ events: number; idempotencyKeys: number; replays: number; audit: number }> {
    const one = async (pool: typeof pipeline.commandSchema.pool, sql: string) =>
      Number((await pool.query<{ n: string }>(sql)).rows[0].n);
    return {
      events: await one(pipeline.commandSchema.pool, 'SELECT count(*) AS n FROM event_log'),
      idempotencyKeys: await one(pipeline.commandSchema.pool, 'SELECT count(*) AS n FROM idempotency_keys'),
      replays: await one(pipeline.projectorSchema.pool, 'SELECT count(*) AS n FROM replays'),
      audit: await one(
        pipeline.projectorSchema.pool,
        `SELECT count(*) AS n FROM admin_audit_log WHERE outcome = 'accepted'`,
      ),
    };
  }

  const tried = (route: string) => {
    report.badInputsTried++;
    report.byRoute[route] = (report.byRoute[route] ?? 0) + 1;
  };

  async function raw(base: string, method: string, path: string, body: string | undefined, auth = bearer) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    let json: { code?: unknown } = {};
    try {
      json = JSON.parse(text) as { code?: unknown };
    } catch {
      // checked below: every refusal must be JSON with a code
    }
    return { status: res.status, code: json.code };
  }

  const commandRoutes = () => [
    ['POST', '/v1/accounts'],
    ['POST', `/v1/accounts/${account}/deposits`],
    ['POST', `/v1/accounts/${account}/withdrawals`],
    ['POST', `/v1/accounts/${account}/reversals`],
    ['POST', '/v1/transfers'],
  ];

  it('fuzzed JSON bodies on every command route: a 4xx with a stable code, never a 5xx, and nothing written', async () => {
    const before = await writes();
    // Objects whose keys look like the real fields but whose values are anything.
    const field = fc.constantFrom(
      'ownerName',
      'currency',
      'amount',
      'eventId',
      'reason',
      'fromAccountId',
      'toAccountId',
      'reference',
      'occurredAt',
      'accountId',
      'x',
    );
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer()),
      fc.object(),
      fc.constant(-1),
      fc.constant(0),
      fc.constant(1e300),
      fc.constant('EUR'),
    );
    const body = fc.dictionary(field, value, { maxKeys: 5 });
    for (const [method, path] of commandRoutes()) {
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          // A body that happens to be a valid command is not bad input: keep the fuzz to invalid ones.
          fc.pre(!('amount' in b && Number.isInteger(b.amount) && (b.amount as number) > 0));
          fc.pre(!(typeof b.ownerName === 'string' && b.currency === 'EUR'));
          tried(`${method} ${path.replace(account, ':id')}`);
          const res = await raw(commands.url, method, path, JSON.stringify(b));
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(typeof res.code).toBe('string');
        }),
        { numRuns: 40 },
      );
    }
    expect(await writes()).toEqual(before);
  }, 180_000);

  it('malformed JSON, oversized payloads, wrong content types and malformed ids: clear errors, nothing written', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }), async (text) => {
        let isJson = true;
        try {
          JSON.parse(text);
        } catch {
          isJson = false;
        }
        fc.pre(!isJson);
        tried('malformed JSON');
        const res = await raw(commands.url, 'POST', `/v1/accounts/${account}/deposits`, text);
        expect([res.status, res.code]).toEqual([400, expect.any(String)]);
      }),
      { numRuns: 60 },
    );
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      tried('wrong content type');
      const res = await fetch(`${commands.url}/v1/accounts/${account}/deposits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': type },
        body: 'amount=5',
      });
      expect([res.status, ((await res.json()) as { code?: unknown }).code]).toEqual([415, expect.any(String)]);
    }
    tried('oversized payload');
    const huge = await postOversized(
      `${commands.url}/v1/accounts`,
      JSON.stringify({ ownerName: 'x'.repeat(2_000_000), currency: 'EUR' }),
      bearer,
    );
    expect(huge).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !/^[0-9a-f-]{36}$/i.test(s)),
        async (id) => {
          tried('malformed id');
          const path = encodeURIComponent(id);
          for (const [base, route] of [
            [commands.url, `/v1/accounts/${path}`],
            [projector.url, `/v1/accounts/${path}`],
            [projector.url, `/admin/replays/${path}`],
          ]) {
            const res = await raw(base, 'GET', route, undefined);
            expect([400, 404]).toContain(res.status);
            expect(typeof res.code).toBe('string');
          }
        },
      ),
      { numRuns: 30 },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);

  it('fuzzed admin replay requests: refused with a clear error, no replay started', async () => {
    const before = await writes();
    const from = fc.oneof(
      fc.object(),
      fc.record({ earliest: fc.anything() }),
      fc.record({ timestamp: fc.string() }),
      fc.record({ offsets: fc.anything() }),
      fc.constant(null),
    );
    const body = fc.record(
      {
        mode: fc.oneof(fc.constantFrom('preview', 'rebuild', 'PREVIEW', ''), fc.anything()),
        source: fc.oneof(fc.constantFrom('kafka', 'event-log', 'db'), fc.anything()),
        from,
        batchSize: fc.oneof(fc.integer(), fc.string()),
        confirm: fc.string(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('account-balances', 'tenant-totals', 'nope', 'ACCOUNT'),
        async (b, name) => {
          tried('POST /admin/projections/:name/replays');
          const res = await raw(projector.url, 'POST', `/admin/projections/${name}/replays`, JSON.stringify(b));
          expect([400, 404, 409, 422]).toContain(res.status);
          expect(typeof res.code).toBe('string');
        },
      ),
      { numRuns: 80 },
    );
    const after = await writes();
    expect({ ...after, audit: before.audit }).toEqual(before);
  }, 180_000);

  it('fuzzed gRPC requests: INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION, never INTERNAL, nothing written', async () => {
    const before = await writes();
    const meta = () => {
      const m = new Metadata();
      m.set('authorization', `Bearer ${bearer}`);
      return m;
    };
    const invoke = (method: string, request: object) =>
      new Promise<{ code: number }>((ok) =>
        grpc[method](request, meta(), (error) => ok({ code: error ? error.code : status.OK })),
      );
    const text = fc.oneof(fc.string(), fc.constant(''), fc.constant('not-a-uuid'), fc.uuid());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'DepositFunds',
          'WithdrawFunds',
          'TransferFunds',
          'ReverseEntry',
          'CloseAccount',
          'OpenAccount',
        ),
        fc.record({
          account_id: text,
          amount: fc.integer({ min: -1e9, max: 0 }),
          from_account_id: text,
          to_account_id: text,
          event_id: text,
          reason: fc.string(),
          owner_name: fc.constant(''),
          currency: fc.string({ maxLength: 5 }),
        }),
        async (method, request) => {
          tried(`gRPC ${method}`);
          const { code } = await invoke(method, request);
          expect([status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION]).toContain(code);
        },
      ),
      { numRuns: 60 },
    );
    expect(await writes()).toEqual(before);
  }, 180_000);

  it('random bytes on the topics are parked as poison; the partition keeps flowing', async () => {
    const kafka = new Kafka({ clientId: uniqueName('abuse'), brokers: pipeline.kafkaBrokers.split(','), logLevel: 0 });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const junk = [
      ...fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), 20),
      // NUL, which PostgreSQL text refuses, in a value and inside an envelope; a sequence that is not an integer.
      Uint8Array.from([0x7b, 0x00, 0x7d]),
      Buffer.from('{"tenantId":"tenant-e2e","subjectType":"account","subjectId":"a\\u0000b","sequence":1}'),
      Buffer.from('{"tenantId":"tenant-e2e","subjectType":"account","subjectId":"junk-x","sequence":1.5,"id":5}'),
    ];
    for (const [i, bytes] of junk.entries()) {
      tried('Kafka message value');
      await producer.send({
        topic: pipeline.topics.find((t) => t.endsWith('account.events'))!,
        messages: [{ key: `tenant-e2e:junk-${i}`, value: Buffer.from(bytes) }],
      });
    }
    await producer.disconnect();
    const deposit = await call(commands.url, 'POST', `/v1/accounts/${account}/deposits`, bearer, { amount: 1 });
    const read = await call(
      projector.url,
      'GET',
      `/v1/accounts/${account}?minSequence=${deposit.body.sequence as number}&waitMs=20000`,
      bearer,
    );
    expect(read.status).toBe(200);
    await waitFor(
      async () =>
        ((await call(projector.url, 'GET', '/admin/parked', bearer)).body.parked as unknown[]).length === junk.length,
      { timeoutMs: 30000, message: 'the junk to be parked' },
    );
    // Whatever key a poison message came under, an operator can skip it and the subject flows again.
    const parked = (await call(projector.url, 'GET', '/admin/parked', bearer)).body.parked as {
      subjectType: string;
      subjectId: string;
    }[];
    for (const p of parked) {
      const path = `/admin/parked/${p.subjectType}/${encodeURIComponent(p.subjectId)}/skip`;
      expect(await call(projector.url, 'POST', path, bearer)).toMatchObject({
        status: 200,
        body: { state: 'flowing' },
      });
    }
    expect((await call(projector.url, 'GET', '/admin/parked', bearer)).body.parked).toEqual([]);
  });

  it('security: no token, bad tokens, another tenant and non-admins are refused on every route, and see nothing', async () => {
    const before = await writes();
    const claims = { actorId: 'a', actorType: 'user', tenantId: 'tenant-e2e', spaceId: 's', roles: ['admin'] };
    const expired = await signToken(claims, E2E_SECRET, '-1m').catch(() => signToken({ ...claims }, E2E_SECRET, '1s'));
    await new Promise((r) => setTimeout(r, 1100));
    const badTokens: [string, string | undefined][] = [
      ['no token', undefined],
      ['garbage', 'not.a.jwt'],
      ['wrong signature', await signToken(claims, 'another-secret-that-is-long-enough-0123456789', '5m')],
      ['expired', expired],
      ['missing tenant', await signToken({ ...claims, tenantId: '' }, E2E_SECRET, '5m')],
    ];
    const stranger = await token('tenant-stranger');
    const reader = await signToken({ ...claims, roles: [] }, E2E_SECRET, '5m');
    const routes: [string, string, string, unknown][] = [
      [commands.url, 'POST', '/v1/accounts', { ownerName: 'X', currency: 'EUR' }],
      [commands.url, 'POST', `/v1/accounts/${account}/deposits`, { amount: 1 }],
      [commands.url, 'POST', `/v1/accounts/${account}/withdrawals`, { amount: 1 }],
      [commands.url, 'POST', `/v1/accounts/${account}/reversals`, { eventId, reason: 'x' }],
      [commands.url, 'POST', `/v1/accounts/${account}/close`, {}],
      [commands.url, 'POST', '/v1/transfers', { fromAccountId: account, toAccountId: account, amount: 1 }],
      [commands.url, 'GET', `/v1/accounts/${account}`, undefined],
      [commands.url, 'GET', `/v1/subjects/account/${account}/events`, undefined],
      [commands.url, 'GET', '/v1/events', undefined],
      [projector.url, 'GET', `/v1/accounts/${account}`, undefined],
      [projector.url, 'GET', `/v1/accounts/${account}/statement`, undefined],
      [projector.url, 'GET', '/v1/tenant/totals', undefined],
      [projector.url, 'GET', '/admin/projections', undefined],
      [projector.url, 'GET', '/admin/parked', undefined],
      [projector.url, 'POST', `/admin/parked/account/${account}/retry`, undefined],
      [
        projector.url,
        'POST',
        '/admin/projections/account-balances/replays',
        { mode: 'preview', source: 'kafka', from: { earliest: true } },
      ],
      [projector.url, 'GET', `/admin/replays/${account}`, undefined],
      [projector.url, 'POST', `/admin/replays/${account}/cancel`, undefined],
    ];
    for (const [base, method, path, body] of routes) {
      for (const [name, bad] of badTokens) {
        report.securityChecks++;
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(bad ? { authorization: `Bearer ${bad}` } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
        expect({ path, name, status: res.status }).toEqual({ path, name, status: 401 });
      }
      if (path.startsWith('/admin')) {
        report.securityChecks++;
        expect({ path, status: (await call(base, method as 'GET', path, reader, body)).status }).toEqual({
          path,
          status: 403,
        });
      }
      // Another tenant: a subject of this tenant does not exist for it; its own lists are empty.
      report.securityChecks++;
      const foreign = await call(base, method as 'GET', path, stranger, body);
      if (path.includes(account)) expect({ path, status: foreign.status }).toEqual({ path, status: 404 });
      if (path === '/v1/events') {
        // Only what the stranger wrote itself (the account it opened above), nothing of this tenant.
        const seen = foreign.body.events as { tenantId: string; subjectId: string }[];
        expect(seen.filter((e) => e.tenantId !== 'tenant-stranger' || e.subjectId === account)).toEqual([]);
      }
      if (path === '/v1/tenant/totals') {
        // At most the stranger's own new, empty account; none of this tenant's money.
        expect((foreign.body.totals as { totalBalance: number }[]).filter((t) => t.totalBalance !== 0)).toEqual([]);
      }
    }
    // The stranger's account-opening and replay requests above ran in its own tenant; nothing of this tenant changed.
    const after = await writes();
    expect(after.events).toBe(before.events + 1); // the stranger's own AccountOpened
    const { rows } = await pipeline.commandSchema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_log WHERE tenant_id = 'tenant-stranger' AND event_type <> 'AccountOpened'`,
    );
    expect(rows[0].n).toBe(0);
    const gmeta = new Metadata();
    gmeta.set('authorization', `Bearer ${stranger}`);
    const code = await new Promise<number>((ok) =>
      grpc.DepositFunds({ account_id: account, amount: 5 }, gmeta, (e) => ok(e ? e.code : status.OK)),
    );
    expect(code).toBe(status.NOT_FOUND);
    report.securityChecks++;
  }, 180_000);
});

/**
 * Posts a body larger than the server accepts. The server answers 413 from Content-Length and closes the connection
 * while the body is still being written, so the write may fail (EPIPE, ECONNRESET) after the answer arrived: the
 * answer is what counts. fetch() reports such a request as failed as a whole, hence node:http.
 */
async function postOversized(url: string, body: string, bearer: string): Promise<{ status: number; code: unknown }> {
  // The connection may also break before the answer is read (the socket closed under the write): ask again, up to
  // three times; what is checked is the answer the server gives.
  for (let attempt = 1; ; attempt++) {
    try {
      return await postOversizedOnce(url, body, bearer);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (attempt >= 3 || !['EPIPE', 'ECONNRESET'].includes(code)) throw error;
    }
  }
}

function postOversizedOnce(url: string, body: string, bearer: string): Promise<{ status: number; code: unknown }> {
  return new Promise((resolveAnswer, reject) => {
    let answered = false;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: unknown };
          resolveAnswer({ status: res.statusCode ?? 0, code: parsed.code });
        });
      },
    );
    // The answer may still be in the socket's buffer when the write fails: give it a moment to be read.
    req.on('error', (error) => setTimeout(() => (answered ? undefined : reject(error)), 1000));
    req.end(body);
  });
}
