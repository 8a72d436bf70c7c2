import { Controller, Get, Param, Query, type Type as Class } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import type { EventCatalog } from '@event-spine/events';
import { ApiError, ApiRoute } from '@event-spine/http';
import { AsOfQueryDto } from './as-of.query.dto';
import { SubjectReader } from './subject-reader';
import { subjectParamsDto } from '@event-spine/event-log';

export class SubjectStateDto {
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ minimum: 1, description: 'the sequence of the last event folded' }) sequence!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'the subject’s state as the domain’s model folds its events; its shape is the domain’s',
  })
  state!: unknown;
}

/**
 * The subject types whose state a domain's model folds. The data-subject type is the platform's: its events record
 * erasures, which no domain model folds, and its history (`/events`) is all there is to read of it.
 */
export function foldedSubjectTypes(catalog: EventCatalog): string[] {
  return catalog.subjectTypes.filter((t) => t !== catalog.dataSubjectType);
}

/**
 * A subject's state for any subject type of the domain, now or as of a time, without a route of the domain's own:
 * what an operator's tools read when the domain declares no query for a subject type. Built per catalog (as the
 * subject-history controller is), so that validation and the OpenAPI enum name the catalog's subject types.
 */
export function subjectStateHttpController(catalog: EventCatalog): Class {
  class SubjectStateParamsDto extends subjectParamsDto(foldedSubjectTypes(catalog)) {}

  @ApiTags('events')
  @Authenticated()
  @Controller('v1/subjects')
  class SubjectStateHttpController {
    constructor(private readonly subjects: SubjectReader) {}

    @Get(':subjectType/:subjectId/state')
    @ApiRoute({
      summary: 'A subject’s state folded by the domain’s model, now or as the system knew it at a time',
      operationId: 'getSubjectState',
      errors: { 404: ['SUBJECT_NOT_FOUND'] },
    })
    @ApiOkResponse({ type: SubjectStateDto })
    async get(
      @Param() params: SubjectStateParamsDto,
      @Query() query: AsOfQueryDto,
      @CurrentPrincipal() principal: Principal,
    ): Promise<SubjectStateDto> {
      const { subjectType, subjectId } = params;
      if (!catalog.isSubjectId(subjectType, subjectId)) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
          {
            field: 'subjectId',
            errors: [`subjectId must match ${catalog.subjectIdPattern(subjectType)} for ${subjectType} subjects`],
          },
        ]);
      }
      const asOf = query.asOf === undefined ? undefined : new Date(query.asOf);
      const { state, sequence } = await this.subjects.read(principal.tenantId, { subjectType, subjectId }, asOf);
      if (sequence === 0) {
        throw new DomainError(
          'not-found',
          'SUBJECT_NOT_FOUND',
          asOf
            ? `${subjectType} ${subjectId} had no events as of ${asOf.toISOString()}`
            : `${subjectType} ${subjectId} does not exist`,
        );
      }
      return { subjectType, subjectId, sequence, state };
    }
  }

  return SubjectStateHttpController;
}
