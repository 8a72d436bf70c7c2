import type { CommandDefinition } from '@event-spine/commands';
import { findEvent } from '@event-spine/event-log';
import { ledgerCatalog, type AccountEvent } from '@ledger/contract';
import type { AccountState } from '../../domain/account';
import { decideReverse, type ReversalFacts } from '../../domain/ledger.decide';
import { LEDGER_ACTIONS } from '../../ledger.actions';
import { account, accountReply } from '../account-reply';

export interface ReverseEntryInput {
  accountId: string;
  eventId: string;
  reason: string;
}

export const reverseEntryCommand: CommandDefinition<ReverseEntryInput, ReversalFacts> = {
  ...LEDGER_ACTIONS.reverseEntry,
  subjects: (i) => [account(i.accountId)],
  primarySubject: (i) => account(i.accountId),
  // Read under the account's lock: no other reversal of this account can commit in between.
  async facts(db, i, ctx) {
    const entry = await findEvent(db, ledgerCatalog, ctx.tenantId, i.eventId);
    const onThisAccount = entry && entry.subjectType === 'account' && entry.subjectId === i.accountId;
    const reversed = await db.query<unknown[]>(
      `SELECT 1 FROM event_log
        WHERE tenant_id = $1 AND subject_type = 'account' AND subject_id = $2 AND event_type = 'EntryReversed'
          AND payload->>'reversedEventId' = $3 LIMIT 1`,
      [ctx.tenantId, i.accountId, i.eventId],
    );
    // Only an entry of this account, in this tenant, can be reversed here; the log is read upcast.
    return { entry: onThisAccount ? (entry as AccountEvent) : undefined, alreadyReversed: reversed.length > 0 };
  },
  decide: (i, states, facts) =>
    decideReverse({ type: 'ReverseEntry', ...i }, states.get<AccountState>(account(i.accountId)).state, facts),
  reply: (i, after) => ({ statusCode: 201, body: accountReply(after, i.accountId, true) }),
};
