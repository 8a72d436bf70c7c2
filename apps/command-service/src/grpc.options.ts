import { resolve } from 'node:path';
import { Transport, type GrpcOptions } from '@nestjs/microservices';

/** The .proto the service serves; clients load the same file. */
export const LEDGER_PROTO = resolve(__dirname, '../proto/spine/ledger/v1/ledger.proto');

// oneofs: false, or proto3 `optional` fields arrive with synthetic `_field` properties that validation would refuse.
export const PROTO_LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: false };

export function grpcOptions(host: string, port: number): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: 'spine.ledger.v1',
      protoPath: LEDGER_PROTO,
      url: `${host}:${port}`,
      loader: PROTO_LOADER_OPTIONS,
    },
  };
}
