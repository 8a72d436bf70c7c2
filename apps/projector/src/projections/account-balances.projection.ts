import { defineProjection } from '@spine/projections';

/** `account-balances`: one row per account with its current balance and status. */
export const accountBalances = defineProjection({
  name: 'account-balances',
  version: 1,
  handles: ['AccountOpened', 'FundsDeposited', 'FundsWithdrawn', 'EntryReversed', 'AccountClosed'],
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
        return void (await change(e.payload.amount));
      case 'FundsWithdrawn':
        return void (await change(-e.payload.amount));
      case 'EntryReversed':
        return void (await change(e.payload.balanceDelta));
      case 'AccountClosed':
        await db.query(
          `UPDATE account_balances SET status = 'closed', sequence = $3, updated_at = $4
            WHERE tenant_id = $1 AND account_id = $2`,
          key,
        );
        return;
      default:
        return;
    }
  },
});
