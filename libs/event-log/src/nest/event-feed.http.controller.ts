import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import type { EventCatalog } from '@event-spine/events';
import { ApiRoute, EventFeedPageDto } from '@event-spine/http';
import { decodeCursor, encodeCursor, readFeed } from '../event-log';
import { EVENT_LOG_CATALOG } from './event-log-http.options';
import { PageQueryDto } from './page.query.dto';

export class EventFeedQueryDto extends PageQueryDto {
  @ApiProperty({ required: false, description: 'nextCursor of the previous page; absent: from the beginning' })
  @IsOptional()
  @IsString()
  @MaxLength(80)
  after?: string;
}

@ApiTags('events')
@Authenticated()
@Controller('v1/events')
export class EventFeedHttpController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(EVENT_LOG_CATALOG) private readonly catalog: EventCatalog,
  ) {}

  /**
   * The tenant's event log in order. Keep calling with `after=nextCursor`: the cursor never skips an event, also
   * when transactions commit out of id order (an event held by an open transaction appears once it commits).
   */
  @Get()
  @ApiRoute({
    summary: 'The tenant’s events in commit order, from a cursor (gap-safe feed)',
    operationId: 'readEventFeed',
    errors: { 400: ['INVALID_CURSOR'] },
  })
  @ApiOkResponse({ type: EventFeedPageDto })
  async read(@Query() query: EventFeedQueryDto, @CurrentPrincipal() principal: Principal) {
    const after = query.after ? decodeCursor(query.after) : undefined;
    const { events, next } = await readFeed(this.db, this.catalog, principal.tenantId, after, query.limit ?? 100);
    return { events, nextCursor: next ? encodeCursor(next) : null };
  }
}
