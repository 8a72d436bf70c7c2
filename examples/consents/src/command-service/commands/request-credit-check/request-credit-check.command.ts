import type { CommandDefinition } from '@event-spine/commands';
import type { ConsentsEvent } from '../../../contract';
import type { CreditCheckState } from '../../../domain/credit-check';
import {
  creditCheck,
  customer,
  decideRequestCreditCheck,
  type RequestCreditCheck,
} from '../../../domain/consents.decide';
import type { CustomerState } from '../../../domain/customer';
import { CONSENTS_ACTIONS } from '../../consents.actions';

/** Locks the customer as well as the check: the consent read here cannot be revoked until this pull is recorded. */
export const requestCreditCheckCommand: CommandDefinition<RequestCreditCheck, undefined, ConsentsEvent> = {
  ...CONSENTS_ACTIONS.requestCreditCheck,
  subjects: (i) => [creditCheck(i.creditCheckId), customer(i.customerId)],
  primarySubject: (i) => creditCheck(i.creditCheckId),
  decide: (i, states) =>
    decideRequestCreditCheck(
      i,
      states.get<CustomerState>(customer(i.customerId)).state,
      states.get<CreditCheckState>(creditCheck(i.creditCheckId)).state,
    ),
  reply: (i, after, events) => {
    const [requested] = events;
    return {
      statusCode: 201,
      body: {
        creditCheckId: i.creditCheckId,
        sequence: after.get(creditCheck(i.creditCheckId)).sequence,
        consentEventId: (requested.payload as { consentEventId: string }).consentEventId,
      },
    };
  },
};
