import type { DomainEvent, EventCatalog } from './catalog';
import { envelopeSchema, headersSchema } from './event-schemas';

/**
 * The AsyncAPI 3.0 document of a domain's topics, generated from its event catalog, so it cannot drift from what is
 * published.
 */
export function asyncApiDocument<E extends DomainEvent>(catalog: EventCatalog<E>): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const headers = headersSchema(catalog);
  for (const eventType of catalog.eventTypes) {
    const version = catalog.versionOf(eventType);
    const older = Object.keys(catalog.upcastersOf(eventType)).map(Number);
    const description = catalog.describe(eventType);
    messages[eventType] = {
      name: eventType,
      title: `${eventType} v${version}`,
      summary:
        older.length > 0
          ? `Current schema version ${version}; versions ${older.join(', ')} may still be on the topic and are upcast by the projector.`
          : `Schema version ${version}.`,
      ...(description ? { description } : {}),
      contentType: 'application/json',
      headers,
      payload: envelopeSchema(catalog, eventType),
      bindings: {
        kafka: {
          key: { type: 'string', description: '<tenantId>:<subjectId>; all events of a subject share a partition' },
        },
      },
    };
  }
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const subjectType of catalog.subjectTypes) {
    const channel = `${subjectType}Events`;
    channels[channel] = {
      address: catalog.topicFor(subjectType),
      description: `Every event of every ${subjectType}, in sequence order per subject (key = tenantId:subjectId).`,
      messages: Object.fromEntries(
        catalog.eventTypesOf(subjectType).map((t) => [t, { $ref: `#/components/messages/${t}` }]),
      ),
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
      title: `Event Spine ${catalog.name} events`,
      version: '1.0.0',
      description:
        `${catalog.description ?? `Events of the ${catalog.name} domain`}, published from the transactional outbox. ` +
        'Value: the event envelope as JSON. Delivery is at least once; per subject, sequence numbers are contiguous ' +
        'and in order.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}
