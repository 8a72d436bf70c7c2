import { envelopeSchema, HEADERS_SCHEMA } from './event-schemas';
import { EVENT_SUBJECT_TYPE, LEDGER_EVENT_TYPES } from './ledger-events';
import { CURRENT_SCHEMA_VERSION, UPCASTERS } from './upcasting';
import { SUBJECT_TYPES, topicFor } from './topics';

/**
 * The AsyncAPI 3.0 document of the Kafka topics, generated from the event contract itself, so it cannot drift from
 * what is published. `npm run asyncapi` writes it to docs/asyncapi.json; a test checks real messages against it.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  for (const eventType of LEDGER_EVENT_TYPES) {
    const subjectType = EVENT_SUBJECT_TYPE[eventType];
    const older = Object.keys(UPCASTERS[eventType] ?? {}).map(Number);
    messages[eventType] = {
      name: eventType,
      title: `${eventType} v${CURRENT_SCHEMA_VERSION[eventType]}`,
      summary:
        older.length > 0
          ? `Current schema version ${CURRENT_SCHEMA_VERSION[eventType]}; versions ${older.join(', ')} may still be on the topic and are upcast by the projector.`
          : `Schema version ${CURRENT_SCHEMA_VERSION[eventType]}.`,
      contentType: 'application/json',
      headers: HEADERS_SCHEMA,
      payload: envelopeSchema(eventType, subjectType),
      bindings: {
        kafka: {
          key: { type: 'string', description: '<tenantId>:<subjectId>; all events of a subject share a partition' },
        },
      },
    };
  }
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const subjectType of SUBJECT_TYPES) {
    const channel = `${subjectType}Events`;
    const types = LEDGER_EVENT_TYPES.filter((t) => EVENT_SUBJECT_TYPE[t] === subjectType);
    channels[channel] = {
      address: topicFor(subjectType),
      description: `Every event of every ${subjectType}, in sequence order per subject (key = tenantId:subjectId).`,
      messages: Object.fromEntries(types.map((t) => [t, { $ref: `#/components/messages/${t}` }])),
    };
    operations[`publish${subjectType[0].toUpperCase()}${subjectType.slice(1)}Events`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      summary: 'The outbox relay publishes each committed event at least once; consumers deduplicate by event id.',
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Event Spine ledger events',
      version: '1.0.0',
      description:
        'Events of the multi-tenant ledger, published from the transactional outbox. Value: the event envelope as JSON. ' +
        'Delivery is at least once; per subject, sequence numbers are contiguous and in order.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}
