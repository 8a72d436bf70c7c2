import { dirname, join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';
import { Transport, type GrpcOptions } from '@nestjs/microservices';

// oneofs: false, or proto3 `optional` fields arrive with synthetic `_field` properties that validation would refuse.
export const PROTO_LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: false };

// The package ships the reflection protos it serves; resolved through package.json so it holds wherever npm put it.
const REFLECTION_PROTO_DIR = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
const REFLECTION_PROTOS = ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'];

/**
 * Serves gRPC server reflection (v1 and v1alpha) on the domain's own server, from the same .proto file, so grpcurl,
 * Postman and reflection clients can list and call without the .proto at hand.
 */
function addReflection(protoPath: string, server: Pick<Server, 'addService'>): void {
  // Not the definition Nest hands the hook: keepCase: false renamed its fields (field_name → fieldName) and reflection
  // would publish those names, so `{"field_name": …}` from grpcurl would be refused. keepCase: true keeps the .proto's.
  const served = loadSync(protoPath, { ...PROTO_LOADER_OPTIONS, keepCase: true });
  // ReflectionService describes only the definition it is given; with the reflection protos added it lists itself too,
  // as the C++/Go/Java servers do, and clients can describe it.
  const reflection = loadSync(REFLECTION_PROTOS, { ...PROTO_LOADER_OPTIONS, includeDirs: [REFLECTION_PROTO_DIR] });
  new ReflectionService({ ...served, ...reflection }).addToServer(server);
}

export interface GrpcServerOptions {
  /** The .proto's package, e.g. `spine.ledger.v1`. */
  package: string;
  /** The .proto the service serves; clients load the same file. */
  protoPath: string;
  host: string;
  port: number;
}

/** The gRPC transport of a command service (for `connectMicroservice`), with server reflection. */
export function grpcServerOptions(options: GrpcServerOptions): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: options.package,
      protoPath: options.protoPath,
      url: `${options.host}:${options.port}`,
      loader: PROTO_LOADER_OPTIONS,
      // Nest's only hook that reaches its grpc-js Server; it runs where Nest adds the domain's service to it.
      onLoadPackageDefinition: (_pkg: unknown, server: Server) => addReflection(options.protoPath, server),
    },
  };
}
