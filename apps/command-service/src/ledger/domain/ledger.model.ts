import type { AccountEvent, TransferEvent } from '@ledger/contract';
import { evolveAccount, initialAccount, type AccountState } from './account';
import { evolveTransfer, initialTransfer, type TransferState } from './transfer';

/** How ledger subjects start and change, by subject type: the fold the command shell keeps state with. */
export const ledgerModel = {
  initialState(subjectType: string): unknown {
    if (subjectType === 'account') return initialAccount;
    if (subjectType === 'transfer') return initialTransfer;
    throw new Error(`unknown subject type ${subjectType}`);
  },
  evolve(subjectType: string, state: unknown, event: { eventType: string; payload: unknown }): unknown {
    if (subjectType === 'account') return evolveAccount(state as AccountState, event as AccountEvent);
    if (subjectType === 'transfer') return evolveTransfer(state as TransferState, event as TransferEvent);
    throw new Error(`unknown subject type ${subjectType}`);
  },
};
