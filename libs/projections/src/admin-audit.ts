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

/** One row of the admin audit log, as the admin API answers it. */
export interface AdminAuditEntry {
  id: number;
  at: string;
  actorId: string;
  tenantId: string;
  action: string;
  target: Record<string, unknown>;
  outcome: string;
  details: unknown;
}

export interface AdminAuditQuery {
  tenantId: string;
  /** An action (`parked.retry`) or a family of actions (`parked` also finds `parked.retry` and `parked.skip`). */
  action?: string;
  actorId?: string;
  /** The start of the outcome: outcomes are short sentences (`refused: not parked`), so `refused` finds refusals. */
  outcome?: string;
  since?: Date;
  until?: Date;
  /** Only entries older than this id (the previous page's `nextBefore`). */
  before?: number;
  limit: number;
}

/** `%`, `_` and `\` are LIKE's own: a filter is matched as written, never as a pattern. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A page of one tenant's admin audit log, newest first. Paged by id rather than by time: ids are unique and follow
 * the order rows were written, while `at` (the writing transaction's start) can repeat or run out of order.
 */
export async function listAdminActions(
  db: Queryable,
  q: AdminAuditQuery,
): Promise<{ entries: AdminAuditEntry[]; nextBefore: number | null }> {
  const args: unknown[] = [q.tenantId];
  const where = ['tenant_id = $1'];
  const arg = (value: unknown) => `$${args.push(value)}`;
  if (q.action !== undefined) {
    const p = arg(q.action);
    where.push(`(action = ${p} OR action LIKE ${arg(`${likeLiteral(q.action)}.%`)})`);
  }
  if (q.actorId !== undefined) where.push(`actor_id = ${arg(q.actorId)}`);
  if (q.outcome !== undefined) where.push(`outcome LIKE ${arg(`${likeLiteral(q.outcome)}%`)}`);
  if (q.since !== undefined) where.push(`at >= ${arg(q.since)}`);
  if (q.until !== undefined) where.push(`at <= ${arg(q.until)}`);
  if (q.before !== undefined) where.push(`id < ${arg(q.before)}`);
  // One row more than asked: whether another page exists is known without a second query.
  const limit = arg(q.limit + 1);
  const { rows } = await db.query<{
    id: string;
    at: Date;
    actor_id: string;
    tenant_id: string;
    action: string;
    target: Record<string, unknown>;
    outcome: string;
    details: unknown;
  }>(
    `SELECT id, at, actor_id, tenant_id, action, target, outcome, details
       FROM admin_audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${limit}`,
    args,
  );
  const entries = rows.slice(0, q.limit).map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actorId: r.actor_id,
    tenantId: r.tenant_id,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details: r.details,
  }));
  return { entries, nextBefore: rows.length > q.limit ? entries.at(-1)!.id : null };
}
