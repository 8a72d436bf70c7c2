import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { OpenAccountResponseDto } from '../open-account/open-account.request.dto';
import { AccountParamsDto } from '../account-params.dto';
import { closeAccountCommand } from './close-account.command';

/** Closing takes no fields: an empty object (or no body) is the only accepted body. */
function assertEmptyBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
      { field: '(body)', errors: ['the body must be an empty JSON object'] },
    ]);
  }
  const unknown = Object.keys(body);
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      'Request validation failed',
      unknown.map((field) => ({ field, errors: [`property ${field} should not exist`] })),
    );
  }
}

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class CloseAccountHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':id/close')
  @ApiRoute({
    summary: 'Close an account whose balance is zero',
    operationId: 'closeAccount',
    command: true,
    body: true,
    errors: { 404: ['ACCOUNT_NOT_FOUND'], 409: ['ACCOUNT_CLOSED', 'BALANCE_NOT_ZERO'] },
  })
  @ApiOkResponse({ type: OpenAccountResponseDto })
  handle(
    @Param() params: AccountParamsDto,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    assertEmptyBody(body);
    const input = { accountId: params.id };
    return this.http.run(closeAccountCommand, input, input, { principal, headers, res });
  }
}
