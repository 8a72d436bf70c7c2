import { defineProjection } from '@spine/projections';

/** `tenant-totals`: per tenant and currency, the number of accounts, of open accounts, and the total balance. */
export const tenantTotals = defineProjection({
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
});
