import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import type { Pool } from 'pg';
import { AdminOnly, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import { ApiError, ApiRoute } from '@event-spine/http';
import { KafkaAdmin } from '@event-spine/kafka';
import { recordAdminAction } from '../admin-audit';
import { ProjectionRunner } from '../projection-runner';
import { ParkedListDto, ProjectionsDto, ReleaseResultDto } from './admin-responses.dto';
import {
  PROJECTIONS_OPTIONS,
  PROJECTIONS_POOL,
  projectionNames,
  type ProjectionsModuleOptions,
} from './projections.options';

export class ParkedSubjectParamsDto {
  // Checked against the domain's catalog in the handler: a decorator cannot know which domain serves the route.
  @ApiProperty({ pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'a subject type of the domain’s event catalog' })
  @Matches(/^[a-z][a-z0-9-]{0,63}$/, { message: 'subjectType must be a subject type of the event catalog' })
  subjectType!: string;

  // Not only UUIDs: an unreadable message is parked under its Kafka key, whatever that names.
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200, { message: 'subjectId must be 1 to 200 characters' })
  subjectId!: string;
}

/** Operators' view and controls. Admin role required; every action is written to the append-only audit log. */
@ApiTags('admin')
@AdminOnly()
@Controller('admin')
export class ProjectionsAdminHttpController {
  private readonly groupId: string;
  private readonly topics: string[];

  constructor(
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
    @Inject(PROJECTIONS_OPTIONS) private readonly options: ProjectionsModuleOptions,
    private readonly runner: ProjectionRunner,
    private readonly kafka: KafkaAdmin,
  ) {
    ({ groupId: this.groupId, topics: this.topics } = projectionNames(options));
  }

  /** 400 in the shape of the validation pipe's answer: the catalog decides which subject types exist. */
  private knownSubjectType(subjectType: string): void {
    const known = this.options.catalog.subjectTypes;
    if (known.includes(subjectType)) return;
    throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
      { field: 'subjectType', errors: [`subjectType must be one of ${known.join(', ')}`] },
    ]);
  }

  // The partitions are shared by every tenant: their figures are the pipeline's health, not any tenant's data. What
  // names subjects (parked ones) is the admin's own tenant only.
  @Get('projections')
  @ApiRoute({
    summary: 'Projections, their positions per partition, lag, offset resets and parked subjects',
    operationId: 'listProjections',
    role: 'admin',
  })
  @ApiOkResponse({ type: ProjectionsDto })
  async projections(@CurrentPrincipal() principal: Principal) {
    const { rows } = await this.pool.query<{
      topic: string;
      partition: number;
      next_offset: string;
      applied: string;
      duplicates: string;
      parked: string;
      resets: number;
      last_reset: Record<string, string> | null;
      source_gaps: number;
      last_source_gap: Record<string, string> | null;
    }>(
      `SELECT topic, partition, next_offset, applied, duplicates, parked, resets, last_reset, source_gaps,
              last_source_gap FROM projector_offsets
        WHERE consumer = $1 ORDER BY topic, partition`,
      [this.groupId],
    );
    const ends = new Map<string, string>();
    for (const topic of this.topics) {
      for (const p of await this.kafka.admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${p.partition}`, p.high);
    }
    const partitions = [...ends].map(([key, high]) => {
      const [topic, partition] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      const row = rows.find((r) => r.topic === topic && r.partition === partition);
      const offset = Number(row?.next_offset ?? 0);
      return {
        topic,
        partition,
        offset,
        // Not clamped: a negative lag is a stored position beyond the partition's end (an offset reset not yet seen
        // by a fetch), which an operator must see rather than a reassuring zero.
        lag: Number(high) - offset,
        applied: Number(row?.applied ?? 0),
        duplicates: Number(row?.duplicates ?? 0),
        parked: Number(row?.parked ?? 0),
        offsetResets: row?.resets ?? 0,
        lastOffsetReset: row?.last_reset ?? null,
        sourceGaps: row?.source_gaps ?? 0,
        lastSourceGap: row?.last_source_gap ?? null,
      };
    });
    const { rows: parkedSubjects } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM projector_subjects WHERE tenant_id = $1 AND parked_reason IS NOT NULL`,
      [principal.tenantId],
    );
    return {
      consumerGroup: this.groupId,
      projections: this.options.projections.map((p) => ({
        name: p.name,
        version: p.version,
        handles: p.handles,
        tables: p.tables,
        // The three projections are applied together in one transaction per batch: they share these positions.
        partitions,
        parkedSubjects: parkedSubjects[0]?.n ?? 0,
      })),
    };
  }

  @Get('parked')
  @ApiRoute({
    summary: 'The tenant’s parked subjects and the events waiting behind each',
    operationId: 'listParked',
    role: 'admin',
  })
  @ApiOkResponse({ type: ParkedListDto })
  async parked(@CurrentPrincipal() principal: Principal) {
    const { rows } = await this.pool.query(
      `SELECT s.subject_type AS "subjectType", s.subject_id AS "subjectId", s.parked_reason AS reason,
              s.parked_at AS "parkedAt", s.last_sequence AS "lastAppliedSequence",
              coalesce(json_agg(json_build_object('sequence', e.sequence, 'eventId', e.event_id, 'reason', e.reason,
                        'topic', e.topic, 'partition', e.partition, 'offset', e.kafka_offset) ORDER BY e.id)
                       FILTER (WHERE e.id IS NOT NULL), '[]') AS events
         FROM projector_subjects s
         LEFT JOIN parked_events e USING (tenant_id, subject_type, subject_id)
        WHERE s.tenant_id = $1 AND s.parked_reason IS NOT NULL
        GROUP BY s.subject_type, s.subject_id, s.parked_reason, s.parked_at, s.last_sequence
        ORDER BY s.parked_at`,
      [principal.tenantId],
    );
    return { parked: rows };
  }

  @Post('parked/:subjectType/:subjectId/retry')
  @ApiRoute({
    summary: 'Apply a parked subject’s events again, in sequence order',
    operationId: 'retryParked',
    role: 'admin',
    errors: { 404: ['NOT_PARKED'] },
  })
  @ApiOkResponse({ type: ReleaseResultDto })
  @HttpCode(200)
  retry(@Param() params: ParkedSubjectParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.release(params, principal, false);
  }

  @Post('parked/:subjectType/:subjectId/skip')
  @ApiRoute({
    summary: 'Pass over a parked subject’s first event (or missing sequences) and apply the rest',
    operationId: 'skipParked',
    role: 'admin',
    errors: { 404: ['NOT_PARKED'] },
  })
  @ApiOkResponse({ type: ReleaseResultDto })
  @HttpCode(200)
  skip(@Param() params: ParkedSubjectParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.release(params, principal, true);
  }

  private async release(params: ParkedSubjectParamsDto, principal: Principal, skipFirst: boolean) {
    this.knownSubjectType(params.subjectType);
    const action = skipFirst ? 'parked.skip' : 'parked.retry';
    const target = { tenantId: principal.tenantId, subjectType: params.subjectType, subjectId: params.subjectId };
    const audit = (outcome: string, details: unknown) =>
      recordAdminAction(this.pool, {
        actorId: principal.actorId,
        tenantId: principal.tenantId,
        action,
        target,
        outcome,
        details,
      });
    const { rows } = await this.pool.query(
      `SELECT 1 FROM projector_subjects WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND parked_reason IS NOT NULL`,
      [target.tenantId, target.subjectType, target.subjectId],
    );
    if (rows.length === 0) {
      await audit('refused: not parked', undefined);
      throw new DomainError('not-found', 'NOT_PARKED', `${params.subjectType} ${params.subjectId} is not parked`);
    }
    const result = await this.runner.releaseParked(target, skipFirst);
    const stillParked = result.parked > 0;
    const body = {
      subjectType: params.subjectType,
      subjectId: params.subjectId,
      released: result.released,
      applied: result.applied,
      duplicates: result.duplicates,
      parkedAgain: result.parked,
      skippedEvent: result.skippedEvent,
      state: stillParked ? 'parked' : 'flowing',
    };
    await audit(stillParked ? 'still parked' : 'released', body);
    return body;
  }
}
