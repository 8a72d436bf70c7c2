import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import type { DataSource } from 'typeorm';
import { PageQueryDto } from '../page.query.dto';
import { Authenticated, CurrentPrincipal, type Principal } from '@spine/auth';
import { DomainError } from '@spine/domain';
import { readSubjectEvents } from '@spine/event-log';
import { ledgerCatalog } from '@ledger/contract';
import { ApiRoute, EventListDto } from '@spine/http';

export class SubjectParamsDto {
  @ApiProperty({ enum: ledgerCatalog.subjectTypes })
  @IsIn(ledgerCatalog.subjectTypes, { message: `subjectType must be one of ${ledgerCatalog.subjectTypes.join(', ')}` })
  subjectType!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'subjectId must be a UUID' })
  subjectId!: string;
}

export class SubjectEventsQueryDto extends PageQueryDto {
  @ApiProperty({ required: false, minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'afterSequence must be an integer' })
  @Min(0)
  afterSequence?: number;
}

@ApiTags('events')
@Authenticated()
@Controller('v1/subjects')
export class SubjectEventsHttpController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A subject's history in sequence order, events upcast to their current schema versions. */
  @Get(':subjectType/:subjectId/events')
  @ApiRoute({
    summary: 'A subject’s events in sequence order, upcast to current schema versions',
    operationId: 'listSubjectEvents',
    errors: { 404: ['SUBJECT_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: EventListDto })
  async list(
    @Param() params: SubjectParamsDto,
    @Query() query: SubjectEventsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    const exists = await this.db.query<unknown[]>(
      `SELECT 1 FROM subject_state WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3`,
      [principal.tenantId, params.subjectType, params.subjectId],
    );
    if (exists.length === 0) {
      throw new DomainError(
        'not-found',
        'SUBJECT_NOT_FOUND',
        `${params.subjectType} ${params.subjectId} does not exist`,
      );
    }
    const events = await readSubjectEvents(this.db, ledgerCatalog, {
      tenantId: principal.tenantId,
      subjectType: params.subjectType,
      subjectId: params.subjectId,
      afterSequence: query.afterSequence ?? 0,
      limit: query.limit ?? 100,
    });
    return { events };
  }
}
