import type { Queryable } from '@event-spine/event-log';
import type { Statement } from '@event-spine/persistence';

/** Every statement on `idempotency_keys`: the first response to each Idempotency-Key, per tenant. */

export interface StoredResponse {
  requestHash: string;
  statusCode: number;
  body: Record<string, unknown>;
}

export interface StoredResponseRow {
  key: string;
  request_hash: string;
  status_code: number;
  body: Record<string, unknown>;
}

/** The stored responses of several keys at once (the commands of one transaction each have their own). */
export function findStoredResponsesStatement(tenantId: string, keys: readonly string[]): Statement {
  return {
    text: `SELECT key, request_hash, status_code, body FROM idempotency_keys WHERE tenant_id = $1 AND key = ANY($2::text[])`,
    values: [tenantId, keys],
  };
}

export function toStoredResponse(row: StoredResponseRow): StoredResponse {
  return { requestHash: row.request_hash, statusCode: row.status_code, body: row.body };
}

/**
 * Stores a refusal as the key's first response, after its transaction rolled back; it yields to any response already
 * there. (A command's own response goes with its writes: `storeResponsesStatement`.)
 */
export async function storeRefusal(
  db: Queryable,
  row: { tenantId: string; key: string; actionId: string } & StoredResponse,
): Promise<void> {
  await db.query(
    `INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [row.tenantId, row.key, row.actionId, row.requestHash, row.statusCode, row.body],
  );
}

/**
 * The first responses of several commands, one row each, in one statement (the commands of one transaction). A key
 * stored since the opening read fails it on the primary key: the executor retries and finds the winner's.
 */
export function storeResponsesStatement(
  tenantId: string,
  rows: readonly ({ key: string; actionId: string } & StoredResponse)[],
): Statement {
  return {
    text: `INSERT INTO idempotency_keys (tenant_id, key, action_id, request_hash, status_code, body)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::json[])`,
    values: [
      tenantId,
      rows.map((r) => r.key),
      rows.map((r) => r.actionId),
      rows.map((r) => r.requestHash),
      rows.map((r) => r.statusCode),
      rows.map((r) => JSON.stringify(r.body)),
    ],
  };
}
