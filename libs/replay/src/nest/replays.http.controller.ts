import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import type { Pool } from 'pg';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { ApiError, ApiRoute } from '@event-spine/http';
import { PROJECTIONS_POOL, recordAdminAction } from '@event-spine/projections';
import { DEFAULT_REPLAY_BATCH_SIZE, type ReplayFrom } from '../replay.request';
import { ReplayViewDto } from './replay-view.dto';
import { ProjectionNameParamsDto, ReplayIdParamsDto, ReplayRequestDto } from './replay-request.dto';
import { ReplayEngine } from '../replay-engine';

/** The admin replay API (SPEC section 9). A replay is always scoped to the admin's own tenant. */
@ApiTags('admin')
@AdminOnly()
@Controller('admin')
export class ReplaysHttpController {
  constructor(
    @Inject(ReplayEngine) private readonly engine: ReplayEngine,
    @Inject(PROJECTIONS_POOL) private readonly pool: Pool,
  ) {}

  @Post('projections/:name/replays')
  @ApiRoute({
    summary: 'Start a replay: a read-only preview, or a rebuild that confirms a finished preview',
    operationId: 'startReplay',
    role: 'admin',
    body: true,
    errors: {
      403: ['TENANT_SCOPE_FORBIDDEN'],
      404: ['PROJECTION_NOT_FOUND', 'REPLAY_NOT_FOUND'],
      409: ['REPLAY_IN_PROGRESS', 'CONFIRMATION_REQUIRED', 'PREVIEW_NOT_MATCHING'],
      422: ['OFFSETS_NEED_KAFKA', 'UNKNOWN_POSITION', 'SOURCE_UNAVAILABLE', 'SCOPE_NOT_SUPPORTED', 'PARTIAL_RANGE'],
    },
  })
  @ApiAcceptedResponse({ type: ReplayViewDto })
  @HttpCode(202)
  async request(
    @Param() params: ProjectionNameParamsDto,
    @Body() body: ReplayRequestDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    const who = { actorId: principal.actorId, tenantId: principal.tenantId };
    if (body.scope?.tenantId !== undefined && body.scope.tenantId !== principal.tenantId) {
      await recordAdminAction(this.pool, {
        ...who,
        action: 'replay.request',
        target: { projection: params.name, scope: body.scope },
        outcome: 'TENANT_SCOPE_FORBIDDEN',
      });
      throw new ApiError(403, 'TENANT_SCOPE_FORBIDDEN', 'a replay can only be scoped to your own tenant');
    }
    const ways = [body.from.earliest, body.from.timestamp, body.from.offsets].filter((v) => v !== undefined).length;
    if (ways !== 1) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'from', errors: ['from must have exactly one of earliest, timestamp, offsets'] },
      ]);
    }
    const from: ReplayFrom = body.from.offsets
      ? { offsets: body.from.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })) }
      : body.from.timestamp
        ? { timestamp: body.from.timestamp }
        : { earliest: true };
    return this.engine.request(
      {
        projection: params.name,
        mode: body.mode,
        source: body.source,
        from,
        scope: { tenantId: principal.tenantId, subjectId: body.scope?.subjectId },
        confirm: body.confirm,
        batchSize: body.batchSize ?? DEFAULT_REPLAY_BATCH_SIZE,
      },
      who,
    );
  }

  @Get('replays/:id')
  @ApiRoute({
    summary: 'A replay’s progress, outcome and diff',
    operationId: 'getReplay',
    role: 'admin',
    errors: { 404: ['REPLAY_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: ReplayViewDto })
  view(@Param() params: ReplayIdParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.engine.view(params.id, principal.tenantId);
  }

  @Post('replays/:id/cancel')
  @ApiRoute({
    summary: 'Cancel a running replay',
    operationId: 'cancelReplay',
    role: 'admin',
    errors: { 404: ['REPLAY_NOT_FOUND'], 409: ['REPLAY_NOT_RUNNING'] },
  })
  @ApiAcceptedResponse({ type: ReplayViewDto })
  @HttpCode(202)
  cancel(@Param() params: ReplayIdParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.engine.cancel(params.id, { actorId: principal.actorId, tenantId: principal.tenantId });
  }
}
