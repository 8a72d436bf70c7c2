import { DomainError } from '@event-spine/domain';

/** The ledger's refusals, each with a stable code. */
export const LedgerErrors = {
  accountNotFound: (accountId: string) =>
    new DomainError('not-found', 'ACCOUNT_NOT_FOUND', `Account ${accountId} does not exist`, { accountId }),
  accountExists: (accountId: string) =>
    new DomainError('conflict', 'ACCOUNT_EXISTS', `Account ${accountId} already exists`, { accountId }),
  accountClosed: (accountId: string) =>
    new DomainError('conflict', 'ACCOUNT_CLOSED', `Account ${accountId} is closed`, { accountId }),
  insufficientFunds: (accountId: string, balance: number, needed: number) =>
    new DomainError('conflict', 'INSUFFICIENT_FUNDS', `Account ${accountId} has ${balance}, needs ${needed}`, {
      accountId,
      balance,
      needed,
    }),
  balanceLimit: (accountId: string) =>
    new DomainError('conflict', 'BALANCE_LIMIT', `The balance of account ${accountId} would exceed the limit`, {
      accountId,
    }),
  balanceNotZero: (accountId: string, balance: number) =>
    new DomainError('conflict', 'BALANCE_NOT_ZERO', `Account ${accountId} still holds ${balance}`, {
      accountId,
      balance,
    }),
  entryNotFound: (accountId: string, eventId: string) =>
    new DomainError('not-found', 'ENTRY_NOT_FOUND', `Account ${accountId} has no entry ${eventId}`, {
      accountId,
      eventId,
    }),
  entryNotReversible: (eventId: string, why: string) =>
    new DomainError('unprocessable', 'ENTRY_NOT_REVERSIBLE', `Entry ${eventId} cannot be reversed: ${why}`, {
      eventId,
    }),
  alreadyReversed: (eventId: string) =>
    new DomainError('conflict', 'ALREADY_REVERSED', `Entry ${eventId} has already been reversed`, { eventId }),
  sameAccount: (accountId: string) =>
    new DomainError(
      'unprocessable',
      'SAME_ACCOUNT',
      `A transfer needs two different accounts, got ${accountId} twice`,
      {
        accountId,
      },
    ),
  currencyMismatch: (from: string, to: string) =>
    new DomainError('unprocessable', 'CURRENCY_MISMATCH', `Cannot transfer between ${from} and ${to} accounts`, {
      from,
      to,
    }),
  transferExists: (transferId: string) =>
    new DomainError('conflict', 'TRANSFER_EXISTS', `Transfer ${transferId} already exists`, { transferId }),
};
