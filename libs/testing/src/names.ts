import { randomBytes } from 'node:crypto';

/**
 * A name no other suite, worker or run uses: for schemas, topic prefixes and group ids, so suites sharing one
 * PostgreSQL server and one broker never see each other's data.
 */
export function uniqueName(prefix: string): string {
  const worker = process.env.JEST_WORKER_ID ?? '0';
  return `${prefix}_w${worker}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
