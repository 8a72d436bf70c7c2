import { defineEventCatalog, strictObject } from '@event-spine/events';
import type { LedgerEvent } from './ledger-events';

const amount = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units (cents)' };
const uuid = { type: 'string', format: 'uuid' };
const currency = { type: 'string', pattern: '^[A-Z]{3}$' };

/** The ledger's event catalog: the one place its event types, versions, upcasters, schemas and topics are declared. */
export const ledgerCatalog = defineEventCatalog<LedgerEvent>({
  name: 'ledger',
  description: 'Events of the multi-tenant ledger',
  events: {
    AccountOpened: {
      subjectType: 'account',
      // v1 named the owner `owner`; v2 (current) says `ownerName`, as the API does.
      version: 2,
      upcasters: { 1: ({ owner, ...rest }) => ({ ...rest, ownerName: owner }) },
      schema: strictObject({ ownerName: { type: 'string', minLength: 1 }, currency }, ['ownerName', 'currency']),
      // The holder's name is theirs: sealed with the account's data-subject key, erased by forgetting the account.
      personal: { fields: ['ownerName'] },
    },
    FundsDeposited: {
      subjectType: 'account',
      schema: strictObject({ amount, reference: { type: 'string' }, transferId: uuid }, ['amount']),
    },
    FundsWithdrawn: {
      subjectType: 'account',
      schema: strictObject({ amount, reference: { type: 'string' }, transferId: uuid }, ['amount']),
    },
    EntryReversed: {
      subjectType: 'account',
      schema: strictObject(
        {
          reversedEventId: uuid,
          reversedEventType: { enum: ['FundsDeposited', 'FundsWithdrawn'] },
          balanceDelta: { type: 'integer' },
          reason: { type: 'string', minLength: 1 },
        },
        ['reversedEventId', 'reversedEventType', 'balanceDelta', 'reason'],
      ),
    },
    AccountClosed: { subjectType: 'account', schema: strictObject({}, []) },
    TransferRequested: {
      subjectType: 'transfer',
      schema: strictObject({ fromAccountId: uuid, toAccountId: uuid, amount, currency }, [
        'fromAccountId',
        'toAccountId',
        'amount',
        'currency',
      ]),
    },
    TransferCompleted: {
      subjectType: 'transfer',
      schema: strictObject({ fromAccountId: uuid, toAccountId: uuid, amount }, [
        'fromAccountId',
        'toAccountId',
        'amount',
      ]),
    },
  },
});
