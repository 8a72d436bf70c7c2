import { Controller, Get, Param, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { AdminOnly, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError } from '@event-spine/http';
import { ServiceDirectory } from '../services/service-directory';
import { AuditLogReader } from './audit-log.reader';

export class AuditQueryDto {
  @IsOptional() @IsString() @Length(1, 100) action?: string;
  @IsOptional() @IsString() @Length(1, 200) actor?: string;
  @IsOptional() @IsString() @Length(1, 200) outcome?: string;
  @IsOptional() @IsISO8601({ strict: true }, { message: 'since must be an ISO-8601 date-time' }) since?: string;
  @IsOptional() @IsISO8601({ strict: true }, { message: 'until must be an ISO-8601 date-time' }) until?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) before?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

/** The admin audit log of a domain's projector: who did what, when, with which outcome; the caller's tenant only. */
@AdminOnly()
@Controller('api/audit')
export class AuditHttpController {
  constructor(
    private readonly directory: ServiceDirectory,
    private readonly reader: AuditLogReader,
  ) {}

  @Get(':domain')
  async list(@Param('domain') domain: string, @Query() query: AuditQueryDto, @CurrentPrincipal() principal: Principal) {
    if (!this.directory.domain(domain)) throw new ApiError(404, 'DOMAIN_NOT_FOUND', `no domain ${domain}`);
    if (!this.reader.available(domain))
      throw new ApiError(
        503,
        'AUDIT_LOG_UNAVAILABLE',
        `the console has no database for ${domain}'s projector (CONSOLE_DATABASE_BASE_URL or databaseUrl in CONSOLE_SERVICES)`,
      );
    const limit = query.limit ?? 100;
    const entries = await this.reader.read(domain, {
      tenantId: principal.tenantId,
      action: query.action,
      actorId: query.actor,
      outcome: query.outcome,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      before: query.before,
      limit,
    });
    const list = entries ?? [];
    return { entries: list, nextBefore: list.length === limit ? list.at(-1)!.id : null };
  }
}
