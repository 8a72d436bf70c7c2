import { DomainError } from '@event-spine/domain';

/** The consents domain's refusals, each with a stable code. */
export const ConsentsErrors = {
  consentAlreadyActive: (customerId: string, purpose: string) =>
    new DomainError('conflict', 'CONSENT_ALREADY_ACTIVE', `Customer ${customerId} already consents to ${purpose}`, {
      customerId,
      purpose,
    }),
  consentNotActive: (customerId: string, purpose: string) =>
    new DomainError('conflict', 'CONSENT_NOT_ACTIVE', `Customer ${customerId} has no active consent to ${purpose}`, {
      customerId,
      purpose,
    }),
  consentRequired: (customerId: string, purpose: string) =>
    new DomainError(
      'conflict',
      'CONSENT_REQUIRED',
      `Customer ${customerId} has no active, unexpired consent to ${purpose}: no credit check may be made`,
      { customerId, purpose },
    ),
  expiryInPast: (expiresAt: string) =>
    new DomainError('unprocessable', 'EXPIRY_IN_PAST', `expiresAt ${expiresAt} is not in the future`, { expiresAt }),
  creditCheckExists: (creditCheckId: string) =>
    new DomainError('conflict', 'CREDIT_CHECK_EXISTS', `Credit check ${creditCheckId} already exists`, {
      creditCheckId,
    }),
  creditCheckNotFound: (creditCheckId: string) =>
    new DomainError('not-found', 'CREDIT_CHECK_NOT_FOUND', `Credit check ${creditCheckId} does not exist`, {
      creditCheckId,
    }),
  alreadyCompleted: (creditCheckId: string) =>
    new DomainError('conflict', 'ALREADY_COMPLETED', `Credit check ${creditCheckId} is already completed`, {
      creditCheckId,
    }),
  customerNotFound: (customerId: string) =>
    new DomainError('not-found', 'CUSTOMER_NOT_FOUND', `Customer ${customerId} has no consents on record`, {
      customerId,
    }),
};
