import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsISO8601, IsOptional } from 'class-validator';
import type { FastifyReply } from 'fastify';
import type { DataSource } from 'typeorm';
import { Authenticated, CurrentPrincipal, type Principal } from '@spine/auth';
import { readSubjectEvents } from '@spine/event-log';
import type { AccountEvent } from '@spine/events';
import { AccountParamsDto } from '../../commands/account-params.dto';
import { evolveAccount, initialAccount, type AccountState } from '../../domain/account';
import { LedgerErrors } from '../../domain/ledger.errors';

export class GetAccountQueryDto {
  @ApiProperty({
    required: false,
    format: 'date-time',
    description: 'answer as the system knew it then: the fold of the events recorded at or before this time',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'asOf must be an ISO-8601 date-time' })
  asOf?: string;
}

export class AccountStateDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() ownerName!: string;
  @ApiProperty() currency!: string;
  @ApiProperty() balance!: number;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: string;
  @ApiProperty() sequence!: number;
}

export function accountView(accountId: string, state: AccountState, sequence: number) {
  if (state.status === 'none') throw LedgerErrors.accountNotFound(accountId);
  const { ownerName, currency, balance, status } = state;
  return { accountId, ownerName, currency, balance, status, sequence };
}

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class GetAccountHttpController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':id')
  @ApiOkResponse({ type: AccountStateDto })
  async get(
    @Param() params: AccountParamsDto,
    @Query() query: GetAccountQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const view = query.asOf
      ? await this.asOf(principal.tenantId, params.id, new Date(query.asOf))
      : await this.current(principal.tenantId, params.id);
    void res.header('etag', `"${view.sequence}"`);
    return view;
  }

  private async current(tenantId: string, accountId: string) {
    const rows = await this.db.query<{ state: AccountState; sequence: number }[]>(
      `SELECT state, sequence FROM subject_state WHERE tenant_id = $1 AND subject_type = 'account' AND subject_id = $2`,
      [tenantId, accountId],
    );
    return accountView(accountId, rows[0]?.state ?? initialAccount, rows[0]?.sequence ?? 0);
  }

  /** Temporal query: the same pure fold the command side keeps state with, over the events known by then. */
  private async asOf(tenantId: string, accountId: string, asOf: Date) {
    const events = await readSubjectEvents(this.db, {
      tenantId,
      subjectType: 'account',
      subjectId: accountId,
      recordedUpTo: asOf,
      limit: 1_000_000,
    });
    const state = events.reduce((s, e) => evolveAccount(s, e as unknown as AccountEvent), initialAccount);
    return accountView(accountId, state, events.at(-1)?.sequence ?? 0);
  }
}
