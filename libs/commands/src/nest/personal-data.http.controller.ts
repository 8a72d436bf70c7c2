import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import { AdminOnly, Authenticated, CurrentPrincipal, type Principal } from '@event-spine/auth';
import { keysTableOpener } from '@event-spine/event-log';
import type { OpenedPayload } from '@event-spine/events';
import { ApiError, ApiRoute, correlationIdOf } from '@event-spine/http';
import { DataSubjects } from '../data-subjects';

export class DataSubjectParamsDto {
  @ApiProperty({ description: 'whom the catalog names as the data subject of personal fields' })
  @Matches(/^[A-Za-z0-9_.:@-]{1,128}$/, {
    message: 'dataSubjectId must be 1-128 letters, digits or _ . : @ -',
  })
  dataSubjectId!: string;
}

export class ForgetRequestDto {
  @ApiPropertyOptional({ description: 'why (recorded in the event; no personal data here)' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}

class SubjectRefDto {
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
}

export class ForgetOutcomeDto {
  @ApiProperty() dataSubjectId!: string;
  @ApiProperty({ format: 'date-time' }) forgottenAt!: string;
  @ApiProperty({ description: 'false: forgotten before; nothing was recorded this time' }) forgottenNow!: boolean;
  @ApiPropertyOptional({ format: 'uuid', description: 'the DataSubjectForgotten event' }) eventId?: string;
  @ApiProperty({ type: [SubjectRefDto], description: 'subjects whose events held their personal data' })
  subjects!: SubjectRefDto[];
}

/** Erasure of a data subject's personal data (crypto-shredding), recorded as an event. */
@ApiTags('personal data')
@AdminOnly()
@Controller('admin/data-subjects')
export class DataSubjectsHttpController {
  constructor(private readonly dataSubjects: DataSubjects) {}

  @Post(':dataSubjectId/forget')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Destroys the data subject’s key: their personal fields read as null on every read path from now on',
    operationId: 'forgetDataSubject',
    role: 'admin',
    errors: { 409: ['NO_PERSONAL_DATA'] },
  })
  @ApiOkResponse({ type: ForgetOutcomeDto })
  forget(
    @Param() params: DataSubjectParamsDto,
    @Body() body: ForgetRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ): Promise<ForgetOutcomeDto> {
    return this.dataSubjects.forget({
      tenantId: principal.tenantId,
      dataSubjectId: params.dataSubjectId,
      actorId: principal.actorId,
      actorType: principal.actorType,
      spaceId: principal.spaceId,
      correlationId: correlationIdOf(request),
      reason: body?.reason,
    });
  }
}

class SealedEventDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID('all') id!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) @IsObject() payload!: Record<string, unknown>;
}

export class OpenRequestDto {
  @ApiProperty({ type: [SealedEventDto] })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => SealedEventDto)
  events!: SealedEventDto[];
}

export class OpenedDto {
  @ApiProperty({
    type: 'array',
    description:
      'per event, in order: `{payload}` opened (null where forgotten), or `{error}` for a sealed value that does not open',
    items: { type: 'object', additionalProperties: true },
  })
  results!: OpenedPayload[];
}

export const SERVICE_ROLE = 'service';

/**
 * Opens the sealed personal fields of events a service read from Kafka (the projector, a replay), so keys never
 * leave this service: the answer is what the feed would show, values or null once forgotten. For the `service` role.
 */
@ApiTags('personal data')
@Authenticated()
@Controller('v1/personal-data')
export class PersonalDataHttpController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Post('open')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Opens sealed personal fields of the tenant’s events (services only)',
    operationId: 'openPersonalData',
    role: SERVICE_ROLE,
  })
  @ApiOkResponse({ type: OpenedDto })
  async open(@Body() body: OpenRequestDto, @CurrentPrincipal() principal: Principal): Promise<OpenedDto> {
    if (!principal.roles.includes(SERVICE_ROLE)) {
      throw new ApiError(403, 'FORBIDDEN', 'This route needs the service role');
    }
    return { results: await keysTableOpener(this.db)(principal.tenantId, body.events) };
  }
}
