import { ActionRegistry } from '@event-spine/commands';

/** Every action of the consents domain with what it does to the domain; a misdeclared one stops start-up. */
export function consentsActions(registry = new ActionRegistry()) {
  return {
    registry,
    grantConsent: registry.register({
      actionId: 'consents.grant-consent',
      mutatesDomain: true,
      emitsEvents: ['ConsentGranted'],
    }),
    revokeConsent: registry.register({
      actionId: 'consents.revoke-consent',
      mutatesDomain: true,
      emitsEvents: ['ConsentRevoked'],
    }),
    requestCreditCheck: registry.register({
      actionId: 'consents.request-credit-check',
      mutatesDomain: true,
      emitsEvents: ['CreditCheckRequested'],
    }),
    completeCreditCheck: registry.register({
      actionId: 'consents.complete-credit-check',
      mutatesDomain: true,
      emitsEvents: ['CreditCheckCompleted'],
    }),
  };
}

export const CONSENTS_ACTIONS = consentsActions();
