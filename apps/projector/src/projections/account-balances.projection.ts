import { defineProjection, type ProjectedEvent } from '@spine/projections';

function balanceDelta(e: ProjectedEvent): number {
  switch (e.eventType) {
    case 'FundsDeposited':
      return e.payload.amount;
    case 'FundsWithdrawn':
      return -e.payload.amount;
    case 'EntryReversed':
      return e.payload.balanceDelta;
    default:
      return 0;
  }
}

interface Opened {
  tenantId: string;
  accountId: string;
  ownerName: string;
  currency: string;
  balance: number;
  status: string;
  sequence: number;
  at: string;
}

interface Changed {
  tenantId: string;
  accountId: string;
  delta: number;
  closed: boolean;
  sequence: number;
  at: string;
}

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
  // Folds the batch per account in memory: one INSERT for the accounts it opens, one UPDATE for the others.
  async applyBatch(db, events) {
    const opened = new Map<string, Opened>();
    const changed = new Map<string, Changed>();
    for (const e of events) {
      const key = JSON.stringify([e.tenantId, e.subjectId]);
      if (e.eventType === 'AccountOpened') {
        // Anything before it in the batch updated no row (or the INSERT fails, as it would event by event).
        changed.delete(key);
        opened.set(key, {
          tenantId: e.tenantId,
          accountId: e.subjectId,
          ownerName: e.payload.ownerName,
          currency: e.payload.currency,
          balance: 0,
          status: 'open',
          sequence: e.sequence,
          at: e.recordedAt,
        });
        continue;
      }
      const row = opened.get(key) ?? changed.get(key);
      const target =
        row ??
        changed
          .set(key, { tenantId: e.tenantId, accountId: e.subjectId, delta: 0, closed: false, sequence: 0, at: '' })
          .get(key)!;
      if ('balance' in target) {
        target.balance += balanceDelta(e);
        if (e.eventType === 'AccountClosed') target.status = 'closed';
      } else {
        target.delta += balanceDelta(e);
        if (e.eventType === 'AccountClosed') target.closed = true;
      }
      target.sequence = e.sequence;
      target.at = e.recordedAt;
    }
    const inserts = [...opened.values()];
    if (inserts.length > 0)
      await db.query(
        `INSERT INTO account_balances (tenant_id, account_id, owner_name, currency, balance, status, sequence, updated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::int[],
                              $8::timestamptz[])`,
        [
          inserts.map((r) => r.tenantId),
          inserts.map((r) => r.accountId),
          inserts.map((r) => r.ownerName),
          inserts.map((r) => r.currency),
          inserts.map((r) => r.balance),
          inserts.map((r) => r.status),
          inserts.map((r) => r.sequence),
          inserts.map((r) => r.at),
        ],
      );
    const updates = [...changed.values()];
    if (updates.length > 0)
      await db.query(
        `UPDATE account_balances b
            SET balance = b.balance + x.delta, status = CASE WHEN x.closed THEN 'closed' ELSE b.status END,
                sequence = x.seq, updated_at = x.at
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::int[], $6::timestamptz[])
                AS x(t, a, delta, closed, seq, at)
          WHERE b.tenant_id = x.t AND b.account_id = x.a`,
        [
          updates.map((r) => r.tenantId),
          updates.map((r) => r.accountId),
          updates.map((r) => r.delta),
          updates.map((r) => r.closed),
          updates.map((r) => r.sequence),
          updates.map((r) => r.at),
        ],
      );
  },
});
