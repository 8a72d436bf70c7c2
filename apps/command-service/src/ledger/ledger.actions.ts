import { ActionRegistry } from '@event-spine/commands';

/**
 * Every action of the ledger with what it does to the domain. Registration refuses a mutating action that emits no
 * events, so a misdeclared action stops the service at start-up.
 */
export function ledgerActions(registry = new ActionRegistry()) {
  return {
    registry,
    openAccount: registry.register({
      actionId: 'ledger.open-account',
      mutatesDomain: true,
      emitsEvents: ['AccountOpened'],
    }),
    depositFunds: registry.register({
      actionId: 'ledger.deposit-funds',
      mutatesDomain: true,
      emitsEvents: ['FundsDeposited'],
    }),
    withdrawFunds: registry.register({
      actionId: 'ledger.withdraw-funds',
      mutatesDomain: true,
      emitsEvents: ['FundsWithdrawn'],
    }),
    reverseEntry: registry.register({
      actionId: 'ledger.reverse-entry',
      mutatesDomain: true,
      emitsEvents: ['EntryReversed'],
    }),
    closeAccount: registry.register({
      actionId: 'ledger.close-account',
      mutatesDomain: true,
      emitsEvents: ['AccountClosed'],
    }),
    transferFunds: registry.register({
      actionId: 'ledger.transfer-funds',
      mutatesDomain: true,
      emitsEvents: ['TransferRequested', 'FundsWithdrawn', 'FundsDeposited', 'TransferCompleted'],
    }),
  };
}

export const LEDGER_ACTIONS = ledgerActions();
