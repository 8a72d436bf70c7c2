import type { PendingEvent } from '@event-spine/domain';
import type { Channel, ConsentsEvent, Outcome, Purpose } from '../contract';
import type { CreditCheckState } from './credit-check';
import { isInForce, type CustomerState } from './customer';
import { ConsentsErrors } from './consents.errors';

/** Pure decisions of the consents domain: state and a command in, events or a refusal out. `now` is an input. */

export const customer = (customerId: string) => ({ subjectType: 'customer', subjectId: customerId });
export const creditCheck = (creditCheckId: string) => ({ subjectType: 'credit-check', subjectId: creditCheckId });

type Decided = PendingEvent<ConsentsEvent>[];

export interface GrantConsent {
  customerId: string;
  purpose: Purpose;
  scope: string[];
  grantedVia: Channel;
  expiresAt?: string;
  now: string;
}

export function decideGrantConsent(c: GrantConsent, state: CustomerState): Decided {
  if (c.expiresAt !== undefined && c.expiresAt <= c.now) throw ConsentsErrors.expiryInPast(c.expiresAt);
  // An expired consent can be granted again; one in force cannot be granted twice.
  if (isInForce(state.consents[c.purpose], c.now)) throw ConsentsErrors.consentAlreadyActive(c.customerId, c.purpose);
  const payload = {
    purpose: c.purpose,
    scope: c.scope,
    grantedVia: c.grantedVia,
    ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
  };
  return [{ ...customer(c.customerId), event: { eventType: 'ConsentGranted', payload } }];
}

export interface RevokeConsent {
  customerId: string;
  purpose: Purpose;
  reason: string;
}

export function decideRevokeConsent(c: RevokeConsent, state: CustomerState): Decided {
  if (state.consents[c.purpose]?.status !== 'active') throw ConsentsErrors.consentNotActive(c.customerId, c.purpose);
  return [
    {
      ...customer(c.customerId),
      event: { eventType: 'ConsentRevoked', payload: { purpose: c.purpose, reason: c.reason } },
    },
  ];
}

export interface RequestCreditCheck {
  creditCheckId: string;
  customerId: string;
  purpose: Purpose;
  bureau: string;
  now: string;
}

/**
 * A pull is allowed only by a consent in force for its purpose, read under the customer's lock in the transaction
 * that records the pull: a revocation that committed first is always seen.
 */
export function decideRequestCreditCheck(
  c: RequestCreditCheck,
  owner: CustomerState,
  check: CreditCheckState,
): Decided {
  if (check.status !== 'none') throw ConsentsErrors.creditCheckExists(c.creditCheckId);
  const consent = owner.consents[c.purpose];
  if (!isInForce(consent, c.now)) throw ConsentsErrors.consentRequired(c.customerId, c.purpose);
  return [
    {
      ...creditCheck(c.creditCheckId),
      event: {
        eventType: 'CreditCheckRequested',
        payload: {
          customerId: c.customerId,
          purpose: c.purpose,
          bureau: c.bureau,
          consentEventId: consent.consentEventId,
        },
      },
    },
  ];
}

export interface CompleteCreditCheck {
  creditCheckId: string;
  outcome: Outcome;
  score: number;
}

export function decideCompleteCreditCheck(c: CompleteCreditCheck, check: CreditCheckState): Decided {
  if (check.status === 'none') throw ConsentsErrors.creditCheckNotFound(c.creditCheckId);
  if (check.status === 'completed') throw ConsentsErrors.alreadyCompleted(c.creditCheckId);
  return [
    {
      ...creditCheck(c.creditCheckId),
      event: { eventType: 'CreditCheckCompleted', payload: { outcome: c.outcome, score: c.score } },
    },
  ];
}
