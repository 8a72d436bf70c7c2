import { Controller, Get, Inject, Param, Query, type Type as Class } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Min } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import type { EventCatalog } from '@event-spine/events';
import { ApiError, ApiRoute, EventListDto } from '@event-spine/http';
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
 * The path parameters of a per-subject route over these subject types. A class per route family: validation and the
 * OpenAPI enum read the types from the decorators, which run when the class is declared.
 */
export function subjectParamsDto(subjectTypes: readonly string[]): Class<SubjectParams> {
  class SubjectParamsDto implements SubjectParams {
    @ApiProperty({ enum: subjectTypes })
    @IsIn(subjectTypes, { message: `subjectType must be one of ${subjectTypes.join(', ')}` })
    subjectType!: string;

    @ApiProperty({ description: 'a UUID unless the subject type’s catalog entry says otherwise' })
    @IsString()
    @Length(1, 128, { message: 'subjectId must be 1 to 128 characters' })
    subjectId!: string;
  }
  return SubjectParamsDto;
}

/**
 * The subject-history controller for one catalog. Built per catalog (as Nest's `AuthGuard('jwt')` is per strategy):
 * the path's subject types are known only with the catalog, and validation and the OpenAPI enum read them from the
 * decorators, which run when the class is declared.
 */
export function subjectEventsHttpController(catalog: EventCatalog): Class {
  class SubjectParamsDto extends subjectParamsDto(catalog.subjectTypes) {}

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
      if (!this.catalog.isSubjectId(params.subjectType, params.subjectId)) {
        const pattern = this.catalog.subjectIdPattern(params.subjectType);
        throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
          { field: 'subjectId', errors: [`subjectId must match ${pattern} for ${params.subjectType} subjects`] },
        ]);
      }
      // The log, not the current state: a subject recorded only by an import or an older deployment has a history too.
      const exists = await this.db.query<unknown[]>(
        `SELECT 1 FROM event_log WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 LIMIT 1`,
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
