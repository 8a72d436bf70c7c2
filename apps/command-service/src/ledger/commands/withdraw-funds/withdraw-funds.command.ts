import type { CommandDefinition } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { decideWithdraw } from '../../domain/ledger.decide';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account, accountReply } from '../account-reply';

export interface WithdrawFundsInput {
  accountId: string;
  amount: number;
  reference?: string;
  occurredAt?: string;
}

export const withdrawFundsCommand: CommandDefinition<WithdrawFundsInput> = {
  ...LEDGER_ACTIONS.withdrawFunds,
  subjects: (i) => [account(i.accountId)],
  primarySubject: (i) => account(i.accountId),
  decide: (i, states) =>
    decideWithdraw({ type: 'WithdrawFunds', ...i }, states.get<AccountState>(account(i.accountId)).state),
  reply: (i, after) => ({ statusCode: 201, body: accountReply(after, i.accountId, true) }),
};
