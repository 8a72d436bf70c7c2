import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import { ApiRoute } from '@event-spine/http';
import type { Pool } from 'pg';
import {
  PROJECTIONS_OPTIONS,
  PROJECTIONS_POOL,
  readMaxWaitMs,
  ReadYourWritesQueryDto,
  waitForSequence,
  type ProjectionsModuleOptions,
} from '@event-spine/projections';

export class AccountParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}

export class StatementQueryDto extends ReadYourWritesQueryDto {
  @ApiProperty({ required: false, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiProperty({ required: false, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'afterSequence must be an integer' })
  @Min(0)
  afterSequence?: number;
}

export class AccountBalanceDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() tenantId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'personal data: null once the holder was forgotten' })
  ownerName!: string | null;
  @ApiProperty({ pattern: '^[A-Z]{3}$' }) currency!: string;
  @ApiProperty({ description: 'minor units (cents)' }) balance!: number;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: string;
  @ApiProperty({ description: 'the last event of the account applied to this row' }) sequence!: number;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class StatementEntryDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ enum: ['FundsDeposited', 'FundsWithdrawn', 'EntryReversed'] }) eventType!: string;
  @ApiProperty({ description: 'the change to the balance, minor units' }) amount!: number;
  @ApiProperty() balanceAfter!: number;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
}

export class StatementDto {
  @ApiProperty({ type: [StatementEntryDto] }) entries!: StatementEntryDto[];
}

export class CurrencyTotalsDto {
  @ApiProperty() currency!: string;
  @ApiProperty() accounts!: number;
  @ApiProperty() openAccounts!: number;
  @ApiProperty({ description: 'minor units' }) totalBalance!: number;
}

export class TenantTotalsDto {
  @ApiProperty({ type: [CurrencyTotalsDto] }) totals!: CurrencyTotalsDto[];
}

interface BalanceRow {
  accountId: string;
  tenantId: string;
  ownerName: string | null;
  currency: string;
  balance: number;
  status: string;
  sequence: number;
  updatedAt: string;
}

/** The tenant-scoped read API over the read models, with read-your-writes waits. */
@ApiTags('read models')
@Authenticated()
@Controller('v1')
export class ReadModelsHttpController {
  constructor(
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
    @Inject(PROJECTIONS_OPTIONS) private readonly options: ProjectionsModuleOptions,
  ) {}

  @Get('accounts/:id')
  @ApiRoute({
    summary: 'An account’s balance (read model); can wait for a sequence (read-your-writes)',
    operationId: 'getAccountBalance',
    errors: { 404: ['ACCOUNT_NOT_FOUND'], 503: ['NOT_YET_PROJECTED'] },
  })
  @ApiOkResponse({ type: AccountBalanceDto })
  async account(
    @Param() params: AccountParamsDto,
    @Query() query: ReadYourWritesQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.waitFor(principal.tenantId, params.id, query);
    const row = await this.balance(principal.tenantId, params.id);
    if (!row) throw new DomainError('not-found', 'ACCOUNT_NOT_FOUND', `Account ${params.id} is not in the read model`);
    return row;
  }

  @Get('accounts/:id/statement')
  @ApiRoute({
    summary: 'An account’s statement lines (read model)',
    operationId: 'getAccountStatement',
    errors: { 404: ['ACCOUNT_NOT_FOUND'], 503: ['NOT_YET_PROJECTED'] },
  })
  @ApiOkResponse({ type: StatementDto })
  async statement(
    @Param() params: AccountParamsDto,
    @Query() query: StatementQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.waitFor(principal.tenantId, params.id, query);
    if (!(await this.balance(principal.tenantId, params.id))) {
      throw new DomainError('not-found', 'ACCOUNT_NOT_FOUND', `Account ${params.id} is not in the read model`);
    }
    const { rows } = await this.pool.query(
      `SELECT account_id AS "accountId", sequence, event_id AS "eventId", event_type AS "eventType", amount::float8 AS amount,
              balance_after::float8 AS "balanceAfter", recorded_at AS "recordedAt"
         FROM account_statements WHERE tenant_id = $1 AND account_id = $2 AND sequence > $3
        ORDER BY sequence LIMIT $4`,
      [principal.tenantId, params.id, query.afterSequence ?? 0, query.limit ?? 100],
    );
    return { entries: rows };
  }

  @Get('tenant/totals')
  @ApiRoute({ summary: 'The tenant’s totals per currency (read model)', operationId: 'getTenantTotals' })
  @ApiOkResponse({ type: TenantTotalsDto })
  async totals(@CurrentPrincipal() principal: Principal) {
    const { rows } = await this.pool.query(
      `SELECT currency, accounts::float8 AS accounts, open_accounts::float8 AS "openAccounts",
              total_balance::float8 AS "totalBalance"
         FROM tenant_totals WHERE tenant_id = $1 ORDER BY currency`,
      [principal.tenantId],
    );
    return { totals: rows };
  }

  private async balance(tenantId: string, accountId: string): Promise<BalanceRow | undefined> {
    const { rows } = await this.pool.query<BalanceRow>(
      `SELECT account_id AS "accountId", tenant_id AS "tenantId", owner_name AS "ownerName", currency,
              balance::float8 AS balance, status, sequence, updated_at AS "updatedAt"
         FROM account_balances WHERE tenant_id = $1 AND account_id = $2`,
      [tenantId, accountId],
    );
    return rows[0];
  }

  /** Read-your-writes: wait up to waitMs for the account to reach minSequence, else 503 NOT_YET_PROJECTED. */
  private waitFor(tenantId: string, accountId: string, query: ReadYourWritesQueryDto): Promise<void> {
    return waitForSequence({
      subject: `Account ${accountId}`,
      minSequence: query.minSequence,
      waitMs: query.waitMs,
      maxWaitMs: readMaxWaitMs(this.options),
      applied: async () => (await this.balance(tenantId, accountId))?.sequence ?? 0,
    });
  }
}
