import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { CustomerParamsDto } from '../../../shared/params.dto';
import { grantConsentCommand } from './grant-consent.command';
import { GrantConsentRequestDto, GrantConsentResponseDto } from './grant-consent.request.dto';

@ApiTags('consents')
@Authenticated()
@Controller('v1/customers')
export class GrantConsentHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':customerId/consents')
  @ApiRoute({
    summary: 'Record a customer’s consent to a purpose',
    operationId: 'grantConsent',
    command: true,
    body: true,
    errors: { 409: ['CONSENT_ALREADY_ACTIVE'], 422: ['EXPIRY_IN_PAST'] },
  })
  @ApiCreatedResponse({ type: GrantConsentResponseDto })
  grant(
    @Param() params: CustomerParamsDto,
    @Body() body: GrantConsentRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = {
      customerId: params.customerId,
      purpose: body.purpose,
      scope: body.scope ?? ['standard'],
      grantedVia: body.grantedVia,
      ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt).toISOString() } : {}),
      now: new Date().toISOString(),
    };
    return this.http.run(grantConsentCommand, input, { ...params, ...body }, { principal, headers, res });
  }
}
