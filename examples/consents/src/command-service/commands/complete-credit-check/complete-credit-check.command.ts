import type { CommandDefinition } from '@event-spine/commands';
import type { ConsentsEvent } from '../../../contract';
import type { CreditCheckState } from '../../../domain/credit-check';
import { creditCheck, decideCompleteCreditCheck, type CompleteCreditCheck } from '../../../domain/consents.decide';
import { CONSENTS_ACTIONS } from '../../consents.actions';

export const completeCreditCheckCommand: CommandDefinition<CompleteCreditCheck, undefined, ConsentsEvent> = {
  ...CONSENTS_ACTIONS.completeCreditCheck,
  subjects: (i) => [creditCheck(i.creditCheckId)],
  primarySubject: (i) => creditCheck(i.creditCheckId),
  decide: (i, states) => decideCompleteCreditCheck(i, states.get<CreditCheckState>(creditCheck(i.creditCheckId)).state),
  reply: (i, after) => ({
    statusCode: 200,
    body: { creditCheckId: i.creditCheckId, sequence: after.get(creditCheck(i.creditCheckId)).sequence },
  }),
};
