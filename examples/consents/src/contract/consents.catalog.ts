import { defineEventCatalog, strictObject } from '@event-spine/events';
import { CHANNELS, OUTCOMES, PURPOSES, type ConsentsEvent } from './consents-events';

const purpose = { enum: [...PURPOSES] };
const uuid = { type: 'string', format: 'uuid' };

/** The consents domain's event catalog: its event types, versions, upcaster, payload schemas and (default) topics. */
export const consentsCatalog = defineEventCatalog<ConsentsEvent>({
  name: 'consents',
  description: 'Customer consents and the credit checks they allow',
  // A customer is known by the caller's own id; credit checks by UUID (the default).
  subjectIds: { customer: '[A-Za-z0-9_-]{1,64}' },
  events: {
    ConsentGranted: {
      subjectType: 'customer',
      // v1 said how the consent was given as `channel` and had no scope; v2 (current) says `grantedVia` and `scope`.
      version: 2,
      upcasters: { 1: ({ channel, ...rest }) => ({ ...rest, grantedVia: channel, scope: ['standard'] }) },
      schema: strictObject(
        {
          purpose,
          scope: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
          grantedVia: { enum: [...CHANNELS] },
          expiresAt: { type: 'string', format: 'date-time' },
        },
        ['purpose', 'scope', 'grantedVia'],
      ),
    },
    ConsentRevoked: {
      subjectType: 'customer',
      schema: strictObject({ purpose, reason: { type: 'string', minLength: 1 } }, ['purpose', 'reason']),
      // What the customer said is theirs: sealed with the customer's key, erased by forgetting them.
      personal: { fields: ['reason'] },
    },
    CreditCheckRequested: {
      subjectType: 'credit-check',
      schema: strictObject(
        { customerId: { type: 'string', minLength: 1 }, purpose, bureau: { type: 'string' }, consentEventId: uuid },
        ['customerId', 'purpose', 'bureau', 'consentEventId'],
      ),
    },
    CreditCheckCompleted: {
      subjectType: 'credit-check',
      schema: strictObject(
        { outcome: { enum: [...OUTCOMES] }, score: { type: 'integer', minimum: 0, maximum: 1000 } },
        ['outcome', 'score'],
      ),
    },
  },
});
