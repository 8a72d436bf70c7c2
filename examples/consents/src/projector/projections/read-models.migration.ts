import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The consents read models. Derived, rebuildable data: the event log is the truth. */
export class ConsentsReadModels1764600000000 implements MigrationInterface {
  name = 'ConsentsReadModels1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE consent_status (
        tenant_id        text        NOT NULL,
        customer_id      text        NOT NULL,
        purpose          text        NOT NULL,
        status           text        NOT NULL,
        scope            jsonb       NOT NULL,
        granted_via      text        NOT NULL,
        granted_at       timestamptz NOT NULL,
        revoked_at       timestamptz,
        expires_at       timestamptz,
        consent_event_id text        NOT NULL,
        sequence         integer     NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, purpose)
      )`);
    await q.query(`
      CREATE TABLE credit_pull_evidence (
        tenant_id           text        NOT NULL,
        credit_check_id     text        NOT NULL,
        customer_id         text        NOT NULL,
        purpose             text        NOT NULL,
        bureau              text        NOT NULL,
        requested_at        timestamptz NOT NULL,
        consent_event_id    text        NOT NULL,
        consent_granted_at  timestamptz,
        consent_granted_via text,
        outcome             text,
        score               integer,
        completed_at        timestamptz,
        sequence            integer     NOT NULL,
        PRIMARY KEY (tenant_id, credit_check_id)
      )`);
    await q.query(
      `CREATE INDEX credit_pull_evidence_by_time ON credit_pull_evidence (tenant_id, requested_at, credit_check_id)`,
    );
    await q.query(
      `CREATE INDEX credit_pull_evidence_by_customer ON credit_pull_evidence (tenant_id, customer_id, requested_at, credit_check_id)`,
    );
    // The grants the evidence names, kept by the evidence projection itself: the customer and credit-check topics
    // are consumed independently, so a pull may be applied before the grant that allowed it, or after.
    await q.query(`
      CREATE TABLE credit_pull_consents (
        tenant_id        text        NOT NULL,
        consent_event_id text        NOT NULL,
        customer_id      text        NOT NULL,
        granted_at       timestamptz NOT NULL,
        granted_via      text        NOT NULL,
        PRIMARY KEY (tenant_id, consent_event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['credit_pull_consents', 'credit_pull_evidence', 'consent_status'])
      await q.query(`DROP TABLE ${t}`);
  }
}
