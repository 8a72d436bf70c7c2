import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin audit log is read per tenant, newest first, a page at a time (`GET /admin/audit-log`): without this index
 * every page sorts all tenants' rows. The filters (action, actor, outcome, time) are applied while walking it: an
 * admin log grows with operators' actions, not with traffic, so a page finds its rows without an index per filter.
 */
export class ProjectorAdminAuditIndex1765400000000 implements MigrationInterface {
  name = 'ProjectorAdminAuditIndex1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX admin_audit_log_tenant_id ON admin_audit_log (tenant_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX admin_audit_log_tenant_id`);
  }
}
