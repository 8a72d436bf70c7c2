import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { AsOfQueryDto, SubjectReader } from '@event-spine/commands';
import { ApiRoute } from '@event-spine/http';
import { CHANNELS, PURPOSES } from '../../contract';
import { customer } from '../../domain/consents.decide';
import { ConsentsErrors } from '../../domain/consents.errors';
import type { CustomerState } from '../../domain/customer';
import { CustomerParamsDto } from '../../shared/params.dto';

export class ConsentViewDto {
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty({ enum: ['active', 'revoked'] }) status!: string;
  @ApiProperty({ type: [String] }) scope!: string[];
  @ApiProperty({ enum: CHANNELS }) grantedVia!: string;
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiProperty({ format: 'date-time', required: false }) revokedAt?: string;
  @ApiProperty({ format: 'date-time', required: false }) expiresAt?: string;
  @ApiProperty({ format: 'uuid' }) consentEventId!: string;
}

export class CustomerViewDto {
  @ApiProperty() customerId!: string;
  @ApiProperty({ type: [ConsentViewDto] }) consents!: ConsentViewDto[];
  @ApiProperty() sequence!: number;
}

@ApiTags('consents')
@Authenticated()
@Controller('v1/customers')
export class GetCustomerHttpController {
  constructor(private readonly subjects: SubjectReader) {}

  @Get(':customerId')
  @ApiRoute({
    summary: 'A customer’s consents as the event log knows them, now or as of a time',
    operationId: 'getCustomer',
    errors: { 404: ['CUSTOMER_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: CustomerViewDto })
  async get(
    @Param() params: CustomerParamsDto,
    @Query() query: AsOfQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CustomerViewDto> {
    const asOf = query.asOf ? new Date(query.asOf) : undefined;
    const { state, sequence } = await this.subjects.read<CustomerState>(
      principal.tenantId,
      customer(params.customerId),
      asOf,
    );
    if (sequence === 0) throw ConsentsErrors.customerNotFound(params.customerId);
    return { customerId: params.customerId, consents: Object.values(state.consents), sequence };
  }
}
