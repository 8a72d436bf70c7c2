import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { GrpcCommands, GrpcErrorFilter } from '@event-spine/commands';
import { AccountParamsDto } from '../account-params.dto';
import { EntryRequestDto } from '../entry.request.dto';
import { depositFundsCommand } from './deposit-funds.command';

@Controller()
@UseFilters(GrpcErrorFilter)
export class DepositFundsGrpcController {
  constructor(private readonly grpc: GrpcCommands) {}

  @GrpcMethod('LedgerCommands', 'DepositFunds')
  async handle(data: { accountId?: string }, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const caller = await this.grpc.caller(metadata);
    const { accountId, ...fields } = data;
    const params = this.grpc.validate(AccountParamsDto, { id: accountId }, { id: 'accountId' });
    const body = this.grpc.validate(EntryRequestDto, fields);
    const input = { accountId: params.id, ...body };
    return this.grpc.run(depositFundsCommand, input, input, caller, call);
  }
}
