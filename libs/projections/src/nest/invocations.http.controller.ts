import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import type { Pool } from 'pg';
import { Authenticated, CurrentPrincipal, isAdmin, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { causalStatus, subjectPositionKey, type SubjectPosition } from '../causality';
import { readSubjectPositions } from '../subject-positions.store';
import type { CausalKey } from '@event-spine/events';
import type { CausalEvent } from './event-log-causality';
import {
  PROJECTIONS_OPTIONS,
  PROJECTIONS_POOL,
  readMaxWaitMs,
  type ProjectionsModuleOptions,
} from './projections.options';

export class InvocationIdParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'actionInvocationId must be a UUID' })
  actionInvocationId!: string;
}

export class CorrelationIdParamsDto {
  @ApiProperty()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'correlationId must be visible ASCII characters' })
  correlationId!: string;
}

export class CausalityQueryDto {
  @ApiPropertyOptional({
    description: 'wait up to this many ms until every event is published and applied (a read-your-writes barrier)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'wait must be an integer' })
  @Min(0)
  @Max(60000)
  wait?: number;
}

class ProjectionStateDto {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['applied', 'pending', 'parked', 'not-handled'] }) state!: string;
  @ApiPropertyOptional({ description: 'why the subject is parked' }) reason?: string;
}

class CausalEventStatusDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty() sequence!: number;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ description: '{published, topic?, partition?, offset?}', type: 'object', additionalProperties: true })
  publication!: Record<string, unknown>;
  @ApiProperty({ type: [ProjectionStateDto] }) projections!: ProjectionStateDto[];
}

export class CausalityDto {
  @ApiPropertyOptional({ format: 'uuid' }) actionInvocationId?: string;
  @ApiPropertyOptional() correlationId?: string;
  @ApiProperty({ description: 'every event published and applied by every projection that handles it' })
  complete!: boolean;
  @ApiProperty({ description: 'an event waits behind a parked subject (retry or skip it)' }) blocked!: boolean;
  @ApiProperty({ type: [CausalEventStatusDto] }) events!: CausalEventStatusDto[];
}

/**
 * "What did this command produce, and has every projection applied it?": the invocation's (or correlation's) events
 * from the command service's log, each with its place on Kafka and, per projection, applied / pending / parked.
 * With `wait`, a read-your-writes barrier across every projection. Tenant-scoped; an admin or the command's own actor.
 */
@ApiTags('admin')
@Authenticated()
@Controller('admin')
export class InvocationsHttpController {
  constructor(
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
    @Inject(PROJECTIONS_OPTIONS) private readonly options: ProjectionsModuleOptions,
  ) {}

  @Get('invocations/:actionInvocationId')
  @ApiRoute({
    summary: 'What one command produced, whether it is published, and whether every projection applied it',
    operationId: 'getInvocation',
    errors: {
      403: ['NOT_YOUR_INVOCATION'],
      404: ['INVOCATION_NOT_FOUND'],
      503: ['NOT_YET_PROJECTED', 'EVENT_LOG_UNAVAILABLE'],
    },
  })
  @ApiOkResponse({ type: CausalityDto })
  invocation(
    @Param() params: InvocationIdParamsDto,
    @Query() query: CausalityQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.follow(principal, { actionInvocationId: params.actionInvocationId }, query.wait);
  }

  @Get('correlations/:correlationId')
  @ApiRoute({
    summary: 'The same for every command of one conversation (correlation id)',
    operationId: 'getCorrelation',
    errors: {
      403: ['NOT_YOUR_INVOCATION'],
      404: ['INVOCATION_NOT_FOUND'],
      503: ['NOT_YET_PROJECTED', 'EVENT_LOG_UNAVAILABLE'],
    },
  })
  @ApiOkResponse({ type: CausalityDto })
  correlation(
    @Param() params: CorrelationIdParamsDto,
    @Query() query: CausalityQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.follow(principal, { correlationId: params.correlationId }, query.wait);
  }

  private async follow(principal: Principal, key: CausalKey, waitMs = 0): Promise<CausalityDto> {
    const deadline = Date.now() + Math.min(waitMs, readMaxWaitMs(this.options));
    for (;;) {
      const events = await this.events(principal, key);
      const view = await this.view(events, key);
      if (view.complete || view.blocked || waitMs === 0) return view;
      if (Date.now() >= deadline) {
        throw new ApiError(503, 'NOT_YET_PROJECTED', 'Not every event is published and applied yet', {
          retryAfterSeconds: 1,
          status: view,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async events(principal: Principal, key: CausalKey): Promise<CausalEvent[]> {
    const reader = this.options.causality;
    if (!reader) {
      throw new ApiError(503, 'EVENT_LOG_UNAVAILABLE', 'This projector has no command service to read the log from');
    }
    let events: CausalEvent[] | undefined;
    try {
      events = await reader(principal.tenantId, key);
    } catch (error) {
      throw new ApiError(503, 'EVENT_LOG_UNAVAILABLE', `The event log could not be read: ${String(error)}`);
    }
    if (!events) throw new ApiError(404, 'INVOCATION_NOT_FOUND', 'No events were recorded for it in this tenant');
    // An admin sees any command of the tenant; anyone else only their own.
    if (!isAdmin(principal) && events.some((e) => e.actorId !== principal.actorId)) {
      throw new ApiError(403, 'NOT_YOUR_INVOCATION', 'Only an admin or the actor who sent the command may follow it');
    }
    return events;
  }

  private async view(events: CausalEvent[], key: CausalKey): Promise<CausalityDto> {
    const rows = await readSubjectPositions(this.pool, events, false);
    const positions = new Map<string, SubjectPosition>(
      rows.map((r) => [
        subjectPositionKey({ tenantId: r.tenant_id, subjectType: r.subject_type, subjectId: r.subject_id }),
        { last: r.last_sequence, parkedReason: r.parked_reason },
      ]),
    );
    const status = causalStatus(events, this.options.projections, positions);
    return {
      ...key,
      complete: status.complete,
      blocked: status.blocked,
      events: events.map((e, i) => ({
        id: e.id,
        eventType: e.eventType,
        subjectType: e.subjectType,
        subjectId: e.subjectId,
        sequence: e.sequence,
        recordedAt: e.recordedAt,
        publication: { ...e.publication },
        projections: status.events[i].projections,
      })),
    };
  }
}
