/** Every statement on `audit_checkpoints`, and taking a checkpoint. */
import type { KeyObject } from 'node:crypto';
import type { ChainQueryable } from './chain-rows';
import { signCheckpoint, CHECKPOINT_FORMAT, type Checkpoint, type CheckpointHead } from './checkpoint';
import { verifyChains, type VerifyReport } from './verify';

/** A checkpoint is signed only over intact chains; this carries the verification that found them broken. */
export class ChainsBrokenError extends Error {
  constructor(readonly report: VerifyReport) {
    super(`${report.broken.length} chain(s) are broken; no checkpoint was taken`);
    this.name = 'ChainsBrokenError';
  }
}

interface CheckpointRow {
  tenant_id: string;
  created_at: string;
  root: Buffer;
  heads: CheckpointHead[];
  signature: Buffer;
  public_key: string;
  key_id: string;
}

const fromRow = (row: CheckpointRow): Checkpoint => ({
  format: CHECKPOINT_FORMAT,
  tenantId: row.tenant_id,
  createdAt: row.created_at,
  root: row.root.toString('hex'),
  heads: row.heads,
  signature: row.signature.toString('base64'),
  publicKey: row.public_key,
  keyId: row.key_id,
});

export async function latestCheckpoint(db: ChainQueryable, tenantId: string): Promise<Checkpoint | undefined> {
  const rows = await db.query<CheckpointRow[]>(
    `SELECT tenant_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at, root, heads, signature, public_key, key_id FROM audit_checkpoints
      WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`,
    [tenantId],
  );
  return rows[0] && fromRow(rows[0]);
}

export async function insertCheckpoint(db: ChainQueryable, c: Checkpoint): Promise<void> {
  await db.query(
    `INSERT INTO audit_checkpoints (tenant_id, created_at, root, heads, signature, public_key, key_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      c.tenantId,
      c.createdAt,
      Buffer.from(c.root, 'hex'),
      JSON.stringify(c.heads),
      Buffer.from(c.signature, 'base64'),
      c.publicKey,
      c.keyId,
    ],
  );
}

/**
 * Verifies every chain of the tenant, and that the previous checkpoint's heads are still reached; only then signs
 * the heads it re-computed and stores the checkpoint. `db` should read one snapshot (REPEATABLE READ) so the heads
 * are one cut of the log; outside one, each head is still a real prefix of its chain.
 */
export async function takeCheckpoint(
  db: ChainQueryable,
  tenantId: string,
  privateKey: KeyObject,
  now: Date = new Date(),
): Promise<{ checkpoint: Checkpoint; report: VerifyReport }> {
  const previous = await latestCheckpoint(db, tenantId);
  const heads: CheckpointHead[] = [];
  const report = await verifyChains(db, {
    tenantId,
    checkpoint: previous,
    onHead: ({ subjectType, subjectId, sequence, hash }) => heads.push({ subjectType, subjectId, sequence, hash }),
  });
  if (!report.ok) throw new ChainsBrokenError(report);
  const checkpoint = signCheckpoint(tenantId, now.toISOString(), heads, privateKey);
  return { checkpoint, report };
}
