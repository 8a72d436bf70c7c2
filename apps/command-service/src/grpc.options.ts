import { resolve } from 'node:path';
import type { GrpcOptions } from '@nestjs/microservices';
import { grpcServerOptions } from '@event-spine/commands';

/** The .proto the service serves; clients load the same file. */
export const LEDGER_PROTO = resolve(__dirname, '../proto/spine/ledger/v1/ledger.proto');

export const grpcOptions = (host: string, port: number): GrpcOptions =>
  grpcServerOptions({ package: 'spine.ledger.v1', protoPath: LEDGER_PROTO, host, port });
