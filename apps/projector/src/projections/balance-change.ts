import type { LedgerEvent } from '@ledger/contract';
import type { ProjectedEvent } from '@event-spine/projections';

/** What an event adds to its account's balance; undefined for events that are not entries. */
export function balanceChange(e: ProjectedEvent<LedgerEvent>): number | undefined {
  switch (e.eventType) {
    case 'FundsDeposited':
      return e.payload.amount;
    case 'FundsWithdrawn':
      return -e.payload.amount;
    case 'EntryReversed':
      return e.payload.balanceDelta;
    default:
      return undefined;
  }
}
