import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { AccountParamsDto } from '../account-params.dto';
import { AccountBalanceResponseDto, EntryRequestDto } from '../entry.request.dto';
import { depositFundsCommand } from './deposit-funds.command';
import { ApiRoute } from '@event-spine/http';

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class DepositFundsHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':id/deposits')
  @ApiRoute({
    summary: 'Deposit funds into an account',
    operationId: 'depositFunds',
    command: true,
    body: true,
    errors: { 404: ['ACCOUNT_NOT_FOUND'], 409: ['ACCOUNT_CLOSED', 'BALANCE_LIMIT'] },
  })
  @ApiCreatedResponse({ type: AccountBalanceResponseDto })
  handle(
    @Param() params: AccountParamsDto,
    @Body() body: EntryRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = { accountId: params.id, ...body };
    return this.http.run(depositFundsCommand, input, input, { principal, headers, res });
  }
}
