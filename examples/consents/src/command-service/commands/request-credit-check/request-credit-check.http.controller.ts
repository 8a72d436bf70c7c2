import { Body, Controller, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { requestCreditCheckCommand } from './request-credit-check.command';
import { RequestCreditCheckRequestDto, RequestCreditCheckResponseDto } from './request-credit-check.request.dto';

@ApiTags('credit checks')
@Authenticated()
@Controller('v1/credit-checks')
export class RequestCreditCheckHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post()
  @ApiRoute({
    summary: 'Record a credit pull, allowed only by a consent in force for its purpose',
    operationId: 'requestCreditCheck',
    command: true,
    body: true,
    errors: { 409: ['CONSENT_REQUIRED', 'CREDIT_CHECK_EXISTS'] },
  })
  @ApiCreatedResponse({ type: RequestCreditCheckResponseDto })
  request(
    @Body() body: RequestCreditCheckRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = {
      creditCheckId: body.creditCheckId ?? randomUUID(),
      customerId: body.customerId,
      purpose: body.purpose,
      bureau: body.bureau,
      now: new Date().toISOString(),
    };
    return this.http.run(requestCreditCheckCommand, input, body, { principal, headers, res });
  }
}
