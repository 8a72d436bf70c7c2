import type { KeyObject } from 'node:crypto';
import { str, type ConfigOf } from '@event-spine/config';
import { signingKey } from './checkpoint';

/** What the audit routes read: the key that signs checkpoints. */
export const auditConfig = {
  AUDIT_SIGNING_KEY: str(
    'Ed25519 private key (PEM, PKCS#8; "\\n" escapes allowed) that signs audit checkpoints; empty: checkpoints are refused',
    { default: '', secret: true, pattern: /-----BEGIN PRIVATE KEY-----/ },
  ),
} as const;

export type AuditConfig = ConfigOf<typeof auditConfig>;

/** The configured signing key, or undefined when none is set. A key that is not Ed25519 fails start-up. */
export function auditSigningKey(config: AuditConfig): KeyObject | undefined {
  const pem = config.AUDIT_SIGNING_KEY.replace(/\\n/g, '\n').trim();
  if (pem === '') return undefined;
  try {
    return signingKey(pem);
  } catch (error) {
    throw new Error(`AUDIT_SIGNING_KEY: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
