import { newPersonalKey } from '@event-spine/events';
import type { Queryable } from '../queryable';

/** A data subject's key: present, or null once the data subject was forgotten. */
export type DataSubjectKey = Buffer | null;

/**
 * The data subject's key, created on first use. The upsert locks the row until the writer commits, so a forget
 * running at the same time waits for events sealed with the key to commit (and then finds them), or the writer
 * waits for the forget and finds the key gone.
 */
export async function keyForWriting(db: Queryable, tenantId: string, dataSubjectId: string): Promise<DataSubjectKey> {
  const rows = await db.query<{ key: Buffer | null }[]>(
    `INSERT INTO data_subject_keys (tenant_id, data_subject_id, key) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, data_subject_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id
     RETURNING key`,
    [tenantId, dataSubjectId, newPersonalKey()],
  );
  return rows[0].key;
}

/**
 * The keys of data subjects a command may write for, read with its opening statements: each stored row is locked FOR
 * SHARE until commit, so a forget running at the same time waits for the events sealed with the key (and then finds
 * them), or the command finds the key gone. A data subject without a row gets its key from `newKeysStatement`, sent
 * with the command's writes.
 */
export function keysForWritingStatement(
  tenantId: string,
  dataSubjectIds: readonly string[],
): { text: string; values: unknown[] } {
  return {
    text: `SELECT data_subject_id, key FROM data_subject_keys
            WHERE tenant_id = $1 AND data_subject_id = ANY($2::text[])
            ORDER BY data_subject_id FOR SHARE`,
    values: [tenantId, dataSubjectIds],
  };
}

/**
 * New data subjects' keys, one row returned per key written. A row that appeared since the opening read (the same
 * data subject's first use by another command, or a forget) is left as it is and returns nothing: the caller's guard
 * turns that into a retry, which reads the row.
 */
export function newKeysStatement(
  tenantId: string,
  keys: ReadonlyMap<string, Buffer>,
): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO data_subject_keys (tenant_id, data_subject_id, key)
           SELECT $1, * FROM unnest($2::text[], $3::bytea[])
           ON CONFLICT (tenant_id, data_subject_id) DO NOTHING RETURNING 1`,
    values: [tenantId, [...keys.keys()], [...keys.values()]],
  };
}

/** The keys of some data subjects of a tenant, for reading: a forgotten one maps to null, an unknown one is absent. */
export async function keysForReading(
  db: Queryable,
  tenantId: string,
  dataSubjectIds: readonly string[],
): Promise<Map<string, DataSubjectKey>> {
  if (dataSubjectIds.length === 0) return new Map();
  const rows = await db.query<{ data_subject_id: string; key: Buffer | null }[]>(
    `SELECT data_subject_id, key FROM data_subject_keys WHERE tenant_id = $1 AND data_subject_id = ANY($2::text[])`,
    [tenantId, dataSubjectIds],
  );
  return new Map(rows.map((r) => [r.data_subject_id, r.key]));
}

/**
 * Destroys the key (the row stays, recording when and by whom). Returns when it was forgotten and whether this call
 * did it; a data subject never seen is recorded as forgotten too, so no personal data of theirs is sealed later.
 */
export async function destroyKey(
  db: Queryable,
  tenantId: string,
  dataSubjectId: string,
  actorId: string,
): Promise<{ forgottenAt: Date; now: boolean }> {
  const rows = await db.query<{ forgotten_at: Date; now: boolean }[]>(
    `INSERT INTO data_subject_keys AS k (tenant_id, data_subject_id, key, forgotten_at, forgotten_by)
     VALUES ($1, $2, NULL, now(), $3)
     ON CONFLICT (tenant_id, data_subject_id) DO UPDATE
       SET key = NULL, forgotten_at = COALESCE(k.forgotten_at, now()), forgotten_by = COALESCE(k.forgotten_by, $3)
     RETURNING forgotten_at, (xmax = 0 OR forgotten_at = now()) AS now`,
    [tenantId, dataSubjectId, actorId],
  );
  return { forgottenAt: rows[0].forgotten_at, now: rows[0].now };
}
