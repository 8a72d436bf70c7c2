import type { AccountEvent, TransferEvent } from '@ledger/contract';
import { deciderSpec } from '@event-spine/testing';
import { evolveAccount, initialAccount } from './account';
import {
  decideClose,
  decideDeposit,
  decideOpenAccount,
  decideReverse,
  decideTransfer,
  decideWithdraw,
  MAX_BALANCE,
} from './ledger.decide';
import { evolveTransfer, initialTransfer } from './transfer';

const account = deciderSpec(evolveAccount, initialAccount);
const A = 'acc-a';
const B = 'acc-b';
const opened: AccountEvent = { eventType: 'AccountOpened', payload: { ownerName: 'Ada', currency: 'EUR' } };
const deposited = (amount: number, transferId?: string): AccountEvent => ({
  eventType: 'FundsDeposited',
  payload: transferId ? { amount, transferId } : { amount },
});
const withdrawn = (amount: number): AccountEvent => ({ eventType: 'FundsWithdrawn', payload: { amount } });
const closed: AccountEvent = { eventType: 'AccountClosed', payload: {} };
const onA = (event: AccountEvent, extra = {}) => ({ subjectType: 'account', subjectId: A, event, ...extra });

describe('open account', () => {
  it('opens a new account', () =>
    account
      .given([])
      .when((s) => decideOpenAccount({ type: 'OpenAccount', accountId: A, ownerName: 'Ada', currency: 'EUR' }, s))
      .then([onA(opened)]));
  it('refuses an id that exists', () =>
    account
      .given([opened])
      .when((s) => decideOpenAccount({ type: 'OpenAccount', accountId: A, ownerName: 'X', currency: 'EUR' }, s))
      .thenRefuses('ACCOUNT_EXISTS'));
});

describe('deposit and withdraw', () => {
  it('deposits, keeping the caller’s reference and occurredAt', () =>
    account
      .given([opened])
      .when((s) =>
        decideDeposit(
          { type: 'DepositFunds', accountId: A, amount: 5, reference: 'r', occurredAt: '2026-01-01T00:00:00Z' },
          s,
        ),
      )
      .then([
        onA(
          { eventType: 'FundsDeposited', payload: { amount: 5, reference: 'r' } },
          { occurredAt: '2026-01-01T00:00:00Z' },
        ),
      ]));
  it('refuses a deposit to a missing or closed account, or past the balance limit', () => {
    account
      .given([])
      .when((s) => decideDeposit({ type: 'DepositFunds', accountId: A, amount: 1 }, s))
      .thenRefuses('ACCOUNT_NOT_FOUND');
    account
      .given([opened, closed])
      .when((s) => decideDeposit({ type: 'DepositFunds', accountId: A, amount: 1 }, s))
      .thenRefuses('ACCOUNT_CLOSED');
    account
      .given([opened, deposited(MAX_BALANCE)])
      .when((s) => decideDeposit({ type: 'DepositFunds', accountId: A, amount: 1 }, s))
      .thenRefuses('BALANCE_LIMIT');
  });
  it('withdraws what is there and refuses more, writing no event', () => {
    account
      .given([opened, deposited(10)])
      .when((s) => decideWithdraw({ type: 'WithdrawFunds', accountId: A, amount: 10 }, s))
      .then([onA(withdrawn(10))]);
    account
      .given([opened, deposited(10)])
      .when((s) => decideWithdraw({ type: 'WithdrawFunds', accountId: A, amount: 11 }, s))
      .thenRefuses('INSUFFICIENT_FUNDS');
  });
});

describe('reversal (compensation)', () => {
  const reverse = (eventId: string) => ({ type: 'ReverseEntry' as const, accountId: A, eventId, reason: 'mistake' });
  it('reverses a deposit with a negative delta and a withdrawal with a positive one', () => {
    account
      .given([opened, deposited(10)])
      .when((s) => decideReverse(reverse('e1'), s, { entry: deposited(10), alreadyReversed: false }))
      .then([
        onA({
          eventType: 'EntryReversed',
          payload: { reversedEventId: 'e1', reversedEventType: 'FundsDeposited', balanceDelta: -10, reason: 'mistake' },
        }),
      ]);
    account
      .given([opened, deposited(10), withdrawn(4)])
      .when((s) => decideReverse(reverse('e2'), s, { entry: withdrawn(4), alreadyReversed: false }))
      .then([
        onA({
          eventType: 'EntryReversed',
          payload: { reversedEventId: 'e2', reversedEventType: 'FundsWithdrawn', balanceDelta: 4, reason: 'mistake' },
        }),
      ]);
  });
  it('refuses a second reversal, a reversal into the negative, a missing entry and a transfer leg', () => {
    account
      .given([opened, deposited(10)])
      .when((s) => decideReverse(reverse('e1'), s, { entry: deposited(10), alreadyReversed: true }))
      .thenRefuses('ALREADY_REVERSED');
    account
      .given([opened, deposited(10), withdrawn(8)])
      .when((s) => decideReverse(reverse('e1'), s, { entry: deposited(10), alreadyReversed: false }))
      .thenRefuses('INSUFFICIENT_FUNDS');
    account
      .given([opened])
      .when((s) => decideReverse(reverse('nope'), s, { alreadyReversed: false }))
      .thenRefuses('ENTRY_NOT_FOUND');
    account
      .given([opened, deposited(5, 't1')])
      .when((s) => decideReverse(reverse('e1'), s, { entry: deposited(5, 't1'), alreadyReversed: false }))
      .thenRefuses('ENTRY_NOT_REVERSIBLE');
    account
      .given([opened])
      .when((s) => decideReverse(reverse('e0'), s, { entry: opened, alreadyReversed: false }))
      .thenRefuses('ENTRY_NOT_REVERSIBLE');
  });
  it('folds a reversal back into the balance', () =>
    account
      .given([
        opened,
        deposited(10),
        {
          eventType: 'EntryReversed',
          payload: { reversedEventId: 'e', reversedEventType: 'FundsDeposited', balanceDelta: -10, reason: 'r' },
        },
      ])
      .thenState({ status: 'open', ownerName: 'Ada', currency: 'EUR', balance: 0 }));
});

describe('close', () => {
  it('closes an empty account only', () => {
    account
      .given([opened])
      .when((s) => decideClose({ type: 'CloseAccount', accountId: A }, s))
      .then([onA(closed)]);
    account
      .given([opened, deposited(1)])
      .when((s) => decideClose({ type: 'CloseAccount', accountId: A }, s))
      .thenRefuses('BALANCE_NOT_ZERO');
    account
      .given([opened, closed])
      .when((s) => decideClose({ type: 'CloseAccount', accountId: A }, s))
      .thenRefuses('ACCOUNT_CLOSED');
  });
});

describe('transfer', () => {
  const fold = (events: AccountEvent[]) => events.reduce(evolveAccount, initialAccount);
  const noTransfer = ([] as TransferEvent[]).reduce(evolveTransfer, initialTransfer);
  const command = (amount: number, from = A, to = B) => ({
    type: 'TransferFunds' as const,
    transferId: 'T',
    fromAccountId: from,
    toAccountId: to,
    amount,
  });

  it('decides four events chained by causation', () => {
    expect(decideTransfer(command(3), noTransfer, fold([opened, deposited(5)]), fold([opened]))).toEqual([
      {
        subjectType: 'transfer',
        subjectId: 'T',
        event: {
          eventType: 'TransferRequested',
          payload: { fromAccountId: A, toAccountId: B, amount: 3, currency: 'EUR' },
        },
        causedBy: undefined,
      },
      {
        subjectType: 'account',
        subjectId: A,
        event: { eventType: 'FundsWithdrawn', payload: { amount: 3, transferId: 'T' } },
        causedBy: 0,
      },
      {
        subjectType: 'account',
        subjectId: B,
        event: { eventType: 'FundsDeposited', payload: { amount: 3, transferId: 'T' } },
        causedBy: 1,
      },
      {
        subjectType: 'transfer',
        subjectId: 'T',
        event: { eventType: 'TransferCompleted', payload: { fromAccountId: A, toAccountId: B, amount: 3 } },
        causedBy: 2,
      },
    ]);
  });
  it.each([
    [
      'SAME_ACCOUNT',
      () => decideTransfer(command(1, A, A), noTransfer, fold([opened, deposited(5)]), fold([opened, deposited(5)])),
    ],
    ['INSUFFICIENT_FUNDS', () => decideTransfer(command(6), noTransfer, fold([opened, deposited(5)]), fold([opened]))],
    ['ACCOUNT_NOT_FOUND', () => decideTransfer(command(1), noTransfer, fold([opened, deposited(5)]), fold([]))],
    [
      'ACCOUNT_CLOSED',
      () => decideTransfer(command(1), noTransfer, fold([opened, deposited(5)]), fold([opened, closed])),
    ],
    [
      'CURRENCY_MISMATCH',
      () =>
        decideTransfer(
          command(1),
          noTransfer,
          fold([opened, deposited(5)]),
          fold([{ eventType: 'AccountOpened', payload: { ownerName: 'B', currency: 'USD' } }]),
        ),
    ],
    [
      'TRANSFER_EXISTS',
      () =>
        decideTransfer(
          command(1),
          evolveTransfer(noTransfer, {
            eventType: 'TransferRequested',
            payload: { fromAccountId: A, toAccountId: B, amount: 1, currency: 'EUR' },
          }),
          fold([opened, deposited(5)]),
          fold([opened]),
        ),
    ],
  ])('refuses with %s', (code, decide) => {
    expect(decide).toThrow(expect.objectContaining({ code }));
  });
});
