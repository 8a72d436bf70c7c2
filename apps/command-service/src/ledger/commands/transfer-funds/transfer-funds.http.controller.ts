import { Body, Controller, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { transferFundsCommand } from './transfer-funds.command';
import { TransferFundsRequestDto, TransferFundsResponseDto } from './transfer-funds.request.dto';
import { ApiRoute } from '@event-spine/http';

@ApiTags('transfers')
@Authenticated()
@Controller('v1/transfers')
export class TransferFundsHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post()
  @ApiRoute({
    summary: 'Transfer funds between two accounts of the tenant',
    operationId: 'transferFunds',
    command: true,
    body: true,
    errors: {
      404: ['ACCOUNT_NOT_FOUND'],
      409: ['ACCOUNT_CLOSED', 'INSUFFICIENT_FUNDS', 'BALANCE_LIMIT', 'TRANSFER_EXISTS'],
      422: ['SAME_ACCOUNT', 'CURRENCY_MISMATCH'],
    },
  })
  @ApiCreatedResponse({ type: TransferFundsResponseDto })
  handle(
    @Body() body: TransferFundsRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = { ...body, transferId: body.transferId ?? randomUUID() };
    return this.http.run(transferFundsCommand, input, body, { principal, headers, res });
  }
}
