import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { GrpcCommands, GrpcErrorFilter } from '@event-spine/commands';
import { transferFundsCommand } from './transfer-funds.command';
import { TransferFundsRequestDto } from './transfer-funds.request.dto';

@Controller()
@UseFilters(GrpcErrorFilter)
export class TransferFundsGrpcController {
  constructor(private readonly grpc: GrpcCommands) {}

  @GrpcMethod('LedgerCommands', 'TransferFunds')
  async handle(data: object, metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const caller = await this.grpc.caller(metadata);
    const body = this.grpc.validate(TransferFundsRequestDto, data);
    const input = { ...body, transferId: body.transferId ?? randomUUID() };
    return this.grpc.run(transferFundsCommand, input, body, caller, call);
  }
}
