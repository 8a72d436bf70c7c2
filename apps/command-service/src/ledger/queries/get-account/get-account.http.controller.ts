import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { AsOfQueryDto } from '@event-spine/commands';
import { AccountParamsDto } from '../../commands/account-params.dto';
import { AccountReader } from './account.reader';
import { ApiRoute } from '@event-spine/http';

/** The account's query: `?asOf=`. */
export class GetAccountQueryDto extends AsOfQueryDto {}

export class AccountStateDto {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'personal data: null once the holder was forgotten' })
  ownerName!: string | null;
  @ApiProperty() currency!: string;
  @ApiProperty() balance!: number;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: string;
  @ApiProperty() sequence!: number;
}

@ApiTags('accounts')
@Authenticated()
@Controller('v1/accounts')
export class GetAccountHttpController {
  constructor(private readonly accounts: AccountReader) {}

  @Get(':id')
  @ApiRoute({
    summary: 'An account as the event log knows it, now or as of a time',
    operationId: 'getAccount',
    errors: { 404: ['ACCOUNT_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: AccountStateDto })
  async get(
    @Param() params: AccountParamsDto,
    @Query() query: GetAccountQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const view = await this.accounts.read(principal.tenantId, params.id, query.asOf ? new Date(query.asOf) : undefined);
    void res.header('etag', `"${view.sequence}"`);
    return view;
  }
}
