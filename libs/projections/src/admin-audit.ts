import type { Queryable } from './projection';

export interface AdminAction {
  actorId: string;
  tenantId: string;
  action: string;
  target: Record<string, unknown>;
  outcome: string;
  details?: unknown;
}

/** Appends one row to the append-only admin audit log: who did what, to what, when, and how it ended. */
export async function recordAdminAction(db: Queryable, entry: AdminAction): Promise<void> {
  await db.query(
    `INSERT INTO admin_audit_log (actor_id, tenant_id, action, target, outcome, details) VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      entry.actorId,
      entry.tenantId,
      entry.action,
      JSON.stringify(entry.target),
      entry.outcome,
      entry.details === undefined ? null : JSON.stringify(entry.details),
    ],
  );
}
