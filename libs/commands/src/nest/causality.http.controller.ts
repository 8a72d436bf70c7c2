import { Controller, Get, Inject, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsUUID, Length, Matches } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { DomainError } from '@event-spine/domain';
import { readCausalEvents } from '@event-spine/event-log';
import type { CausalKey } from '@event-spine/events';
import { ApiRoute, EventEnvelopeDto } from '@event-spine/http';
import { publicationOf } from '@event-spine/outbox';
import { COMMANDS_OPTIONS, type CommandsModuleOptions } from './commands.options';

export class InvocationParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'actionInvocationId must be a UUID' })
  actionInvocationId!: string;
}

export class CorrelationParamsDto {
  @ApiProperty()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'correlationId must be visible ASCII characters' })
  correlationId!: string;
}

export class PublicationDto {
  @ApiProperty({ description: 'the relay has published it to Kafka' }) published!: boolean;
  @ApiPropertyOptional() topic?: string;
  @ApiPropertyOptional() partition?: number;
  @ApiPropertyOptional({ description: 'Kafka offset, as a decimal string' }) offset?: string;
}

export class CausalEventDto extends EventEnvelopeDto {
  @ApiProperty({ type: PublicationDto }) publication!: PublicationDto;
}

export class CausalEventsDto {
  @ApiProperty({ type: [CausalEventDto] }) events!: CausalEventDto[];
}

/**
 * "What did this command produce, and is it out?": the events of one invocation (or one conversation) across
 * subjects, each with where it is on Kafka. The projector's `/admin/invocations` adds, per projection, whether each
 * is applied.
 */
@ApiTags('events')
@Authenticated()
@Controller('v1')
export class CausalityHttpController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(COMMANDS_OPTIONS) private readonly options: CommandsModuleOptions,
  ) {}

  @Get('invocations/:actionInvocationId/events')
  @ApiRoute({
    summary: 'The events one command invocation recorded, with their publication',
    operationId: 'listInvocationEvents',
    errors: { 404: ['INVOCATION_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: CausalEventsDto })
  invocation(@Param() params: InvocationParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.events(principal, { actionInvocationId: params.actionInvocationId });
  }

  @Get('correlations/:correlationId/events')
  @ApiRoute({
    summary: 'The events of one conversation (correlation id), across commands and subjects, with their publication',
    operationId: 'listCorrelationEvents',
    errors: { 404: ['INVOCATION_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: CausalEventsDto })
  correlation(@Param() params: CorrelationParamsDto, @CurrentPrincipal() principal: Principal) {
    return this.events(principal, { correlationId: params.correlationId });
  }

  private async events(principal: Principal, key: CausalKey): Promise<CausalEventsDto> {
    const events = await readCausalEvents(this.db, this.options.catalog, principal.tenantId, key);
    if (events.length === 0) {
      throw new DomainError('not-found', 'INVOCATION_NOT_FOUND', 'No events were recorded for it in this tenant', key);
    }
    const publications = await publicationOf(
      this.db,
      events.map((e) => e.id),
    );
    return {
      events: events.map((e) => ({
        ...e,
        payload: e.payload as Record<string, unknown>,
        publication: publications.get(e.id) ?? { published: false },
      })),
    };
  }
}
