import { defineProjection } from '@event-spine/projections';
import type { ConsentsEvent } from '../../contract';

/** `consent-status`: one row per customer and purpose, the consent as it stands. */
export const consentStatus = defineProjection<ConsentsEvent>({
  name: 'consent-status',
  version: 1,
  handles: ['ConsentGranted', 'ConsentRevoked'],
  tables: ['consent_status'],
  scope: { tenantColumn: 'tenant_id', subjectColumn: 'customer_id' },
  async apply(db, e) {
    switch (e.eventType) {
      case 'ConsentGranted': {
        const { purpose, scope, grantedVia, expiresAt } = e.payload;
        await db.query(
          `INSERT INTO consent_status (tenant_id, customer_id, purpose, status, scope, granted_via, granted_at,
                                       revoked_at, expires_at, consent_event_id, sequence)
           VALUES ($1, $2, $3, 'active', $4, $5, $6, NULL, $7, $8, $9)
           ON CONFLICT (tenant_id, customer_id, purpose) DO UPDATE
              SET status = 'active', scope = EXCLUDED.scope, granted_via = EXCLUDED.granted_via,
                  granted_at = EXCLUDED.granted_at, revoked_at = NULL, expires_at = EXCLUDED.expires_at,
                  consent_event_id = EXCLUDED.consent_event_id, sequence = EXCLUDED.sequence`,
          [
            e.tenantId,
            e.subjectId,
            purpose,
            JSON.stringify(scope),
            grantedVia,
            e.occurredAt,
            expiresAt ?? null,
            e.id,
            e.sequence,
          ],
        );
        return;
      }
      case 'ConsentRevoked':
        await db.query(
          `UPDATE consent_status SET status = 'revoked', revoked_at = $4, sequence = $5
            WHERE tenant_id = $1 AND customer_id = $2 AND purpose = $3`,
          [e.tenantId, e.subjectId, e.payload.purpose, e.occurredAt, e.sequence],
        );
        return;
      default:
        return;
    }
  },
});
