import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export class KafkaPositionDto {
  @ApiProperty()
  @IsString()
  @MaxLength(249)
  topic!: string;

  @ApiProperty({ minimum: 0 })
  @IsInt({ message: 'partition must be an integer' })
  @Min(0)
  partition!: number;

  @ApiProperty({ type: String, pattern: '^[0-9]+$', description: 'offset, as a decimal string (64-bit)' })
  @Matches(/^[0-9]{1,19}$/, { message: 'offset must be a non-negative integer written as a string' })
  offset!: string;
}

/** Exactly one of the three: where the replay starts reading. */
export class ReplayFromDto {
  @ApiProperty({ required: false, enum: [true] })
  @IsOptional()
  @Equals(true, { message: 'earliest must be true' })
  earliest?: true;

  @ApiProperty({ required: false, format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'timestamp must be an ISO-8601 date-time' })
  timestamp?: string;

  @ApiProperty({ required: false, type: [KafkaPositionDto] })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => KafkaPositionDto)
  offsets?: KafkaPositionDto[];
}

export class ReplayScopeDto {
  @ApiProperty({ required: false, description: "defaults to, and may only be, the caller's tenant" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  tenantId?: string;

  @ApiProperty({ required: false, format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'subjectId must be a UUID' })
  subjectId?: string;
}

export class ReplayRequestDto {
  @ApiProperty({ enum: ['preview', 'rebuild'] })
  @IsIn(['preview', 'rebuild'], { message: 'mode must be preview or rebuild' })
  mode!: 'preview' | 'rebuild';

  @ApiProperty({ enum: ['kafka', 'event-log'] })
  @IsIn(['kafka', 'event-log'], { message: 'source must be kafka or event-log' })
  source!: 'kafka' | 'event-log';

  @ApiProperty({ type: ReplayFromDto })
  @ValidateNested()
  @Type(() => ReplayFromDto)
  from!: ReplayFromDto;

  @ApiProperty({ required: false, type: ReplayScopeDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ReplayScopeDto)
  scope?: ReplayScopeDto;

  @ApiProperty({ required: false, format: 'uuid', description: 'replayId of a completed preview of the same request' })
  @IsOptional()
  @IsUUID('all', { message: 'confirm must be the replayId (a UUID) of a completed preview' })
  confirm?: string;

  @ApiProperty({ required: false, minimum: 1, maximum: 10000, default: 1000, description: 'events per transaction' })
  @IsOptional()
  @IsInt({ message: 'batchSize must be an integer' })
  @Min(1)
  @Max(10000)
  batchSize?: number;
}

export class ProjectionNameParamsDto {
  @ApiProperty()
  @Matches(/^[a-z][a-z0-9-]{0,62}$/, { message: 'name must be a projection name such as account-balances' })
  name!: string;
}

export class ReplayIdParamsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id!: string;
}
