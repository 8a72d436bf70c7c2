import type { RecordedEvent } from '@event-spine/commands';
import type { Channel, CustomerEvent, Purpose } from '../contract';

export interface Consent {
  purpose: Purpose;
  status: 'active' | 'revoked';
  scope: string[];
  grantedVia: Channel;
  grantedAt: string;
  /** The ConsentGranted event: what a credit check names as the consent that allowed it. */
  consentEventId: string;
  expiresAt?: string;
  revokedAt?: string;
}

/** A customer as far as consents go: the latest consent per purpose. */
export interface CustomerState {
  consents: Partial<Record<Purpose, Consent>>;
}

export const initialCustomer: CustomerState = { consents: {} };

export function evolveCustomer(state: CustomerState, event: RecordedEvent<CustomerEvent>): CustomerState {
  switch (event.eventType) {
    case 'ConsentGranted': {
      const { purpose, scope, grantedVia, expiresAt } = event.payload;
      const consent: Consent = {
        purpose,
        status: 'active',
        scope,
        grantedVia,
        grantedAt: event.occurredAt,
        consentEventId: event.id,
        ...(expiresAt ? { expiresAt } : {}),
      };
      return { consents: { ...state.consents, [purpose]: consent } };
    }
    case 'ConsentRevoked': {
      const current = state.consents[event.payload.purpose];
      if (!current) return state;
      return {
        consents: {
          ...state.consents,
          [event.payload.purpose]: { ...current, status: 'revoked', revokedAt: event.occurredAt },
        },
      };
    }
  }
}

/** Whether a consent allows a pull at `now`: granted, not revoked, not expired. */
export function isInForce(consent: Consent | undefined, now: string): consent is Consent {
  return consent?.status === 'active' && (consent.expiresAt === undefined || consent.expiresAt > now);
}
