import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The read models of the spec. Derived, rebuildable data: the event log is the truth. */
export class ReadModels1763800002000 implements MigrationInterface {
  name = 'ReadModels1763800002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_balances (
        tenant_id  text        NOT NULL,
        account_id text        NOT NULL,
        owner_name text        NOT NULL,
        currency   text        NOT NULL,
        balance    bigint      NOT NULL,
        status     text        NOT NULL,
        sequence   integer     NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, account_id)
      )`);
    await q.query(`
      CREATE TABLE account_statements (
        tenant_id     text        NOT NULL,
        account_id    text        NOT NULL,
        sequence      integer     NOT NULL,
        event_id      text        NOT NULL,
        event_type    text        NOT NULL,
        amount        bigint      NOT NULL,
        balance_after bigint      NOT NULL,
        recorded_at   timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, account_id, sequence)
      )`);
    await q.query(`
      CREATE TABLE tenant_totals (
        tenant_id     text   NOT NULL,
        currency      text   NOT NULL,
        accounts      bigint NOT NULL,
        open_accounts bigint NOT NULL,
        total_balance bigint NOT NULL,
        PRIMARY KEY (tenant_id, currency)
      )`);
    await q.query(`
      CREATE TABLE tenant_total_accounts (
        tenant_id  text NOT NULL,
        account_id text NOT NULL,
        currency   text NOT NULL,
        PRIMARY KEY (tenant_id, account_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['tenant_total_accounts', 'tenant_totals', 'account_statements', 'account_balances']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}

/** The holder's name is personal data: erased (NULL) once the account's data subject is forgotten. */
export class ErasableOwnerName1765200002000 implements MigrationInterface {
  name = 'ErasableOwnerName1765200002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_balances ALTER COLUMN owner_name DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE account_balances SET owner_name = '' WHERE owner_name IS NULL`);
    await q.query(`ALTER TABLE account_balances ALTER COLUMN owner_name SET NOT NULL`);
  }
}

export const readModelMigrations = [ReadModels1763800002000, ErasableOwnerName1765200002000];
