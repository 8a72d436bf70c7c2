import type { PendingEvent } from '@event-spine/domain';
import type { AccountEvent, LedgerEvent, TransferEvent } from '@ledger/contract';
import type { AccountState } from './account';
import { LedgerErrors } from './ledger.errors';
import type { TransferState } from './transfer';

/** The largest balance an account may hold: JSON numbers stay exact up to 2^53 - 1. */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export type LedgerCommand =
  | { type: 'OpenAccount'; accountId: string; ownerName: string; currency: string }
  | { type: 'DepositFunds'; accountId: string; amount: number; reference?: string; occurredAt?: string }
  | { type: 'WithdrawFunds'; accountId: string; amount: number; reference?: string; occurredAt?: string }
  | { type: 'ReverseEntry'; accountId: string; eventId: string; reason: string }
  | { type: 'CloseAccount'; accountId: string }
  | { type: 'TransferFunds'; transferId: string; fromAccountId: string; toAccountId: string; amount: number };

/** What a reversal needs to know beyond the account's state: the entry it reverses, read from the log. */
export interface ReversalFacts {
  entry?: AccountEvent;
  alreadyReversed: boolean;
}

type AccountPending = PendingEvent<AccountEvent>;
type LedgerPending = PendingEvent<LedgerEvent>;

const onAccount = (accountId: string, event: AccountEvent, extra: Partial<AccountPending> = {}): AccountPending => ({
  subjectType: 'account',
  subjectId: accountId,
  event,
  ...extra,
});

function openAccountOrThrow(accountId: string, account: AccountState) {
  if (account.status === 'none') throw LedgerErrors.accountNotFound(accountId);
  if (account.status === 'closed') throw LedgerErrors.accountClosed(accountId);
  return account;
}

export function decideOpenAccount(
  command: Extract<LedgerCommand, { type: 'OpenAccount' }>,
  account: AccountState,
): AccountPending[] {
  if (account.status !== 'none') throw LedgerErrors.accountExists(command.accountId);
  return [
    onAccount(command.accountId, {
      eventType: 'AccountOpened',
      payload: { ownerName: command.ownerName, currency: command.currency },
    }),
  ];
}

export function decideDeposit(
  command: Extract<LedgerCommand, { type: 'DepositFunds' }>,
  account: AccountState,
): AccountPending[] {
  const open = openAccountOrThrow(command.accountId, account);
  if (open.balance + command.amount > MAX_BALANCE) throw LedgerErrors.balanceLimit(command.accountId);
  return [
    onAccount(
      command.accountId,
      { eventType: 'FundsDeposited', payload: { amount: command.amount, ...optional('reference', command.reference) } },
      { occurredAt: command.occurredAt },
    ),
  ];
}

export function decideWithdraw(
  command: Extract<LedgerCommand, { type: 'WithdrawFunds' }>,
  account: AccountState,
): AccountPending[] {
  const open = openAccountOrThrow(command.accountId, account);
  if (open.balance < command.amount)
    throw LedgerErrors.insufficientFunds(command.accountId, open.balance, command.amount);
  return [
    onAccount(
      command.accountId,
      { eventType: 'FundsWithdrawn', payload: { amount: command.amount, ...optional('reference', command.reference) } },
      { occurredAt: command.occurredAt },
    ),
  ];
}

/** Compensation, never an edit: the original entry stays; a new event undoes its effect. */
export function decideReverse(
  command: Extract<LedgerCommand, { type: 'ReverseEntry' }>,
  account: AccountState,
  facts: ReversalFacts,
): AccountPending[] {
  const open = openAccountOrThrow(command.accountId, account);
  const entry = facts.entry;
  if (!entry) throw LedgerErrors.entryNotFound(command.accountId, command.eventId);
  if (entry.eventType !== 'FundsDeposited' && entry.eventType !== 'FundsWithdrawn') {
    throw LedgerErrors.entryNotReversible(command.eventId, `${entry.eventType} is not a deposit or withdrawal`);
  }
  if (entry.payload.transferId !== undefined) {
    throw LedgerErrors.entryNotReversible(command.eventId, 'it is one leg of a transfer; transfer the amount back');
  }
  if (facts.alreadyReversed) throw LedgerErrors.alreadyReversed(command.eventId);
  const amount = entry.payload.amount;
  const balanceDelta = entry.eventType === 'FundsDeposited' ? -amount : amount;
  if (open.balance + balanceDelta < 0) throw LedgerErrors.insufficientFunds(command.accountId, open.balance, amount);
  if (open.balance + balanceDelta > MAX_BALANCE) throw LedgerErrors.balanceLimit(command.accountId);
  return [
    onAccount(command.accountId, {
      eventType: 'EntryReversed',
      payload: {
        reversedEventId: command.eventId,
        reversedEventType: entry.eventType,
        balanceDelta,
        reason: command.reason,
      },
    }),
  ];
}

export function decideClose(
  command: Extract<LedgerCommand, { type: 'CloseAccount' }>,
  account: AccountState,
): AccountPending[] {
  const open = openAccountOrThrow(command.accountId, account);
  if (open.balance !== 0) throw LedgerErrors.balanceNotZero(command.accountId, open.balance);
  return [onAccount(command.accountId, { eventType: 'AccountClosed', payload: {} })];
}

/**
 * A transfer is four facts in one transaction, one correlation, each caused by the one before:
 * TransferRequested → FundsWithdrawn (from) → FundsDeposited (to) → TransferCompleted.
 */
export function decideTransfer(
  command: Extract<LedgerCommand, { type: 'TransferFunds' }>,
  transfer: TransferState,
  from: AccountState,
  to: AccountState,
): LedgerPending[] {
  if (command.fromAccountId === command.toAccountId) throw LedgerErrors.sameAccount(command.fromAccountId);
  if (transfer.status !== 'none') throw LedgerErrors.transferExists(command.transferId);
  const source = openAccountOrThrow(command.fromAccountId, from);
  const target = openAccountOrThrow(command.toAccountId, to);
  if (source.currency !== target.currency) throw LedgerErrors.currencyMismatch(source.currency, target.currency);
  if (source.balance < command.amount) {
    throw LedgerErrors.insufficientFunds(command.fromAccountId, source.balance, command.amount);
  }
  if (target.balance + command.amount > MAX_BALANCE) throw LedgerErrors.balanceLimit(command.toAccountId);
  const { transferId, fromAccountId, toAccountId, amount } = command;
  const onTransfer = (event: TransferEvent, causedBy?: number): LedgerPending => ({
    subjectType: 'transfer',
    subjectId: transferId,
    event,
    causedBy,
  });
  return [
    onTransfer({
      eventType: 'TransferRequested',
      payload: { fromAccountId, toAccountId, amount, currency: source.currency },
    }),
    onAccount(fromAccountId, { eventType: 'FundsWithdrawn', payload: { amount, transferId } }, { causedBy: 0 }),
    onAccount(toAccountId, { eventType: 'FundsDeposited', payload: { amount, transferId } }, { causedBy: 1 }),
    onTransfer({ eventType: 'TransferCompleted', payload: { fromAccountId, toAccountId, amount } }, 2),
  ];
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
