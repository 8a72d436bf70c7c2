import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The replay API's answer (ReplayView), for its OpenAPI document. */
export class ReplayProgressDto {
  @ApiProperty() processed!: number;
  @ApiProperty() total!: number;
  @ApiProperty() applied!: number;
  @ApiProperty() eventsPerSecond!: number;
  @ApiProperty({ type: 'integer', nullable: true }) etaSeconds!: number | null;
}

export class ReplayViewDto {
  @ApiProperty({ format: 'uuid' }) replayId!: string;
  @ApiProperty() projection!: string;
  @ApiProperty({ enum: ['preview', 'rebuild'] }) mode!: string;
  @ApiProperty({ enum: ['kafka', 'event-log'] }) source!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'earliest, timestamp or offsets' })
  from!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) scope!: Record<string, unknown>;
  @ApiProperty({ enum: ['running', 'completed', 'failed', 'cancelled'] }) state!: string;
  @ApiProperty() phase!: string;
  @ApiProperty() requestedBy!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: ReplayProgressDto }) progress!: ReplayProgressDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'a preview’s diff: added / changed / removed / unchanged rows, per table, with samples',
  })
  diff?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) outcome?: Record<string, unknown>;
  @ApiPropertyOptional() error?: string;
}
