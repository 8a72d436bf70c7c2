import type { LedgerEvent } from '@ledger/contract';
import { defineProjection } from '@event-spine/projections';
import { balanceChange } from './balance-change';

/** `account-statements`: one row per balance-changing entry, with the balance after it. */
export const accountStatements = defineProjection<LedgerEvent>({
  name: 'account-statements',
  version: 1,
  handles: ['FundsDeposited', 'FundsWithdrawn', 'EntryReversed'],
  tables: ['account_statements'],
  scope: { tenantColumn: 'tenant_id', subjectColumn: 'account_id' },
  async apply(db, e) {
    const amount = balanceChange(e);
    if (amount === undefined) return;
    await db.query(
      `INSERT INTO account_statements (tenant_id, account_id, sequence, event_id, event_type, amount, balance_after, recorded_at)
       SELECT $1, $2, $3, $4, $5, $6,
              coalesce((SELECT balance_after FROM account_statements
                         WHERE tenant_id = $1 AND account_id = $2 ORDER BY sequence DESC LIMIT 1), 0) + $6,
              $7`,
      [e.tenantId, e.subjectId, e.sequence, e.id, e.eventType, amount, e.recordedAt],
    );
  },
  // One INSERT: each row's balance is the account's last stored balance plus the running sum of the batch's amounts.
  batchStatements(events) {
    const entries = events.flatMap((e) => {
      const amount = balanceChange(e);
      return amount === undefined ? [] : [{ e, amount }];
    });
    if (entries.length === 0) return [];
    const statement = {
      text: `INSERT INTO account_statements (tenant_id, account_id, sequence, event_id, event_type, amount, balance_after, recorded_at)
       SELECT x.t, x.a, x.seq, x.id, x.type, x.amount,
              coalesce(last.balance_after, 0) + sum(x.amount) OVER (PARTITION BY x.t, x.a ORDER BY x.ord),
              x.at
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[])
              WITH ORDINALITY AS x(t, a, seq, id, type, amount, at, ord)
         LEFT JOIN LATERAL (SELECT s.balance_after FROM account_statements s
                             WHERE s.tenant_id = x.t AND s.account_id = x.a
                             ORDER BY s.sequence DESC LIMIT 1) last ON true`,
      values: [
        entries.map(({ e }) => e.tenantId),
        entries.map(({ e }) => e.subjectId),
        entries.map(({ e }) => e.sequence),
        entries.map(({ e }) => e.id),
        entries.map(({ e }) => e.eventType),
        entries.map(({ amount }) => amount),
        entries.map(({ e }) => e.recordedAt),
      ],
    };
    return [statement];
  },
});
