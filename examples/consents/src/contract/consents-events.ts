/** The consents domain's events: plain data, a discriminated union on `eventType`, facts in the past tense. */

export const PURPOSES = ['credit-line', 'mortgage', 'identity'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const CHANNELS = ['web', 'phone', 'branch'] as const;
export type Channel = (typeof CHANNELS)[number];

export const OUTCOMES = ['approved', 'declined', 'referred'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Version 2 (current). Version 1 was `{purpose, channel}`: it is upcast on every read path. */
export interface ConsentGranted {
  eventType: 'ConsentGranted';
  payload: { purpose: Purpose; scope: string[]; grantedVia: Channel; expiresAt?: string };
}
export interface ConsentRevoked {
  eventType: 'ConsentRevoked';
  /** `reason` is personal data (sealed in the log): null once the customer was forgotten. */
  payload: { purpose: Purpose; reason: string | null };
}
/** `consentEventId` is the id of the ConsentGranted event that allowed this pull. */
export interface CreditCheckRequested {
  eventType: 'CreditCheckRequested';
  payload: { customerId: string; purpose: Purpose; bureau: string; consentEventId: string };
}
export interface CreditCheckCompleted {
  eventType: 'CreditCheckCompleted';
  payload: { outcome: Outcome; score: number };
}

export type CustomerEvent = ConsentGranted | ConsentRevoked;
export type CreditCheckEvent = CreditCheckRequested | CreditCheckCompleted;
export type ConsentsEvent = CustomerEvent | CreditCheckEvent;
