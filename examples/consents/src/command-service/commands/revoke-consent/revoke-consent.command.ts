import type { CommandDefinition } from '@event-spine/commands';
import type { ConsentsEvent } from '../../../contract';
import { customer, decideRevokeConsent, type RevokeConsent } from '../../../domain/consents.decide';
import type { CustomerState } from '../../../domain/customer';
import { CONSENTS_ACTIONS } from '../../consents.actions';

export const revokeConsentCommand: CommandDefinition<RevokeConsent, undefined, ConsentsEvent> = {
  ...CONSENTS_ACTIONS.revokeConsent,
  subjects: (i) => [customer(i.customerId)],
  primarySubject: (i) => customer(i.customerId),
  decide: (i, states) => decideRevokeConsent(i, states.get<CustomerState>(customer(i.customerId)).state),
  reply: (i, after) => ({
    statusCode: 200,
    body: { customerId: i.customerId, sequence: after.get(customer(i.customerId)).sequence },
  }),
};
