import { ENVELOPE_FIELDS } from './envelope';
import type { LedgerEventType } from './ledger-events';
import { CURRENT_SCHEMA_VERSION } from './upcasting';

/** JSON Schema (draft 2020-12 subset) of each event's payload at its current schema version. Contracts as data. */
type JsonSchema = Record<string, unknown>;

const amount = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (cents)' };
const uuid = { type: 'string', format: 'uuid' };
const strict = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

export const PAYLOAD_SCHEMAS: Record<LedgerEventType, JsonSchema> = {
  AccountOpened: strict(
    { ownerName: { type: 'string', minLength: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    ['ownerName', 'currency'],
  ),
  FundsDeposited: strict({ amount, reference: { type: 'string' }, transferId: uuid }, ['amount']),
  FundsWithdrawn: strict({ amount, reference: { type: 'string' }, transferId: uuid }, ['amount']),
  EntryReversed: strict(
    {
      reversedEventId: uuid,
      reversedEventType: { enum: ['FundsDeposited', 'FundsWithdrawn'] },
      balanceDelta: { type: 'integer' },
      reason: { type: 'string', minLength: 1 },
    },
    ['reversedEventId', 'reversedEventType', 'balanceDelta', 'reason'],
  ),
  AccountClosed: strict({}, []),
  TransferRequested: strict(
    { fromAccountId: uuid, toAccountId: uuid, amount, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    ['fromAccountId', 'toAccountId', 'amount', 'currency'],
  ),
  TransferCompleted: strict({ fromAccountId: uuid, toAccountId: uuid, amount }, [
    'fromAccountId',
    'toAccountId',
    'amount',
  ]),
};

/** The envelope of one event type, with its payload schema. */
export function envelopeSchema(eventType: LedgerEventType, subjectType: string): JsonSchema {
  const dateTime = { type: 'string', format: 'date-time' };
  return strict(
    {
      id: uuid,
      tenantId: { type: 'string', minLength: 1 },
      spaceId: { type: 'string', minLength: 1 },
      eventType: { const: eventType },
      eventSchemaVersion: { const: CURRENT_SCHEMA_VERSION[eventType] },
      subjectType: { const: subjectType },
      subjectId: uuid,
      actorId: { type: 'string', minLength: 1 },
      actorType: { type: 'string', minLength: 1 },
      actionInvocationId: uuid,
      payload: PAYLOAD_SCHEMAS[eventType],
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

export const HEADERS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    'event-id': uuid,
    'event-type': { type: 'string' },
    'event-schema-version': { type: 'string', pattern: '^[1-9][0-9]*$' },
    'tenant-id': { type: 'string' },
    'subject-type': { enum: ['account', 'transfer'] },
    'subject-id': uuid,
    sequence: { type: 'string', pattern: '^[1-9][0-9]*$' },
    'correlation-id': { type: 'string' },
    'causation-id': { type: 'string' },
    'content-type': { const: 'application/json' },
  },
  required: [
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
  additionalProperties: false,
};
