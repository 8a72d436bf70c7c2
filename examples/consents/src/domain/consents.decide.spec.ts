import type { RecordedEvent } from '@event-spine/commands';
import { deciderSpec } from '@event-spine/testing';
import type { CreditCheckEvent, CustomerEvent } from '../contract';
import {
  decideCompleteCreditCheck,
  decideGrantConsent,
  decideRequestCreditCheck,
  decideRevokeConsent,
} from './consents.decide';
import { evolveCreditCheck, initialCreditCheck, type CreditCheckState } from './credit-check';
import { evolveCustomer, initialCustomer } from './customer';

const at = (minute: number) => `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
let sequence = 0;
function recorded<E extends CustomerEvent | CreditCheckEvent>(event: E, minute = 0, id = `e-${++sequence}`) {
  return { ...event, id, sequence, recordedAt: at(minute), occurredAt: at(minute) } as RecordedEvent<E>;
}
const granted = (purpose: 'credit-line' | 'mortgage', minute = 0, expiresAt?: string, id?: string) =>
  recorded<CustomerEvent>(
    {
      eventType: 'ConsentGranted',
      payload: { purpose, scope: ['standard'], grantedVia: 'web', ...(expiresAt ? { expiresAt } : {}) },
    },
    minute,
    id,
  );
const revoked = (purpose: 'credit-line' | 'mortgage', minute = 1) =>
  recorded<CustomerEvent>({ eventType: 'ConsentRevoked', payload: { purpose, reason: 'asked' } }, minute);

const customer = deciderSpec(evolveCustomer, initialCustomer);
const check = deciderSpec(evolveCreditCheck, initialCreditCheck);
const grant = { customerId: 'c-1', purpose: 'credit-line' as const, scope: ['standard'], grantedVia: 'web' as const };

describe('consents decider', () => {
  it('grants a consent, once while it is in force, again after it expired or was revoked', () => {
    customer
      .given([])
      .when((s) => decideGrantConsent({ ...grant, now: at(5) }, s))
      .then([
        {
          subjectType: 'customer',
          subjectId: 'c-1',
          event: {
            eventType: 'ConsentGranted',
            payload: { purpose: 'credit-line', scope: ['standard'], grantedVia: 'web' },
          },
        },
      ]);
    customer
      .given([granted('credit-line')])
      .when((s) => decideGrantConsent({ ...grant, now: at(5) }, s))
      .thenRefuses('CONSENT_ALREADY_ACTIVE');
    customer
      .given([granted('credit-line', 0, at(3))])
      .when((s) => decideGrantConsent({ ...grant, now: at(5) }, s)[0].event.eventType)
      .then('ConsentGranted');
    customer
      .given([granted('credit-line'), revoked('credit-line')])
      .when((s) => decideGrantConsent({ ...grant, now: at(5) }, s).length)
      .then(1);
    // Another purpose is another consent.
    customer
      .given([granted('mortgage')])
      .when((s) => decideGrantConsent({ ...grant, now: at(5) }, s).length)
      .then(1);
  });

  it('refuses an expiry that is not in the future', () => {
    customer
      .given([])
      .when((s) => decideGrantConsent({ ...grant, expiresAt: at(5), now: at(5) }, s))
      .thenRefuses('EXPIRY_IN_PAST');
  });

  it('revokes only a consent that is active', () => {
    const revoke = { customerId: 'c-1', purpose: 'credit-line' as const, reason: 'asked' };
    customer
      .given([granted('credit-line')])
      .when((s) => decideRevokeConsent(revoke, s))
      .then([
        {
          subjectType: 'customer',
          subjectId: 'c-1',
          event: { eventType: 'ConsentRevoked', payload: { purpose: 'credit-line', reason: 'asked' } },
        },
      ]);
    customer
      .given([])
      .when((s) => decideRevokeConsent(revoke, s))
      .thenRefuses('CONSENT_NOT_ACTIVE');
    customer
      .given([granted('credit-line'), revoked('credit-line')])
      .when((s) => decideRevokeConsent(revoke, s))
      .thenRefuses('CONSENT_NOT_ACTIVE');
    customer
      .given([granted('mortgage')])
      .when((s) => decideRevokeConsent(revoke, s))
      .thenRefuses('CONSENT_NOT_ACTIVE');
  });

  describe('a credit pull', () => {
    const request = {
      creditCheckId: 'k-1',
      customerId: 'c-1',
      purpose: 'credit-line' as const,
      bureau: 'b',
      now: at(5),
    };
    const none: CreditCheckState = { status: 'none' };

    it('names the grant that allowed it', () => {
      customer
        .given([granted('credit-line', 0, undefined, 'grant-1')])
        .when((s) => decideRequestCreditCheck(request, s, none))
        .then([
          {
            subjectType: 'credit-check',
            subjectId: 'k-1',
            event: {
              eventType: 'CreditCheckRequested',
              payload: { customerId: 'c-1', purpose: 'credit-line', bureau: 'b', consentEventId: 'grant-1' },
            },
          },
        ]);
      // A re-grant after a revocation is the consent in force: its event is the one named.
      customer
        .given([
          granted('credit-line', 0, undefined, 'old'),
          revoked('credit-line'),
          granted('credit-line', 2, undefined, 'new'),
        ])
        .when(
          (s) =>
            (decideRequestCreditCheck(request, s, none)[0].event.payload as { consentEventId: string }).consentEventId,
        )
        .then('new');
    });

    it('is refused without a consent in force for its purpose', () => {
      const refused = (past: RecordedEvent<CustomerEvent>[]) =>
        customer
          .given(past)
          .when((s) => decideRequestCreditCheck(request, s, none))
          .thenRefuses('CONSENT_REQUIRED');
      refused([]);
      refused([granted('credit-line'), revoked('credit-line')]);
      refused([granted('credit-line', 0, at(4))]); // expired a minute before
      refused([granted('mortgage')]);
    });

    it('is recorded once per id', () => {
      const existing = check.given([
        recorded<CreditCheckEvent>({
          eventType: 'CreditCheckRequested',
          payload: { customerId: 'c-1', purpose: 'credit-line', bureau: 'b', consentEventId: 'g' },
        }),
      ]);
      existing
        .when((s) => decideRequestCreditCheck(request, evolveCustomer(initialCustomer, granted('credit-line')), s))
        .thenRefuses('CREDIT_CHECK_EXISTS');
    });
  });

  it('completes a requested check once', () => {
    const complete = { creditCheckId: 'k-1', outcome: 'approved' as const, score: 700 };
    const requested = recorded<CreditCheckEvent>({
      eventType: 'CreditCheckRequested',
      payload: { customerId: 'c-1', purpose: 'credit-line', bureau: 'b', consentEventId: 'g' },
    });
    check
      .given([requested])
      .when((s) => decideCompleteCreditCheck(complete, s))
      .then([
        {
          subjectType: 'credit-check',
          subjectId: 'k-1',
          event: { eventType: 'CreditCheckCompleted', payload: { outcome: 'approved', score: 700 } },
        },
      ]);
    check
      .given([])
      .when((s) => decideCompleteCreditCheck(complete, s))
      .thenRefuses('CREDIT_CHECK_NOT_FOUND');
    check
      .given([
        requested,
        recorded<CreditCheckEvent>({ eventType: 'CreditCheckCompleted', payload: { outcome: 'declined', score: 1 } }),
      ])
      .when((s) => decideCompleteCreditCheck(complete, s))
      .thenRefuses('ALREADY_COMPLETED');
  });
});
