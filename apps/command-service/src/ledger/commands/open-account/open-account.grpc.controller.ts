import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { GrpcCommands, GrpcErrorFilter } from '@event-spine/commands';
import { openAccountCommand } from './open-account.command';
import { OpenAccountRequestDto } from './open-account.request.dto';

@Controller()
@UseFilters(GrpcErrorFilter)
export class OpenAccountGrpcController {
  constructor(private readonly grpc: GrpcCommands) {}

  @GrpcMethod('LedgerCommands', 'OpenAccount')
  async handle(data: object, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const caller = await this.grpc.caller(metadata);
    const body = this.grpc.validate(OpenAccountRequestDto, data);
    return this.grpc.run(
      openAccountCommand,
      { ...body, accountId: body.accountId ?? randomUUID() },
      body,
      caller,
      call,
    );
  }
}
