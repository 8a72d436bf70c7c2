import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AccountParamsDto } from '../../commands/account-params.dto';
import { GrpcCommands, GrpcErrorFilter } from '@event-spine/commands';
import { AccountReader } from './account.reader';
import { GetAccountQueryDto } from './get-account.http.controller';

@Controller()
@UseFilters(GrpcErrorFilter)
export class GetAccountGrpcController {
  constructor(
    private readonly grpc: GrpcCommands,
    private readonly accounts: AccountReader,
  ) {}

  @GrpcMethod('LedgerCommands', 'GetAccount')
  async handle(data: { accountId?: string; asOf?: string }, metadata: Metadata) {
    const { principal } = await this.grpc.caller(metadata);
    const params = this.grpc.validate(AccountParamsDto, { id: data.accountId }, { id: 'accountId' });
    const query = this.grpc.validate(GetAccountQueryDto, data.asOf === undefined ? {} : { asOf: data.asOf });
    return this.accounts.read(principal.tenantId, params.id, query.asOf ? new Date(query.asOf) : undefined);
  }
}
