import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import type { Pool } from 'pg';
import { AdminOnly, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { listAdminActions } from '../admin-audit';
import { PROJECTIONS_POOL } from './projections.options';

export const AUDIT_LOG_DEFAULT_LIMIT = 50;
export const AUDIT_LOG_MAX_LIMIT = 500;

const ISO = { strict: true, strictSeparator: true } as const;

export class AdminAuditLogQueryDto {
  @ApiPropertyOptional({
    maxLength: 100,
    description:
      'an action (`parked.retry`), or a family of actions: `parked` also finds `parked.retry`, `parked.skip`',
  })
  @IsOptional()
  @IsString({ message: 'action must be a string' })
  @Length(1, 100, { message: 'action must be 1 to 100 characters' })
  action?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'who acted (the token’s actor id), exactly' })
  @IsOptional()
  @IsString({ message: 'actorId must be a string' })
  @Length(1, 200, { message: 'actorId must be 1 to 200 characters' })
  actorId?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    description: 'how it ended, from its start: `refused` finds every `refused: …`, `released` only releases',
  })
  @IsOptional()
  @IsString({ message: 'outcome must be a string' })
  @Length(1, 200, { message: 'outcome must be 1 to 200 characters' })
  outcome?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'entries written at or after this time' })
  @IsOptional()
  @IsISO8601(ISO, { message: 'since must be an ISO-8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'entries written at or before this time' })
  @IsOptional()
  @IsISO8601(ISO, { message: 'until must be an ISO-8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, description: 'entries older than this id: the previous page’s `nextBefore`' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'before must be an integer' })
  @Min(1, { message: 'before must be at least 1' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'before is too large' })
  before?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_LOG_MAX_LIMIT, default: AUDIT_LOG_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(AUDIT_LOG_MAX_LIMIT, { message: `limit must not be greater than ${AUDIT_LOG_MAX_LIMIT}` })
  limit?: number;
}

export class AdminAuditEntryDto {
  @ApiProperty({ description: 'increases with every entry written; the page cursor' }) id!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() actorId!: string;
  @ApiProperty() tenantId!: string;
  @ApiProperty({ example: 'parked.retry', description: 'parked.retry, parked.skip, replay.request, replay.cancel, …' })
  action!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'what the action was on' })
  target!: Record<string, unknown>;
  @ApiProperty({ example: 'released', description: 'released, still parked, refused: not parked, completed, …' })
  outcome!: string;
  @ApiProperty({ nullable: true, description: 'what the action answered or found, when it says more than `outcome`' })
  details!: unknown;
}

export class AdminAuditLogDto {
  @ApiProperty({ type: [AdminAuditEntryDto], description: 'newest first' }) entries!: AdminAuditEntryDto[];
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'pass as `before` for the next (older) page; null: this is the last page',
  })
  nextBefore!: number | null;
}

/**
 * Who did what to the projector, when, and how it ended: the append-only log every admin action writes (parked
 * retries and skips, replays), read back for the admin's own tenant only.
 */
@ApiTags('admin')
@AdminOnly()
@Controller('admin')
export class AdminAuditLogHttpController {
  constructor(@Inject(PROJECTIONS_POOL) private readonly pool: Pool) {}

  @Get('audit-log')
  @ApiRoute({
    summary: 'The tenant’s admin audit log, newest first, filtered and paged',
    operationId: 'listAdminAuditLog',
    role: 'admin',
  })
  @ApiOkResponse({ type: AdminAuditLogDto })
  async list(@Query() query: AdminAuditLogQueryDto, @CurrentPrincipal() principal: Principal) {
    const since = query.since === undefined ? undefined : new Date(query.since);
    const until = query.until === undefined ? undefined : new Date(query.until);
    if (since && until && until < since) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'until', errors: ['until must not be before since'] },
      ]);
    }
    return listAdminActions(this.pool, {
      tenantId: principal.tenantId,
      action: query.action,
      actorId: query.actorId,
      outcome: query.outcome,
      since,
      until,
      before: query.before,
      limit: query.limit ?? AUDIT_LOG_DEFAULT_LIMIT,
    });
  }
}
