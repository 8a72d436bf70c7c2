import { Controller, Get, Inject, Param, Query, type Type as Class } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import type { EventCatalog } from '@event-spine/events';
import { ApiRoute, EventListDto } from '@event-spine/http';
import { readSubjectEvents } from '../event-log';
import { EVENT_LOG_CATALOG } from './event-log-http.options';
import { PageQueryDto } from './page.query.dto';

export class SubjectEventsQueryDto extends PageQueryDto {
  @ApiProperty({ required: false, minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'afterSequence must be an integer' })
  @Min(0)
  afterSequence?: number;
}

export interface SubjectParams {
  subjectType: string;
  subjectId: string;
}

/**
 * The subject-history controller for one catalog. Built per catalog (as Nest's `AuthGuard('jwt')` is per strategy):
 * the path's subject types are known only with the catalog, and validation and the OpenAPI enum read them from the
 * decorators, which run when the class is declared.
 */
export function subjectEventsHttpController(catalog: EventCatalog): Class {
  class SubjectParamsDto implements SubjectParams {
    @ApiProperty({ enum: catalog.subjectTypes })
    @IsIn(catalog.subjectTypes, { message: `subjectType must be one of ${catalog.subjectTypes.join(', ')}` })
    subjectType!: string;

    @ApiProperty({ format: 'uuid' })
    @IsUUID('all', { message: 'subjectId must be a UUID' })
    subjectId!: string;
  }

  @ApiTags('events')
  @Authenticated()
  @Controller('v1/subjects')
  class SubjectEventsHttpController {
    constructor(
      @InjectDataSource() private readonly db: DataSource,
      @Inject(EVENT_LOG_CATALOG) private readonly catalog: EventCatalog,
    ) {}

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
      const events = await readSubjectEvents(this.db, this.catalog, {
        tenantId: principal.tenantId,
        subjectType: params.subjectType,
        subjectId: params.subjectId,
        afterSequence: query.afterSequence ?? 0,
        limit: query.limit ?? 100,
      });
      return { events };
    }
  }

  return SubjectEventsHttpController;
}
