import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EventEnvelope } from './envelope';

/**
 * Personal data in an immutable log (crypto-shredding). The catalog names the personal fields of an event type and
 * whose data they are (the data subject); those fields are stored sealed with that data subject's own key, which is
 * kept outside the log. Destroying the key erases the fields everywhere they were copied (the log, Kafka, backups)
 * while every stored byte, and so the hash chain over them, stays as it was.
 */
export interface PersonalDataSpec {
  /** Top-level payload fields that hold personal data; sealed one by one. */
  fields: readonly string[];
  /** The payload field holding the data subject's id; the event's own subject when absent. */
  dataSubject?: string;
}

/** The platform's event recording that a data subject's key was destroyed. */
export const DATA_SUBJECT_FORGOTTEN = 'DataSubjectForgotten' as const;

export interface DataSubjectForgottenPayload {
  /** The subjects whose events held the data subject's personal data when it was forgotten. */
  subjects: { subjectType: string; subjectId: string }[];
  reason?: string;
}

/** The platform's forget event, for a projection that erases what its read models copied (`handles` it). */
export interface DataSubjectForgottenEvent {
  eventType: typeof DATA_SUBJECT_FORGOTTEN;
  payload: DataSubjectForgottenPayload;
}

/** What a sealed field holds in a stored payload: the data subject (to find the key) and IV | tag | ciphertext. */
export interface SealedValue {
  $pii: { ds: string; c: string };
}

export function isSealed(value: unknown): value is SealedValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const inner = (value as { $pii?: unknown }).$pii;
  return (
    Object.keys(value).length === 1 &&
    typeof inner === 'object' &&
    inner !== null &&
    typeof (inner as SealedValue['$pii']).ds === 'string' &&
    typeof (inner as SealedValue['$pii']).c === 'string'
  );
}

/** The data subjects whose sealed fields a payload holds (none for most events). */
export function sealedDataSubjects(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return [];
  const found = new Set<string>();
  for (const value of Object.values(payload)) if (isSealed(value)) found.add(value.$pii.ds);
  return [...found];
}

/** One event's payload with its sealed fields opened, or why they could not be (changed since sealing, wrong key). */
export type OpenedPayload = { payload: unknown } | { error: string };

/** A sealed value that does not open with its data subject's key: the wrong key, or bytes changed since sealing. */
export class SealedValueError extends Error {}

export const PERSONAL_KEY_BYTES = 32;

export function newPersonalKey(): Buffer {
  return randomBytes(PERSONAL_KEY_BYTES);
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Binds a ciphertext to its place: a sealed value copied into another event, field, tenant or data subject does not
 * open there.
 */
function additionalData(envelope: Pick<EventEnvelope, 'tenantId' | 'id'>, dataSubjectId: string, field: string) {
  return Buffer.from(`${envelope.tenantId}\0${dataSubjectId}\0${envelope.id}\0${field}`, 'utf8');
}

/** The envelope with `fields` of its payload sealed (AES-256-GCM) with the data subject's key. */
export function sealPayload(
  envelope: EventEnvelope,
  spec: { fields: readonly string[] },
  dataSubjectId: string,
  key: Buffer,
): EventEnvelope {
  const payload = { ...(envelope.payload as Record<string, unknown>) };
  for (const field of spec.fields) {
    if (payload[field] === undefined) continue;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(additionalData(envelope, dataSubjectId, field));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(payload[field]), 'utf8'), cipher.final()]);
    payload[field] = {
      $pii: { ds: dataSubjectId, c: Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url') },
    } satisfies SealedValue;
  }
  return { ...envelope, payload };
}

/**
 * The envelope as a reader sees it: each sealed field opened with its data subject's key, or `null` where the key
 * was destroyed (`keys` maps the id to null) or never existed. An envelope with nothing sealed is returned as is.
 */
export function openPayload(envelope: EventEnvelope, keys: ReadonlyMap<string, Buffer | null>): EventEnvelope {
  const stored = envelope.payload;
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return envelope;
  let payload: Record<string, unknown> | undefined;
  for (const [field, value] of Object.entries(stored)) {
    if (!isSealed(value)) continue;
    payload ??= { ...(stored as Record<string, unknown>) };
    const key = keys.get(value.$pii.ds);
    payload[field] = key ? open(value, key, additionalData(envelope, value.$pii.ds, field)) : null;
  }
  return payload ? { ...envelope, payload } : envelope;
}

function open(value: SealedValue, key: Buffer, aad: Buffer): unknown {
  const bytes = Buffer.from(value.$pii.c, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch (error) {
    throw new SealedValueError(
      `a sealed personal field of data subject ${value.$pii.ds} does not open: ${String(error)}`,
    );
  }
}
