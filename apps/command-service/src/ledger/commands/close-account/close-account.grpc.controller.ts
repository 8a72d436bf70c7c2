import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { GrpcCommands, GrpcErrorFilter } from '@event-spine/commands';
import { AccountParamsDto } from '../account-params.dto';
import { closeAccountCommand } from './close-account.command';

@Controller()
@UseFilters(GrpcErrorFilter)
export class CloseAccountGrpcController {
  constructor(private readonly grpc: GrpcCommands) {}

  @GrpcMethod('LedgerCommands', 'CloseAccount')
  async handle(data: { accountId?: string }, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const caller = await this.grpc.caller(metadata);
    const params = this.grpc.validate(AccountParamsDto, { id: data.accountId }, { id: 'accountId' });
    const input = { accountId: params.id };
    return this.grpc.run(closeAccountCommand, input, input, caller, call);
  }
}
