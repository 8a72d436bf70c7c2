import type { AccountEvent } from '@ledger/contract';

export type AccountState =
  { status: 'none' } | { status: 'open' | 'closed'; ownerName: string | null; currency: string; balance: number };

export const initialAccount: AccountState = { status: 'none' };

/** The account a fold of its events gives. Pure and total over the account's events. */
export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  switch (event.eventType) {
    case 'AccountOpened':
      return { status: 'open', ownerName: event.payload.ownerName, currency: event.payload.currency, balance: 0 };
    case 'FundsDeposited':
      return state.status === 'none' ? state : { ...state, balance: state.balance + event.payload.amount };
    case 'FundsWithdrawn':
      return state.status === 'none' ? state : { ...state, balance: state.balance - event.payload.amount };
    case 'EntryReversed':
      return state.status === 'none' ? state : { ...state, balance: state.balance + event.payload.balanceDelta };
    case 'AccountClosed':
      return state.status === 'none' ? state : { ...state, status: 'closed' };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
