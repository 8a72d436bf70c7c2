import type { AccountEvent, TransferEvent } from '@ledger/contract';
import { defineDomainModel } from '@event-spine/commands';
import { evolveAccount, initialAccount, type AccountState } from './account';
import { evolveTransfer, initialTransfer, type TransferState } from './transfer';

/** How ledger subjects start and change, by subject type: the fold the command shell keeps state with. */
export const ledgerModel = defineDomainModel<{
  account: { state: AccountState; event: AccountEvent };
  transfer: { state: TransferState; event: TransferEvent };
}>({
  account: { initial: initialAccount, evolve: evolveAccount },
  transfer: { initial: initialTransfer, evolve: evolveTransfer },
});
