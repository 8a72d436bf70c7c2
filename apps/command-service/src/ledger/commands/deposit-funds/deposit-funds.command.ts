import type { CommandDefinition } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { decideDeposit } from '../../domain/ledger.decide';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account, accountReply } from '../account-reply';

export interface DepositFundsInput {
  accountId: string;
  amount: number;
  reference?: string;
  occurredAt?: string;
}

export const depositFundsCommand: CommandDefinition<DepositFundsInput> = {
  ...LEDGER_ACTIONS.depositFunds,
  subjects: (i) => [account(i.accountId)],
  primarySubject: (i) => account(i.accountId),
  decide: (i, states) =>
    decideDeposit({ type: 'DepositFunds', ...i }, states.get<AccountState>(account(i.accountId)).state),
  reply: (i, after) => ({ statusCode: 201, body: accountReply(after, i.accountId, true) }),
};
