import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { CommandHttp, RequestHeaders, type CommandHeaders } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { CreditCheckParamsDto } from '../../../shared/params.dto';
import { completeCreditCheckCommand } from './complete-credit-check.command';
import { CompleteCreditCheckRequestDto, CompleteCreditCheckResponseDto } from './complete-credit-check.request.dto';

@ApiTags('credit checks')
@Authenticated()
@Controller('v1/credit-checks')
export class CompleteCreditCheckHttpController {
  constructor(private readonly http: CommandHttp) {}

  @Post(':id/complete')
  @ApiRoute({
    summary: 'Record the bureau’s answer to a credit check',
    operationId: 'completeCreditCheck',
    command: true,
    body: true,
    errors: { 404: ['CREDIT_CHECK_NOT_FOUND'], 409: ['ALREADY_COMPLETED'] },
  })
  @ApiOkResponse({ type: CompleteCreditCheckResponseDto })
  complete(
    @Param() params: CreditCheckParamsDto,
    @Body() body: CompleteCreditCheckRequestDto,
    @CurrentPrincipal() principal: Principal,
    @RequestHeaders() headers: CommandHeaders,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const input = { creditCheckId: params.id, outcome: body.outcome, score: body.score };
    return this.http.run(completeCreditCheckCommand, input, input, { principal, headers, res });
  }
}
