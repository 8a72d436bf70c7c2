/**
 * The ledger's events: plain data, a discriminated union on `eventType`, named after facts in the past tense.
 * Amounts are integers in minor units (cents).
 */

export interface AccountOpened {
  eventType: 'AccountOpened';
  /** `ownerName` is personal data (sealed in the log): null once the account holder was forgotten. */
  payload: { ownerName: string | null; currency: string };
}
export interface FundsDeposited {
  eventType: 'FundsDeposited';
  payload: { amount: number; reference?: string; transferId?: string };
}
export interface FundsWithdrawn {
  eventType: 'FundsWithdrawn';
  payload: { amount: number; reference?: string; transferId?: string };
}
/** Compensation: the reversed entry stays in history; this event undoes its effect on the balance. */
export interface EntryReversed {
  eventType: 'EntryReversed';
  payload: {
    reversedEventId: string;
    reversedEventType: 'FundsDeposited' | 'FundsWithdrawn';
    /** The change this reversal makes to the balance: minus a deposit, plus a withdrawal. */
    balanceDelta: number;
    reason: string;
  };
}
export interface AccountClosed {
  eventType: 'AccountClosed';
  payload: Record<string, never>;
}
export interface TransferRequested {
  eventType: 'TransferRequested';
  payload: { fromAccountId: string; toAccountId: string; amount: number; currency: string };
}
export interface TransferCompleted {
  eventType: 'TransferCompleted';
  payload: { fromAccountId: string; toAccountId: string; amount: number };
}

export type AccountEvent = AccountOpened | FundsDeposited | FundsWithdrawn | EntryReversed | AccountClosed;
export type TransferEvent = TransferRequested | TransferCompleted;
export type LedgerEvent = AccountEvent | TransferEvent;
export type LedgerEventType = LedgerEvent['eventType'];
