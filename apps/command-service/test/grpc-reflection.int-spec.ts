import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type ClientDuplexStream,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { CommandServiceHarness, tokenFor } from './command-service.harness';

// A generic client's view: it knows only the reflection protocol. The ledger's .proto is never read; what the client
// needs comes from the server over reflection. The reflection protos are those shipped by @grpc/reflection.
const REFLECTION_PROTO_DIR = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
const LEDGER_SERVICE = 'spine.ledger.v1.LedgerCommands';
const VERSIONS = ['v1', 'v1alpha'] as const;
type Version = (typeof VERSIONS)[number];

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type ReflectionStream = ClientDuplexStream<object, ReflectionResponse>;
type Unary = (
  request: object,
  metadata: Metadata,
  callback: (error: ServiceError | null, reply: Record<string, unknown>) => void,
) => unknown;

function reflectionClient(version: Version, address: string) {
  const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [REFLECTION_PROTO_DIR],
    keepCase: true,
  });
  const pkg = loadPackageDefinition(definition) as {
    grpc: { reflection: Record<Version, { ServerReflection: ServiceClientConstructor }> };
  };
  return new pkg.grpc.reflection[version].ServerReflection(address, credentials.createInsecure());
}

/** One request, one response, on an open reflection stream: how grpcurl and Postman drive it. */
function ask(stream: ReflectionStream, request: object): Promise<ReflectionResponse> {
  return new Promise((done, fail) => {
    const onData = (reply: ReflectionResponse) => {
      stream.off('error', onError);
      done(reply);
    };
    const onError = (error: Error) => {
      stream.off('data', onData);
      fail(error);
    };
    stream.once('data', onData).once('error', onError);
    stream.write(request);
  });
}

// Reflection returns serialized FileDescriptorProtos; a FileDescriptorSet is just `repeated FileDescriptorProto
// file = 1`, so its encoding is each one behind tag 0x0a and a varint length. Avoids a direct protobufjs dependency.
function fileDescriptorSet(files: Buffer[]): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = [];
    for (; n > 0x7f; n >>>= 7) bytes.push((n & 0x7f) | 0x80);
    bytes.push(n);
    return Buffer.from(bytes);
  };
  return Buffer.concat(files.flatMap((f) => [Buffer.from([0x0a]), varint(f.length), f]));
}

describe('command service gRPC server reflection', () => {
  let svc: CommandServiceHarness;
  const clients: { close(): void }[] = [];
  const streams: { stream: ReflectionStream; finished: Promise<unknown> }[] = [];

  const open = (version: Version) => {
    const client = reflectionClient(version, svc.grpcAddress);
    clients.push(client);
    const stream = (client.ServerReflectionInfo as () => ReflectionStream)();
    // Closing a channel under a live call cancels it, an unhandled 'error'; the streams end cleanly before that.
    streams.push({ stream, finished: new Promise((done) => stream.once('status', done)) });
    return stream;
  };

  beforeAll(async () => {
    svc = await CommandServiceHarness.start();
  });
  afterAll(async () => {
    for (const { stream } of streams) stream.end();
    await Promise.all(streams.map((s) => s.finished));
    for (const c of clients) c.close();
    await svc.stop();
  });

  it.each(VERSIONS)('lists the ledger and reflection services over %s', async (version) => {
    const stream = open(version);
    const reply = await ask(stream, { list_services: '*' });
    const names = reply.list_services_response!.service.map((s) => s.name);
    expect(names.sort()).toEqual(
      [LEDGER_SERVICE, 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'].sort(),
    );
    const unknown = await ask(stream, { file_containing_symbol: 'spine.ledger.v1.NoSuchThing' });
    expect(unknown.error_response).toMatchObject({ error_code: 5 /* NOT_FOUND */ });
  });

  it.each(VERSIONS)('serves descriptors over %s from which a client opens and reads an account', async (version) => {
    const stream = open(version);
    const reply = await ask(stream, { file_containing_symbol: LEDGER_SERVICE });
    const files = reply.file_descriptor_response!.file_descriptor_proto;
    expect(files.length).toBeGreaterThan(0);

    const definition = loadFileDescriptorSetFromBuffer(fileDescriptorSet(files), {
      keepCase: true,
      longs: Number,
      defaults: false,
    });
    expect(Object.keys(definition)).toContain(LEDGER_SERVICE);
    const Ledger = (
      (loadPackageDefinition(definition).spine as GrpcObject).ledger as { v1: Record<string, ServiceClientConstructor> }
    ).v1.LedgerCommands;
    expect(Object.keys(Ledger.service).sort()).toEqual(
      [
        'CloseAccount',
        'DepositFunds',
        'GetAccount',
        'OpenAccount',
        'ReverseEntry',
        'TransferFunds',
        'WithdrawFunds',
      ].sort(),
    );
    const ledger = new Ledger(svc.grpcAddress, credentials.createInsecure()) as unknown as Record<string, Unary> & {
      close(): void;
    };
    clients.push(ledger);

    const token = await tokenFor();
    const call = (method: string, request: object) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return new Promise<Record<string, unknown>>((done, fail) =>
        ledger[method](request, metadata, (error, r) => (error ? fail(error) : done(r))),
      );
    };
    // snake_case as in the .proto: were the reflected names camelCased, owner_name would go unsent and be refused.
    const owner = `Reflected ${version}`;
    const opened = await call('OpenAccount', { owner_name: owner, currency: 'EUR' });
    expect(opened).toEqual({ account_id: expect.stringMatching(/^[0-9a-f-]{36}$/), sequence: 1 });
    expect(await call('GetAccount', { account_id: opened.account_id })).toEqual({
      account_id: opened.account_id,
      owner_name: owner,
      currency: 'EUR',
      balance: 0,
      status: 'open',
      sequence: 1,
    });
    const { rows } = await svc.db.query<{ event_type: string }>(
      `SELECT event_type FROM event_log WHERE subject_id = $1`,
      [opened.account_id],
    );
    expect(rows).toEqual([{ event_type: 'AccountOpened' }]);
  });
});
