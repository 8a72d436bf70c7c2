import type { Queryable } from '@event-spine/event-log';

/** Every statement on `idempotency_keys`: the first response to each Idempotency-Key, per tenant. */

export interface StoredResponse {
  requestHash: string;
  statusCode: number;
  body: Record<string, unknown>;
}

export async function findStoredResponse(
  db: Queryable,
  tenantId: string,
  key: string,
): Promise<StoredResponse | undefined> {
  const rows = await db.query<{ request_hash: string; status_code: number; body: Record<string, unknown> }[]>(
    `SELECT request_hash, status_code, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
    [tenantId, key],
  );
  return rows[0] && { requestHash: rows[0].request_hash, statusCode: rows[0].status_code, body: rows[0].body };
}

/**
 * Stores the first response. In the command's transaction a second first request with the same key fails on the
 * primary key (the executor retries and finds the winner's); a refusal stored after the rollback yields to any
 * response already there.
 */
export async function storeResponse(
  db: Queryable,
  row: { tenantId: string; key: string; actionId: string } & StoredResponse,
  onConflict: 'fail' | 'keep-existing',
): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
     VALUES ($1, $2, $3, $4, $5, $6)${onConflict === 'keep-existing' ? ' ON CONFLICT DO NOTHING' : ''}`,
    [row.tenantId, row.key, row.actionId, row.requestHash, row.statusCode, row.body],
  );
}
