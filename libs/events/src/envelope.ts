/**
 * The event envelope, exactly as the spec lists it: the same JSON in the event log, on Kafka and in the APIs.
 * Within a subject (subjectType + subjectId) events are totally ordered by `sequence` (1, 2, 3 ... no gaps).
 */
export interface EventEnvelope<Type extends string = string, Payload = unknown> {
  id: string;
  tenantId: string;
  spaceId: string;
  eventType: Type;
  eventSchemaVersion: number;
  subjectType: string;
  subjectId: string;
  actorId: string;
  actorType: string;
  actionInvocationId: string;
  payload: Payload;
  sequence: number;
  occurredAt: string;
  recordedAt: string;
  correlationId: string;
  causationId?: string;
}

/** The field order of the envelope, used wherever it is serialised, so every copy of an event is byte-identical. */
export const ENVELOPE_FIELDS = [
  'id',
  'tenantId',
  'spaceId',
  'eventType',
  'eventSchemaVersion',
  'subjectType',
  'subjectId',
  'actorId',
  'actorType',
  'actionInvocationId',
  'payload',
  'sequence',
  'occurredAt',
  'recordedAt',
  'correlationId',
  'causationId',
] as const satisfies readonly (keyof EventEnvelope)[];

export function serializeEnvelope(envelope: EventEnvelope): string {
  const ordered: Record<string, unknown> = {};
  for (const field of ENVELOPE_FIELDS) if (envelope[field] !== undefined) ordered[field] = envelope[field];
  return JSON.stringify(ordered);
}

/** Kafka message key: all events of one subject share a partition and stay in order. */
export function partitionKey(envelope: Pick<EventEnvelope, 'tenantId' | 'subjectId'>): string {
  return `${envelope.tenantId}:${envelope.subjectId}`;
}

/** Kafka headers of the spec, so consumers in any language can route without parsing the value. */
export function kafkaHeaders(envelope: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    'event-id': envelope.id,
    'event-type': envelope.eventType,
    'event-schema-version': String(envelope.eventSchemaVersion),
    'tenant-id': envelope.tenantId,
    'subject-type': envelope.subjectType,
    'subject-id': envelope.subjectId,
    sequence: String(envelope.sequence),
    'correlation-id': envelope.correlationId,
    'content-type': 'application/json',
  };
  if (envelope.causationId !== undefined) headers['causation-id'] = envelope.causationId;
  return headers;
}
