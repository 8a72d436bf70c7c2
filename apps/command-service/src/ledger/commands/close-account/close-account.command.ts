import type { CommandDefinition } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { decideClose } from '../../domain/ledger.decide';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account, accountReply } from '../account-reply';

export interface CloseAccountInput {
  accountId: string;
}

export const closeAccountCommand: CommandDefinition<CloseAccountInput> = {
  ...LEDGER_ACTIONS.closeAccount,
  subjects: (i) => [account(i.accountId)],
  primarySubject: (i) => account(i.accountId),
  decide: (i, states) =>
    decideClose({ type: 'CloseAccount', ...i }, states.get<AccountState>(account(i.accountId)).state),
  reply: (i, after) => ({ statusCode: 200, body: accountReply(after, i.accountId, false) }),
};
