import { credentials, loadPackageDefinition, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { EventEnvelope } from '@event-spine/events';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

// A plain @grpc/grpc-js client that loads the .proto file itself, as any client would; not through Nest.
type Unary = (
  request: object,
  metadata: Metadata,
  callback: (error: ServiceError | null, reply: Record<string, unknown>) => void,
) => unknown;
type LedgerClient = Record<string, Unary> & {
  close(): void;
  waitForReady(deadline: number, cb: (e?: Error) => void): void;
};

function loadClient(address: string): LedgerClient {
  const definition = loadSync(resolve(__dirname, '../proto/spine/ledger/v1/ledger.proto'), {
    keepCase: true,
    longs: Number,
    defaults: false,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    spine: {
      ledger: {
        v1: {
          LedgerCommands: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => LedgerClient;
        };
      };
    };
  };
  return new pkg.spine.ledger.v1.LedgerCommands(address, credentials.createInsecure());
}

interface Result {
  reply?: Record<string, unknown>;
  error?: ServiceError;
  headers: Record<string, string>;
}

describe('command service gRPC API', () => {
  let svc: CommandServiceHarness;
  let client: LedgerClient;
  let token: string;

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
    client = loadClient(svc.grpcAddress);
    await new Promise<void>((ok, fail) => client.waitForReady(Date.now() + 10000, (e) => (e ? fail(e) : ok())));
    token = await tokenFor();
  });
  afterAll(async () => {
    client.close();
    await svc.stop();
  });

  function rpc(method: string, request: object, meta: Record<string, string | undefined> = {}): Promise<Result> {
    const metadata = new Metadata();
    const all = { authorization: `Bearer ${token}`, ...meta };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) metadata.set(k, v);
    return new Promise((done) => {
      const headers: Record<string, string> = {};
      const call = client[method](request, metadata, (error, reply) =>
        done({ reply: error ? undefined : reply, error: error ?? undefined, headers }),
      ) as { on(event: 'metadata', cb: (md: Metadata) => void): void };
      call.on('metadata', (md) => {
        for (const [k, v] of Object.entries(md.getMap())) headers[k] = String(v);
      });
    });
  }
  const ok = async (method: string, request: object, meta?: Record<string, string | undefined>) => {
    const r = await rpc(method, request, meta);
    expect(r.error?.details ?? null).toBeNull();
    return r.reply!;
  };
  const trailer = (e: ServiceError, key: string) => e.metadata.get(key)[0]?.toString();

  it('runs every command and GetAccount', async () => {
    const opened = await ok('OpenAccount', { owner_name: 'Grpc Ada', currency: 'EUR' });
    const accountId = opened.account_id as string;
    expect(opened).toEqual({ account_id: accountId, sequence: 1 });
    expect(await ok('DepositFunds', { account_id: accountId, amount: 500, reference: 'r' })).toEqual({
      account_id: accountId,
      sequence: 2,
      balance: 500,
    });
    expect(await ok('WithdrawFunds', { account_id: accountId, amount: 200 })).toMatchObject({
      sequence: 3,
      balance: 300,
    });
    const other = (await ok('OpenAccount', { owner_name: 'Grpc Bob', currency: 'EUR' })).account_id as string;
    const transfer = await ok('TransferFunds', { from_account_id: accountId, to_account_id: other, amount: 100 });
    expect(transfer).toEqual({ transfer_id: expect.any(String), correlation_id: expect.any(String) });

    const history = await svc.request<{ events: EventEnvelope[] }>('GET', `/v1/subjects/account/${accountId}/events`, {
      token,
    });
    const withdrawal = history.body.events.find(
      (e) => e.eventType === 'FundsWithdrawn' && !('transferId' in (e.payload as object)),
    )!;
    expect(await ok('ReverseEntry', { account_id: accountId, event_id: withdrawal.id, reason: 'grpc' })).toMatchObject({
      balance: 400,
    });
    await ok('WithdrawFunds', { account_id: accountId, amount: 400 });
    expect(await ok('CloseAccount', { account_id: accountId })).toEqual({ account_id: accountId, sequence: 7 });
    expect(await ok('GetAccount', { account_id: other })).toEqual({
      account_id: other,
      owner_name: 'Grpc Bob',
      currency: 'EUR',
      balance: 100,
      status: 'open',
      sequence: 2,
    });
    expect(
      await ok('GetAccount', { account_id: accountId, as_of: '2000-01-01T00:00:00Z' }).catch(() => 'refused'),
    ).toBe('refused');
  });

  it('maps errors to the spec’s status codes with the stable code and field details', async () => {
    const accountId = (await ok('OpenAccount', { owner_name: 'Err', currency: 'EUR' })).account_id as string;
    const cases: [string, object, Record<string, string>, status, string][] = [
      ['DepositFunds', { account_id: 'nope', amount: 1 }, {}, status.INVALID_ARGUMENT, 'VALIDATION_FAILED'],
      ['DepositFunds', { account_id: accountId, amount: -3 }, {}, status.INVALID_ARGUMENT, 'VALIDATION_FAILED'],
      ['OpenAccount', { owner_name: 'X', currency: 'ZZZ' }, {}, status.INVALID_ARGUMENT, 'VALIDATION_FAILED'],
      ['DepositFunds', { account_id: randomUUID(), amount: 1 }, {}, status.NOT_FOUND, 'ACCOUNT_NOT_FOUND'],
      ['WithdrawFunds', { account_id: accountId, amount: 1 }, {}, status.FAILED_PRECONDITION, 'INSUFFICIENT_FUNDS'],
      [
        'TransferFunds',
        { from_account_id: accountId, to_account_id: accountId, amount: 1 },
        {},
        status.FAILED_PRECONDITION,
        'SAME_ACCOUNT',
      ],
      [
        'DepositFunds',
        { account_id: accountId, amount: 1 },
        { 'if-match': '7' },
        status.ABORTED,
        'CONCURRENCY_CONFLICT',
      ],
      [
        'DepositFunds',
        { account_id: accountId, amount: 1 },
        { authorization: '' },
        status.UNAUTHENTICATED,
        'UNAUTHENTICATED',
      ],
      [
        'GetAccount',
        { account_id: accountId },
        { authorization: 'Bearer forged.token.here' },
        status.UNAUTHENTICATED,
        'UNAUTHENTICATED',
      ],
    ];
    const before = await svc.writeCounts();
    for (const [method, request, meta, code, errorCode] of cases) {
      const r = await rpc(method, request, meta);
      expect({ method, code: r.error?.code, errorCode: r.error && trailer(r.error, 'error-code') }).toEqual({
        method,
        code,
        errorCode,
      });
    }
    expect(await svc.writeCounts()).toEqual(before);
    const invalid = await rpc('DepositFunds', { account_id: 'nope', amount: 0 });
    expect(JSON.parse(trailer(invalid.error!, 'error-details'))).toEqual([
      { field: 'accountId', errors: ['id must be a UUID'] },
    ]);
  });

  it('keeps tenants apart: another tenant’s account is NOT_FOUND and unchanged', async () => {
    const accountId = (await ok('OpenAccount', { owner_name: 'Iso', currency: 'EUR' })).account_id as string;
    const other = await tokenFor({ tenantId: `other-${randomUUID()}` });
    const r = await rpc('GetAccount', { account_id: accountId }, { authorization: `Bearer ${other}` });
    expect(r.error?.code).toBe(status.NOT_FOUND);
    const d = await rpc('DepositFunds', { account_id: accountId, amount: 1 }, { authorization: `Bearer ${other}` });
    expect(d.error?.code).toBe(status.NOT_FOUND);
    expect((await ok('GetAccount', { account_id: accountId })).balance).toBe(0);
  });

  it('honours idempotency-key and x-correlation-id metadata exactly as the HTTP headers', async () => {
    const key = `grpc-${randomUUID()}`;
    const correlationId = `corr-${randomUUID()}`;
    const first = await rpc(
      'OpenAccount',
      { owner_name: 'Idem', currency: 'EUR' },
      { 'idempotency-key': key, 'x-correlation-id': correlationId },
    );
    expect(first.headers['x-correlation-id']).toBe(correlationId);
    const counts = await svc.writeCounts();
    const again = await rpc('OpenAccount', { owner_name: 'Idem', currency: 'EUR' }, { 'idempotency-key': key });
    expect(again.reply).toEqual(first.reply);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await svc.writeCounts()).toEqual(counts);
    // The same key over HTTP is the same request: the stored response, from either transport.
    const overHttp = await svc.request('POST', '/v1/accounts', {
      token,
      body: { ownerName: 'Idem', currency: 'EUR' },
      headers: { 'idempotency-key': key },
    });
    expect(overHttp.body).toEqual({ accountId: first.reply!.account_id, sequence: 1 });
    const reused = await rpc('OpenAccount', { owner_name: 'Other', currency: 'EUR' }, { 'idempotency-key': key });
    expect(reused.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(trailer(reused.error!, 'error-code')).toBe('IDEMPOTENCY_KEY_REUSED');

    const { rows } = await svc.db.query<{ correlation_id: string }>(
      `SELECT correlation_id FROM event_log WHERE subject_id = $1`,
      [first.reply!.account_id],
    );
    expect(rows).toEqual([{ correlation_id: correlationId }]);
  });

  it('writes events identical in shape to those written over HTTP', async () => {
    const viaGrpc = (await ok('OpenAccount', { owner_name: 'Shape', currency: 'EUR' })).account_id as string;
    await ok('DepositFunds', { account_id: viaGrpc, amount: 5, reference: 'x' });
    const viaHttp = (
      await svc.request('POST', '/v1/accounts', { token, body: { ownerName: 'Shape', currency: 'EUR' } })
    ).body.accountId as string;
    await svc.request('POST', `/v1/accounts/${viaHttp}/deposits`, { token, body: { amount: 5, reference: 'x' } });
    const read = async (id: string) =>
      (await svc.request<{ events: EventEnvelope[] }>('GET', `/v1/subjects/account/${id}/events`, { token })).body
        .events;
    const strip = (e: EventEnvelope) => ({
      ...e,
      id: '*',
      subjectId: '*',
      actionInvocationId: '*',
      causationId: '*',
      correlationId: '*',
      occurredAt: '*',
      recordedAt: '*',
    });
    const [a, b] = [await read(viaGrpc), await read(viaHttp)];
    expect(a.map(strip)).toEqual(b.map(strip));
    expect(a.map((e) => Object.keys(e))).toEqual(b.map((e) => Object.keys(e)));
  });
});
