import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { CustomerPurposeParamsDto } from '../../../shared/params.dto';
import { revokeConsentCommand } from './revoke-consent.command';
import { RevokeConsentRequestDto, RevokeConsentResponseDto } from './revoke-consent.request.dto';

@ApiTags('consents')
@Authenticated()
@Controller('v1/customers')
export class RevokeConsentHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':customerId/consents/:purpose/revoke')
  @ApiRoute({
    summary: 'Revoke a customer’s consent to a purpose',
    operationId: 'revokeConsent',
    command: true,
    body: true,
    errors: { 409: ['CONSENT_NOT_ACTIVE'] },
  })
  @ApiOkResponse({ type: RevokeConsentResponseDto })
  revoke(
    @Param() params: CustomerPurposeParamsDto,
    @Body() body: RevokeConsentRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = { customerId: params.customerId, purpose: params.purpose, reason: body.reason };
    return this.http.run(revokeConsentCommand, input, input, { principal, headers, res });
  }
}
