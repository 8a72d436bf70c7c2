import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';
import { ServiceDirectory } from '../services/service-directory';

export interface AuditQuery {
  tenantId: string;
  action?: string;
  actorId?: string;
  outcome?: string;
  since?: Date;
  until?: Date;
  before?: number;
  limit: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  actorId: string;
  tenantId: string;
  action: string;
  target: unknown;
  outcome: string;
  details: unknown;
}

/**
 * Reads a projector's `admin_audit_log` (read-only transactions, the caller's tenant only). The projectors have no
 * route that lists it yet; when they do, this reader gives way to a call through the pass-through.
 */
@Injectable()
export class AuditLogReader implements OnModuleDestroy {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly directory: ServiceDirectory) {}

  available(domain: string): boolean {
    return Boolean(this.directory.service(domain, 'projector')?.databaseUrl);
  }

  private pool(domain: string): Pool | undefined {
    const projector = this.directory.service(domain, 'projector');
    if (!projector?.databaseUrl) return undefined;
    let pool = this.pools.get(domain);
    if (!pool) {
      const schema = projector.databaseSchema ?? 'public';
      pool = new Pool({
        connectionString: projector.databaseUrl,
        max: 2,
        application_name: 'console',
        options: `-c search_path="${schema.replace(/"/g, '')}" -c default_transaction_read_only=on`,
        idleTimeoutMillis: 10000,
      });
      pool.on('error', () => undefined);
      this.pools.set(domain, pool);
    }
    return pool;
  }

  async read(domain: string, q: AuditQuery): Promise<AuditEntry[] | undefined> {
    const pool = this.pool(domain);
    if (!pool) return undefined;
    const where = ['tenant_id = $1'];
    const args: unknown[] = [q.tenantId];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.action) add('action ILIKE ?', `%${q.action}%`);
    if (q.actorId) add('actor_id ILIKE ?', `%${q.actorId}%`);
    if (q.outcome) add('outcome ILIKE ?', `%${q.outcome}%`);
    if (q.since) add('at >= ?', q.since);
    if (q.until) add('at <= ?', q.until);
    if (q.before) add('id < ?', q.before);
    args.push(q.limit);
    const { rows } = await pool.query<AuditEntry & { id: string; at: Date }>(
      `SELECT id, at, actor_id AS "actorId", tenant_id AS "tenantId", action, target, outcome, details
         FROM admin_audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() }));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.end()));
  }
}
