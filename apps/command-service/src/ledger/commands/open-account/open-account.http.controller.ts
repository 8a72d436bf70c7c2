import { Body, Controller, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { openAccountCommand } from './open-account.command';
import { OpenAccountRequestDto, OpenAccountResponseDto } from './open-account.request.dto';
import { ApiRoute } from '@event-spine/http';

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class OpenAccountHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post()
  @ApiRoute({
    summary: 'Open an account',
    operationId: 'openAccount',
    command: true,
    body: true,
    errors: { 409: ['ACCOUNT_EXISTS'] },
  })
  @ApiCreatedResponse({ type: OpenAccountResponseDto })
  open(
    @Body() body: OpenAccountRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    return this.http.run(openAccountCommand, { ...body, accountId: body.accountId ?? randomUUID() }, body, {
      principal,
      headers,
      res,
    });
  }
}
