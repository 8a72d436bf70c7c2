import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { SubjectReader } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { OUTCOMES, PURPOSES } from '../../contract';
import { creditCheck } from '../../domain/consents.decide';
import { ConsentsErrors } from '../../domain/consents.errors';
import type { CreditCheckState } from '../../domain/credit-check';
import { CreditCheckParamsDto } from '../../shared/params.dto';

export class CreditCheckViewDto {
  @ApiProperty({ format: 'uuid' }) creditCheckId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty() bureau!: string;
  @ApiProperty({ format: 'uuid' }) consentEventId!: string;
  @ApiProperty({ enum: OUTCOMES, required: false }) outcome?: string;
  @ApiProperty({ required: false }) score?: number;
  @ApiProperty() sequence!: number;
}

@ApiTags('credit checks')
@Authenticated()
@Controller('v1/credit-checks')
export class GetCreditCheckHttpController {
  constructor(private readonly subjects: SubjectReader) {}

  @Get(':id')
  @ApiRoute({
    summary: 'A credit check and the consent that allowed it',
    operationId: 'getCreditCheck',
    errors: { 404: ['CREDIT_CHECK_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: CreditCheckViewDto })
  async get(
    @Param() params: CreditCheckParamsDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreditCheckViewDto> {
    const { state, sequence } = await this.subjects.read<CreditCheckState>(principal.tenantId, creditCheck(params.id));
    if (state.status === 'none') throw ConsentsErrors.creditCheckNotFound(params.id);
    const { customerId, purpose, bureau, consentEventId, outcome, score } = state;
    return {
      creditCheckId: params.id,
      customerId,
      purpose,
      bureau,
      consentEventId,
      ...(outcome === undefined ? {} : { outcome, score }),
      sequence,
    };
  }
}
