import type { CommandDefinition } from '@event-spine/commands';
import type { AccountState } from '../../domain/account';
import { decideTransfer } from '../../domain/ledger.decide';
import type { TransferState } from '../../domain/transfer';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account } from '../account-reply';

export interface TransferFundsInput {
  transferId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
}

const transfer = (transferId: string) => ({ subjectType: 'transfer', subjectId: transferId });

export const transferFundsCommand: CommandDefinition<TransferFundsInput> = {
  ...LEDGER_ACTIONS.transferFunds,
  subjects: (i) => [transfer(i.transferId), account(i.fromAccountId), account(i.toAccountId)],
  primarySubject: (i) => account(i.fromAccountId),
  decide: (i, states) =>
    decideTransfer(
      { type: 'TransferFunds', ...i },
      states.get<TransferState>(transfer(i.transferId)).state,
      states.get<AccountState>(account(i.fromAccountId)).state,
      states.get<AccountState>(account(i.toAccountId)).state,
    ),
  reply: (i, _after, _events, ctx) => ({
    statusCode: 201,
    body: { transferId: i.transferId, correlationId: ctx.correlationId },
  }),
};
