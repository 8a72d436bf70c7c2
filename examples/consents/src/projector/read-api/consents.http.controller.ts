import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiRoute } from '@event-spine/http';
import {
  PROJECTIONS_OPTIONS,
  PROJECTIONS_POOL,
  readMaxWaitMs,
  ReadYourWritesQueryDto,
  waitForSequence,
  type ProjectionsModuleOptions,
} from '@event-spine/projections';
import { CHANNELS, PURPOSES } from '../../contract';
import { CustomerParamsDto } from '../../shared/params.dto';

export class ConsentStatusDto {
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty({ enum: ['active', 'revoked'] }) status!: string;
  @ApiProperty({ type: [String] }) scope!: string[];
  @ApiProperty({ enum: CHANNELS }) grantedVia!: string;
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiProperty({ format: 'date-time', required: false }) revokedAt?: string;
  @ApiProperty({ format: 'date-time', required: false }) expiresAt?: string;
  @ApiProperty({ description: 'the customer’s last event applied to this row' }) sequence!: number;
}

export class ConsentStatusListDto {
  @ApiProperty({ type: [ConsentStatusDto] }) consents!: ConsentStatusDto[];
}

/** The consent-status read model, tenant-scoped, with read-your-writes waits. */
@ApiTags('read models')
@Authenticated()
@Controller('v1/customers')
export class ConsentsHttpController {
  constructor(
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
    @Inject(PROJECTIONS_OPTIONS) private readonly options: ProjectionsModuleOptions,
  ) {}

  @Get(':customerId/consents')
  @ApiRoute({
    summary: 'A customer’s consents (read model); can wait for a sequence (read-your-writes)',
    operationId: 'listCustomerConsents',
    errors: { 503: ['NOT_YET_PROJECTED'] },
  })
  @ApiOkResponse({ type: ConsentStatusListDto })
  async consents(
    @Param() params: CustomerParamsDto,
    @Query() query: ReadYourWritesQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ConsentStatusListDto> {
    await waitForSequence({
      subject: `Customer ${params.customerId}`,
      ...query,
      maxWaitMs: readMaxWaitMs(this.options),
      applied: async () => {
        const { rows } = await this.pool.query<{ applied: number }>(
          `SELECT coalesce(max(sequence), 0) AS applied FROM consent_status WHERE tenant_id = $1 AND customer_id = $2`,
          [principal.tenantId, params.customerId],
        );
        return rows[0].applied;
      },
    });
    const { rows } = await this.pool.query<ConsentStatusDto>(
      `SELECT customer_id AS "customerId", purpose, status, scope, granted_via AS "grantedVia",
              granted_at AS "grantedAt", revoked_at AS "revokedAt", expires_at AS "expiresAt", sequence
         FROM consent_status WHERE tenant_id = $1 AND customer_id = $2 ORDER BY purpose`,
      [principal.tenantId, params.customerId],
    );
    return { consents: rows.map(withoutNulls) };
  }
}

/** Absent, not null: optional fields of the contract are left out when they have no value. */
export function withoutNulls<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) as T;
}
