/**
 * `npm run spine -- verify`: re-computes the event log's hash chains straight from the command service's database
 * (not through a service: an auditor needs no running service and trusts no service's answer).
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import type { ChainQueryable } from '../../libs/event-log/src/audit/chain-rows';
import { parseCheckpoint } from '../../libs/event-log/src/audit/checkpoint';
import { verifyChains, type VerifyReport } from '../../libs/event-log/src/audit/verify';
import { UsageError } from './cli';

export interface VerifyCommand {
  tenantId?: string;
  checkpointFile?: string;
  publicKeyFile?: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

export async function runVerify(
  command: VerifyCommand,
  env: Readonly<Record<string, string | undefined>>,
): Promise<VerifyReport> {
  const url = env.DATABASE_URL;
  if (!url) throw new UsageError('verify reads the database: set DATABASE_URL (and DATABASE_SCHEMA if not public)');
  const schema = env.DATABASE_SCHEMA || 'public';
  if (!SCHEMA.test(schema)) throw new UsageError(`DATABASE_SCHEMA "${schema}" is not a schema name`);
  const checkpoint =
    command.checkpointFile === undefined
      ? undefined
      : parseCheckpoint(JSON.parse(readFileSync(command.checkpointFile, 'utf8')));
  const publicKey = command.publicKeyFile === undefined ? undefined : readFileSync(command.publicKeyFile, 'utf8');
  if (checkpoint && command.tenantId !== undefined && command.tenantId !== checkpoint.tenantId)
    throw new UsageError(`the checkpoint is of tenant ${checkpoint.tenantId}, not ${command.tenantId}`);

  const client = new Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  const db: ChainQueryable = { query: async (sql, params) => (await client.query(sql, params)).rows as never };
  try {
    // One snapshot for the whole walk; read-only, so it holds back nothing the feed waits for.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const report = await verifyChains(db, { tenantId: command.tenantId, checkpoint, publicKey });
    await client.query('COMMIT');
    return report;
  } finally {
    await client.end();
  }
}

export function renderVerifyReport(report: VerifyReport): string {
  const lines = [
    `${report.ok ? 'intact' : 'BROKEN'}: ${report.checked} events in ${report.subjects} subjects re-hashed` +
      (report.unhashed ? ` (${report.unhashed} written before hashing)` : ''),
  ];
  if (report.checkpoint) {
    const c = report.checkpoint;
    lines.push(
      `checkpoint of ${c.tenantId} at ${c.createdAt} (${c.heads} heads, root ${c.root.slice(0, 16)}…): ` +
        `root ${c.rootMatches ? 'matches its heads' : 'DOES NOT match its heads'}, signature ` +
        `${c.signatureValid ? 'valid' : 'INVALID'}` +
        (c.keyFromCheckpoint ? ' (with the key the checkpoint carries: pass --public-key to check who signed)' : ''),
    );
  }
  for (const b of report.broken) {
    lines.push(
      `  ${b.kind.padEnd(19)} ${b.tenantId} ${b.subjectType}/${b.subjectId} at sequence ${b.sequence}` +
        `${b.eventId ? ` (event ${b.eventId})` : ''}: ${b.detail}`,
    );
  }
  if (report.truncated) lines.push('  … more broken links than listed');
  return lines.join('\n');
}
