import { dirname, join, resolve } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';
import { Transport, type GrpcOptions } from '@nestjs/microservices';

/** The .proto the service serves; clients load the same file. */
export const LEDGER_PROTO = resolve(__dirname, '../proto/spine/ledger/v1/ledger.proto');

// oneofs: false, or proto3 `optional` fields arrive with synthetic `_field` properties that validation would refuse.
export const PROTO_LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: false };

// The package ships the reflection protos it serves; resolved through package.json so it holds wherever npm put it.
const REFLECTION_PROTO_DIR = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
const REFLECTION_PROTOS = ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];

/**
 * Serves gRPC server reflection (v1 and v1alpha) on the ledger's own server, from the same .proto file, so grpcurl,
 * Postman and reflection clients can list and call without the .proto at hand.
 */
function addReflection(protoPath: string, server: Pick<Server, 'addService'>): void {
  // Not the definition Nest hands the hook: keepCase: false renamed its fields (owner_name → ownerName) and reflection
  // would publish those names, so `{"owner_name": …}` from grpcurl would be refused. keepCase: true keeps the .proto's.
  const served = loadSync(protoPath, { ...PROTO_LOADER_OPTIONS, keepCase: true });
  // ReflectionService describes only the definition it is given; with the reflection protos added it lists itself too,
  // as the C++/Go/Java servers do, and clients can describe it.
  const reflection = loadSync(REFLECTION_PROTOS, { ...PROTO_LOADER_OPTIONS, includeDirs: [REFLECTION_PROTO_DIR] });
  new ReflectionService({ ...served, ...reflection }).addToServer(server);
}

export function grpcOptions(host: string, port: number): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: 'spine.ledger.v1',
      protoPath: LEDGER_PROTO,
      url: `${host}:${port}`,
      loader: PROTO_LOADER_OPTIONS,
      // Nest's only hook that reaches its grpc-js Server; it runs where Nest adds the ledger service to it.
      onLoadPackageDefinition: (_pkg: unknown, server: Server) => addReflection(LEDGER_PROTO, server),
    },
  };
}
