import type { DomainEvent, EventCatalog, JsonSchema } from './catalog';
import { ENVELOPE_FIELDS } from './envelope';

const uuid = { type: 'string', format: 'uuid' };
const dateTime = { type: 'string', format: 'date-time' };

/** A closed object schema: every property named, nothing else allowed. */
export const strictObject = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

/** The envelope of one event type of a catalog, with its payload schema at the current version. */
export function envelopeSchema<E extends DomainEvent>(catalog: EventCatalog<E>, eventType: E['eventType']): JsonSchema {
  return strictObject(
    {
      id: uuid,
      tenantId: { type: 'string', minLength: 1 },
      spaceId: { type: 'string', minLength: 1 },
      eventType: { const: eventType },
      eventSchemaVersion: { const: catalog.versionOf(eventType) },
      subjectType: { const: catalog.subjectTypeOf(eventType) },
      subjectId: { type: 'string', minLength: 1 },
      actorId: { type: 'string', minLength: 1 },
      actorType: { type: 'string', minLength: 1 },
      actionInvocationId: uuid,
      payload: wirePayloadSchema(catalog, eventType),
      sequence: { type: 'integer', minimum: 1 },
      occurredAt: dateTime,
      recordedAt: dateTime,
      correlationId: { type: 'string', minLength: 1 },
      causationId: { type: 'string', minLength: 1 },
    },
    // Every field of the envelope is required but the cause, which a root event does not have.
    ENVELOPE_FIELDS.filter((f) => f !== 'causationId'),
  );
}

/** The Kafka headers every message carries, so consumers in any language route without parsing the value. */
export function headersSchema(catalog: EventCatalog): JsonSchema {
  return strictObject(
    {
      'event-id': uuid,
      'event-type': { type: 'string' },
      'event-schema-version': { type: 'string', pattern: '^[1-9][0-9]*$' },
      'tenant-id': { type: 'string' },
      'subject-type': { enum: [...catalog.subjectTypes] },
      'subject-id': { type: 'string' },
      sequence: { type: 'string', pattern: '^[1-9][0-9]*$' },
      'correlation-id': { type: 'string' },
      'causation-id': { type: 'string' },
      'content-type': { const: 'application/json' },
    },
    [
      'event-id',
      'event-type',
      'event-schema-version',
      'tenant-id',
      'subject-type',
      'subject-id',
      'sequence',
      'correlation-id',
      'content-type',
    ],
  );
}

/** A personal field as it is stored and published: sealed with its data subject's key (see personal-data.ts). */
export const sealedValueSchema: JsonSchema = {
  description:
    "Personal data, sealed (AES-256-GCM) with its data subject's key: `ds` names the data subject, `c` is " +
    'base64url(IV | tag | ciphertext of the JSON value). Readers of the APIs see the value, or null once forgotten.',
  ...strictObject(
    { $pii: strictObject({ ds: { type: 'string', minLength: 1 }, c: { type: 'string', minLength: 1 } }, ['ds', 'c']) },
    ['$pii'],
  ),
};

/** The payload schema as the log and the topics carry it: personal fields sealed. */
export function wirePayloadSchema<E extends DomainEvent>(
  catalog: EventCatalog<E>,
  eventType: E['eventType'],
): JsonSchema {
  const schema = catalog.payloadSchema(eventType);
  const personal = catalog.personalDataOf(eventType);
  if (!personal) return schema;
  const properties = { ...(schema.properties as Record<string, JsonSchema>) };
  for (const field of personal.fields) properties[field] = sealedValueSchema;
  return { ...schema, properties };
}
