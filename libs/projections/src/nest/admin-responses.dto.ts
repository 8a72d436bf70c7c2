import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Response shapes of the admin API, for its OpenAPI document (the controllers build plain objects of these shapes). */
export class PartitionPositionDto {
  @ApiProperty() topic!: string;
  @ApiProperty() partition!: number;
  @ApiProperty({ description: 'the next offset the projector will apply' }) offset!: number;
  @ApiProperty({ description: 'end offset minus position; negative: a position beyond the end (offset reset)' })
  lag!: number;
  @ApiProperty() applied!: number;
  @ApiProperty() duplicates!: number;
  @ApiProperty() parked!: number;
  @ApiProperty({ description: 'times the stored position lay beyond the partition end' }) offsetResets!: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  lastOffsetReset!: Record<string, string> | null;
  @ApiProperty({ description: 'times retention had deleted offsets before they were read' }) sourceGaps!: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  lastSourceGap!: Record<string, string> | null;
}

export class ProjectionStatusDto {
  @ApiProperty() name!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ type: [String] }) handles!: string[];
  @ApiProperty({ type: [String] }) tables!: string[];
  @ApiProperty({ type: [PartitionPositionDto] }) partitions!: PartitionPositionDto[];
  @ApiProperty({ description: 'parked subjects of the caller’s tenant' }) parkedSubjects!: number;
}

export class ProjectionsDto {
  @ApiProperty() consumerGroup!: string;
  @ApiProperty({ type: [ProjectionStatusDto] }) projections!: ProjectionStatusDto[];
}

export class ParkedEventDto {
  @ApiProperty({ type: 'integer', nullable: true }) sequence!: number | null;
  @ApiProperty({ type: 'string', nullable: true }) eventId!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty() topic!: string;
  @ApiProperty() partition!: number;
  @ApiProperty({ description: 'Kafka offset, as a string (64-bit)' }) offset!: string;
}

export class ParkedSubjectDto {
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty() reason!: string;
  @ApiProperty({ format: 'date-time' }) parkedAt!: string;
  @ApiProperty() lastAppliedSequence!: number;
  @ApiProperty({ type: [ParkedEventDto] }) events!: ParkedEventDto[];
}

export class ParkedListDto {
  @ApiProperty({ type: [ParkedSubjectDto] }) parked!: ParkedSubjectDto[];
}

export class ReleaseResultDto {
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ description: 'parked events taken out of the queue' }) released!: number;
  @ApiProperty() applied!: number;
  @ApiProperty() duplicates!: number;
  @ApiProperty({ description: 'events that parked the subject again' }) parkedAgain!: number;
  @ApiPropertyOptional({ description: 'what a skip passed over: an event id or the missing sequences' })
  skippedEvent?: string;
  @ApiProperty({ enum: ['parked', 'flowing'] }) state!: string;
}
