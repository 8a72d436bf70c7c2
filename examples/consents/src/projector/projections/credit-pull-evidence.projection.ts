import { defineProjection } from '@event-spine/projections';
import type { ConsentsEvent } from '../../contract';

/**
 * `credit-pull-evidence`: one row per credit check with the consent that allowed it. The grant and the pull arrive on
 * different topics in either order; whichever comes second completes the row, so the result is the same either way.
 * "Second" needs a lock: the two topics' partitions are applied in concurrent transactions, and a grant and a pull
 * applied at the same time would each miss the other's uncommitted row, leaving the pull without its grant for good.
 * Both take the tenant's lock of this projection (in the schema written: a rebuild's shadow has its own), so one
 * waits for the other to commit and its next statement sees it.
 */
export const creditPullEvidence = defineProjection<ConsentsEvent>({
  name: 'credit-pull-evidence',
  version: 1,
  handles: ['ConsentGranted', 'CreditCheckRequested', 'CreditCheckCompleted'],
  tables: ['credit_pull_evidence', 'credit_pull_consents'],
  // Rows belong to two kinds of subject (credit checks and the grants they name): replays are scoped by tenant only.
  scope: { tenantColumn: 'tenant_id' },
  async apply(db, e) {
    if (e.eventType === 'ConsentGranted' || e.eventType === 'CreditCheckRequested') {
      await db.query(
        `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':credit-pull-evidence:' || $1, 0))`,
        [e.tenantId],
      );
    }
    switch (e.eventType) {
      case 'ConsentGranted':
        await db.query(
          `INSERT INTO credit_pull_consents (tenant_id, consent_event_id, customer_id, granted_at, granted_via)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [e.tenantId, e.id, e.subjectId, e.occurredAt, e.payload.grantedVia],
        );
        await db.query(
          `UPDATE credit_pull_evidence SET consent_granted_at = $3, consent_granted_via = $4
            WHERE tenant_id = $1 AND consent_event_id = $2`,
          [e.tenantId, e.id, e.occurredAt, e.payload.grantedVia],
        );
        return;
      case 'CreditCheckRequested': {
        const { customerId, purpose, bureau, consentEventId } = e.payload;
        await db.query(
          `INSERT INTO credit_pull_evidence (tenant_id, credit_check_id, customer_id, purpose, bureau, requested_at,
                                             consent_event_id, consent_granted_at, consent_granted_via, sequence)
           SELECT $1, $2, $3, $4, $5, $6, $7, g.granted_at, g.granted_via, $8
             FROM (SELECT 1) AS one
             LEFT JOIN credit_pull_consents g ON g.tenant_id = $1 AND g.consent_event_id = $7`,
          [e.tenantId, e.subjectId, customerId, purpose, bureau, e.occurredAt, consentEventId, e.sequence],
        );
        return;
      }
      case 'CreditCheckCompleted':
        await db.query(
          `UPDATE credit_pull_evidence SET outcome = $3, score = $4, completed_at = $5, sequence = $6
            WHERE tenant_id = $1 AND credit_check_id = $2`,
          [e.tenantId, e.subjectId, e.payload.outcome, e.payload.score, e.occurredAt, e.sequence],
        );
        return;
      default:
        return;
    }
  },
});
