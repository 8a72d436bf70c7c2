import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '../../http/command-http';
import { AccountParamsDto } from '../account-params.dto';
import { AccountBalanceResponseDto } from '../entry.request.dto';
import { reverseEntryCommand } from './reverse-entry.command';
import { ReverseEntryRequestDto } from './reverse-entry.request.dto';

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class ReverseEntryHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':id/reversals')
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
