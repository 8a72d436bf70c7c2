import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { AccountParamsDto } from '../account-params.dto';
import { AccountBalanceResponseDto } from '../entry.request.dto';
import { reverseEntryCommand } from './reverse-entry.command';
import { ReverseEntryRequestDto } from './reverse-entry.request.dto';
import { ApiRoute } from '@event-spine/http';

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class ReverseEntryHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':id/reversals')
  @ApiRoute({
    summary: 'Reverse a deposit or withdrawal by a compensating entry',
    operationId: 'reverseEntry',
    command: true,
    body: true,
    errors: {
      404: ['ACCOUNT_NOT_FOUND', 'ENTRY_NOT_FOUND'],
      409: ['ACCOUNT_CLOSED', 'ALREADY_REVERSED', 'INSUFFICIENT_FUNDS', 'BALANCE_LIMIT'],
      422: ['ENTRY_NOT_REVERSIBLE'],
    },
  })
  @ApiCreatedResponse({ type: AccountBalanceResponseDto })
  handle(
    @Param() params: AccountParamsDto,
    @Body() body: ReverseEntryRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = { accountId: params.id, ...body };
    return this.http.run(reverseEntryCommand, input, input, { principal, headers, res });
  }
}
