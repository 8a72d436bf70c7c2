import type { LedgerEvent } from '@ledger/contract';
import { defineProjection, type ProjectedEvent, type Statement } from '@event-spine/projections';
import { balanceChange } from './balance-change';

/** `tenant-totals`: per tenant and currency, the number of accounts, of open accounts, and the total balance. */
export const tenantTotals = defineProjection<LedgerEvent>({
  name: 'tenant-totals',
  version: 1,
  handles: ['AccountOpened', 'FundsDeposited', 'FundsWithdrawn', 'EntryReversed', 'AccountClosed'],
  tables: ['tenant_totals', 'tenant_total_accounts'],
  scope: { tenantColumn: 'tenant_id' },
  async apply(db, e) {
    const bump = (accounts: number, open: number, balance: number) =>
      db.query(
        `INSERT INTO tenant_totals AS t (tenant_id, currency, accounts, open_accounts, total_balance)
         SELECT $1, a.currency, $3, $4, $5 FROM tenant_total_accounts a WHERE a.tenant_id = $1 AND a.account_id = $2
         ON CONFLICT (tenant_id, currency) DO UPDATE
           SET accounts = t.accounts + $3, open_accounts = t.open_accounts + $4, total_balance = t.total_balance + $5`,
        [e.tenantId, e.subjectId, accounts, open, balance],
      );
    switch (e.eventType) {
      case 'AccountOpened':
        await db.query(`INSERT INTO tenant_total_accounts (tenant_id, account_id, currency) VALUES ($1, $2, $3)`, [
          e.tenantId,
          e.subjectId,
          e.payload.currency,
        ]);
        return void (await bump(1, 1, 0));
      case 'FundsDeposited':
        return void (await bump(0, 0, e.payload.amount));
      case 'FundsWithdrawn':
        return void (await bump(0, 0, -e.payload.amount));
      case 'EntryReversed':
        return void (await bump(0, 0, e.payload.balanceDelta));
      case 'AccountClosed':
        return void (await bump(0, -1, 0));
      default:
        return;
    }
  },
  // The accounts it opens first (their currency is what the totals join on), then one upsert per tenant and currency,
  // in key order so that concurrent batches lock the shared total rows in the same order.
  batchStatements(events) {
    const statements: Statement[] = [];
    const opened = events.flatMap((e) => (e.eventType === 'AccountOpened' ? [e] : []));
    if (opened.length > 0)
      statements.push({
        text: `INSERT INTO tenant_total_accounts (tenant_id, account_id, currency)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
        values: [opened.map((e) => e.tenantId), opened.map((e) => e.subjectId), opened.map((e) => e.payload.currency)],
      });
    const perAccount = new Map<string, { t: string; a: string; accounts: number; open: number; balance: number }>();
    for (const e of events) {
      const [accounts, open, balance] = totalsChange(e);
      const key = JSON.stringify([e.tenantId, e.subjectId]);
      const row = perAccount.get(key) ?? { t: e.tenantId, a: e.subjectId, accounts: 0, open: 0, balance: 0 };
      row.accounts += accounts;
      row.open += open;
      row.balance += balance;
      perAccount.set(key, row);
    }
    const rows = [...perAccount.values()];
    statements.push({
      text: `INSERT INTO tenant_totals AS t (tenant_id, currency, accounts, open_accounts, total_balance)
       SELECT x.t, a.currency, sum(x.accounts)::bigint, sum(x.open)::bigint, sum(x.balance)::bigint
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS x(t, acc, accounts, open, balance)
         JOIN tenant_total_accounts a ON a.tenant_id = x.t AND a.account_id = x.acc
        GROUP BY x.t, a.currency
        ORDER BY x.t, a.currency
       ON CONFLICT (tenant_id, currency) DO UPDATE
         SET accounts = t.accounts + EXCLUDED.accounts, open_accounts = t.open_accounts + EXCLUDED.open_accounts,
             total_balance = t.total_balance + EXCLUDED.total_balance`,
      values: [
        rows.map((r) => r.t),
        rows.map((r) => r.a),
        rows.map((r) => r.accounts),
        rows.map((r) => r.open),
        rows.map((r) => r.balance),
      ],
    });
    return statements;
  },
});

/** What one event adds to its tenant's totals: accounts, open accounts, balance. */
function totalsChange(e: ProjectedEvent<LedgerEvent>): [number, number, number] {
  if (e.eventType === 'AccountOpened') return [1, 1, 0];
  if (e.eventType === 'AccountClosed') return [0, -1, 0];
  return [0, 0, balanceChange(e) ?? 0];
}
