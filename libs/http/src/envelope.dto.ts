import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The event envelope as the APIs return it (the same JSON as in the log and on Kafka), for OpenAPI documents. */
export class EventEnvelopeDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() tenantId!: string;
  @ApiProperty() spaceId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ minimum: 1, description: 'the current schema version: older stored events come upcast' })
  eventSchemaVersion!: number;
  @ApiProperty() subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty() actorId!: string;
  @ApiProperty() actorType!: string;
  @ApiProperty({ format: 'uuid', description: 'the command invocation that produced the event' })
  actionInvocationId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the event type’s payload' })
  payload!: Record<string, unknown>;
  @ApiProperty({ minimum: 1, description: 'position in the subject’s history: 1, 2, 3 … without gaps' })
  sequence!: number;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty() correlationId!: string;
  @ApiPropertyOptional({ description: 'the event or invocation that caused this one' }) causationId?: string;
}

export class EventListDto {
  @ApiProperty({ type: [EventEnvelopeDto] }) events!: EventEnvelopeDto[];
}

export class EventFeedPageDto extends EventListDto {
  @ApiProperty({ type: 'string', nullable: true, description: 'pass as `after` for the next page; null: none yet' })
  nextCursor!: string | null;
}
