import type { LedgerEvent } from '@ledger/contract';
import type { DataSubjectForgottenEvent } from '@event-spine/events';
import { defineProjection, type Statement } from '@event-spine/projections';
import { balanceChange } from './balance-change';

/** One account's events of a batch, folded: opened in the batch (then inserted) or changed (then updated). */
interface Fold {
  tenantId: string;
  accountId: string;
  opened?: { ownerName: string | null; currency: string };
  delta: number;
  closed: boolean;
  sequence: number;
  at: string;
}

/** The holder's name is erased from the accounts whose events held it (the forgotten data subject's). */
function eraseOwners(forgets: readonly (DataSubjectForgottenEvent & { tenantId: string })[]): Statement[] {
  const rows = forgets.flatMap((e) =>
    e.payload.subjects.filter((s) => s.subjectType === 'account').map((s) => [e.tenantId, s.subjectId] as const),
  );
  if (rows.length === 0) return [];
  return [
    {
      text: `UPDATE account_balances b SET owner_name = NULL FROM unnest($1::text[], $2::text[]) AS x(t, a)
              WHERE b.tenant_id = x.t AND b.account_id = x.a`,
      values: [rows.map((r) => r[0]), rows.map((r) => r[1])],
    },
  ];
}

/** `account-balances`: one row per account with its current balance and status. */
export const accountBalances = defineProjection<LedgerEvent | DataSubjectForgottenEvent>({
  name: 'account-balances',
  version: 1,
  handles: [
    'AccountOpened',
    'FundsDeposited',
    'FundsWithdrawn',
    'EntryReversed',
    'AccountClosed',
    'DataSubjectForgotten',
  ],
  tables: ['account_balances'],
  scope: { tenantColumn: 'tenant_id', subjectColumn: 'account_id' },
  async apply(db, e) {
    const key = [e.tenantId, e.subjectId, e.sequence, e.recordedAt];
    const change = (delta: number) =>
      db.query(
        `UPDATE account_balances SET balance = balance + $5, sequence = $3, updated_at = $4
          WHERE tenant_id = $1 AND account_id = $2`,
        [...key, delta],
      );
    switch (e.eventType) {
      case 'AccountOpened':
        await db.query(
          `INSERT INTO account_balances (tenant_id, account_id, owner_name, currency, balance, status, sequence, updated_at)
           VALUES ($1, $2, $5, $6, 0, 'open', $3, $4)`,
          [...key, e.payload.ownerName, e.payload.currency],
        );
        return;
      case 'FundsDeposited':
      case 'FundsWithdrawn':
      case 'EntryReversed':
        return void (await change(balanceChange(e) ?? 0));
      case 'AccountClosed':
        await db.query(
          `UPDATE account_balances SET status = 'closed', sequence = $3, updated_at = $4
            WHERE tenant_id = $1 AND account_id = $2`,
          key,
        );
        return;
      case 'DataSubjectForgotten':
        for (const { text, values } of eraseOwners([e])) await db.query(text, values);
        return;
      default:
        return;
    }
  },
  // Folds the batch per account in memory: one INSERT for the accounts it opens, one UPDATE for the others.
  batchStatements(events) {
    const statements: Statement[] = [];
    const folds = new Map<string, Fold>();
    const forgets: (DataSubjectForgottenEvent & { tenantId: string })[] = [];
    for (const e of events) {
      if (e.eventType === 'DataSubjectForgotten') {
        forgets.push(e);
        continue;
      }
      const key = JSON.stringify([e.tenantId, e.subjectId]);
      let fold = folds.get(key);
      // An opening starts the fold afresh: anything before it in the batch updated no row (or the INSERT fails, as
      // it would event by event).
      if (!fold || e.eventType === 'AccountOpened') {
        fold = { tenantId: e.tenantId, accountId: e.subjectId, delta: 0, closed: false, sequence: 0, at: '' };
        folds.set(key, fold);
      }
      if (e.eventType === 'AccountOpened') fold.opened = e.payload;
      if (e.eventType === 'AccountClosed') fold.closed = true;
      fold.delta += balanceChange(e) ?? 0;
      fold.sequence = e.sequence;
      fold.at = e.recordedAt;
    }
    const inserts = [...folds.values()].filter((f) => f.opened);
    if (inserts.length > 0)
      statements.push({
        text: `INSERT INTO account_balances (tenant_id, account_id, owner_name, currency, balance, status, sequence, updated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::int[],
                              $8::timestamptz[])`,
        values: [
          inserts.map((r) => r.tenantId),
          inserts.map((r) => r.accountId),
          inserts.map((r) => r.opened!.ownerName),
          inserts.map((r) => r.opened!.currency),
          inserts.map((r) => r.delta),
          inserts.map((r) => (r.closed ? 'closed' : 'open')),
          inserts.map((r) => r.sequence),
          inserts.map((r) => r.at),
        ],
      });
    const updates = [...folds.values()].filter((f) => !f.opened);
    if (updates.length > 0)
      statements.push({
        text: `UPDATE account_balances b
            SET balance = b.balance + x.delta, status = CASE WHEN x.closed THEN 'closed' ELSE b.status END,
                sequence = x.seq, updated_at = x.at
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::int[], $6::timestamptz[])
                AS x(t, a, delta, closed, seq, at)
          WHERE b.tenant_id = x.t AND b.account_id = x.a`,
        values: [
          updates.map((r) => r.tenantId),
          updates.map((r) => r.accountId),
          updates.map((r) => r.delta),
          updates.map((r) => r.closed),
          updates.map((r) => r.sequence),
          updates.map((r) => r.at),
        ],
      });
    // Last: an account opened in this batch is erased too.
    return [...statements, ...eraseOwners(forgets)];
  },
});
