import type { CommandDefinition } from '@event-spine/commands';
import type { ConsentsEvent } from '../../../contract';
import { customer, decideGrantConsent, type GrantConsent } from '../../../domain/consents.decide';
import type { CustomerState } from '../../../domain/customer';
import { CONSENTS_ACTIONS } from '../../consents.actions';

export const grantConsentCommand: CommandDefinition<GrantConsent, undefined, ConsentsEvent> = {
  ...CONSENTS_ACTIONS.grantConsent,
  subjects: (i) => [customer(i.customerId)],
  primarySubject: (i) => customer(i.customerId),
  decide: (i, states) => decideGrantConsent(i, states.get<CustomerState>(customer(i.customerId)).state),
  reply: (i, after, events) => ({
    statusCode: 201,
    body: {
      customerId: i.customerId,
      sequence: after.get(customer(i.customerId)).sequence,
      consentEventId: events[0].id,
    },
  }),
};
