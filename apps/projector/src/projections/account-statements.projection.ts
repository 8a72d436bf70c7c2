import { defineProjection, type ProjectedEvent } from '@spine/projections';

function amountOf(e: ProjectedEvent): number | undefined {
  switch (e.eventType) {
    case 'FundsDeposited':
      return e.payload.amount;
    case 'FundsWithdrawn':
      return -e.payload.amount;
    case 'EntryReversed':
      return e.payload.balanceDelta;
    default:
      return undefined;
  }
}

/** `account-statements`: one row per balance-changing entry, with the balance after it. */
export const accountStatements = defineProjection({
  name: 'account-statements',
  version: 1,
  handles: ['FundsDeposited', 'FundsWithdrawn', 'EntryReversed'],
  tables: ['account_statements'],
  scope: { tenantColumn: 'tenant_id', subjectColumn: 'account_id' },
  async apply(db, e) {
    const amount = amountOf(e);
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
});
