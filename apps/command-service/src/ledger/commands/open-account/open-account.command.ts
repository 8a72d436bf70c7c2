import type { CommandDefinition } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { decideOpenAccount } from '../../domain/ledger.decide';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account, accountReply } from '../account-reply';

export interface OpenAccountInput {
  accountId: string;
  ownerName: string;
  currency: string;
}

export const openAccountCommand: CommandDefinition<OpenAccountInput> = {
  ...LEDGER_ACTIONS.openAccount,
  subjects: (i) => [account(i.accountId)],
  primarySubject: (i) => account(i.accountId),
  decide: (i, states) =>
    decideOpenAccount({ type: 'OpenAccount', ...i }, states.get<AccountState>(account(i.accountId)).state),
  reply: (i, after) => ({ statusCode: 201, body: accountReply(after, i.accountId, false) }),
};
