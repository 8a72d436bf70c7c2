/**
 * The hash chain of a subject's events: pure functions, no I/O (the CLI loads this file on its own).
 *
 *   canonical_i = UTF-8 of the RFC 8785 (JCS) serialisation of the stored envelope of event i
 *   hash_1      = sha256(GENESIS || canonical_1)
 *   hash_i      = sha256(hash_{i-1} || canonical_i)
 *
 * The canonical envelope has every stored field (`causationId` null when absent), keys sorted by UTF-16 code units
 * at every depth, numbers and strings as `JSON.stringify` writes them, timestamps as the ISO strings the executor
 * stores (millisecond precision, `Z`). The payload is canonicalised as stored: what `JSON.stringify` writes and jsonb
 * keeps (jsonb reorders keys and drops nothing a JSON text carries), so the hash of an envelope before it is written
 * equals the hash of the row read back.
 */
import { createHash } from 'node:crypto';

/** Every field of the stored envelope that the hash covers. */
export interface ChainEnvelope {
  id: string;
  tenantId: string;
  spaceId: string;
  eventType: string;
  eventSchemaVersion: number;
  subjectType: string;
  subjectId: string;
  actorId: string;
  actorType: string;
  actionInvocationId: string;
  payload: unknown;
  sequence: number;
  occurredAt: string;
  recordedAt: string;
  correlationId: string;
  causationId?: string | null;
}

export const HASH_BYTES = 32;

/** What sequence 1 chains from: fixed, and different from any hash of an event. */
export const GENESIS_HASH: Buffer = createHash('sha256').update('event-spine:event-chain:v1:genesis').digest();

/**
 * RFC 8785 (JSON Canonicalization Scheme) for what `JSON.stringify` accepts: object keys sorted by UTF-16 code units,
 * no whitespace, `toJSON` honoured, `undefined`/functions/symbols left out of objects and written as null in arrays,
 * non-finite numbers as null. Equal for a value and for `JSON.parse(JSON.stringify(value))`.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, '') ?? 'null';
}

function serialise(input: unknown, key: string): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('a BigInt is not JSON: it cannot be stored or hashed');
    case 'object':
      break;
    default:
      return undefined; // undefined, function, symbol
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => serialise(item, String(i)) ?? 'null').join(',')}]`;
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return serialise(value.valueOf(), key);
  }
  const parts: string[] = [];
  for (const k of Object.keys(value).sort()) {
    const text = serialise((value as Record<string, unknown>)[k], k);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** The bytes an event's hash covers. */
export function canonicalEnvelope(e: ChainEnvelope): Buffer {
  return Buffer.from(
    canonicalJson({
      actionInvocationId: e.actionInvocationId,
      actorId: e.actorId,
      actorType: e.actorType,
      causationId: e.causationId ?? null,
      correlationId: e.correlationId,
      eventSchemaVersion: e.eventSchemaVersion,
      eventType: e.eventType,
      id: e.id,
      occurredAt: e.occurredAt,
      payload: e.payload,
      recordedAt: e.recordedAt,
      sequence: e.sequence,
      spaceId: e.spaceId,
      subjectId: e.subjectId,
      subjectType: e.subjectType,
      tenantId: e.tenantId,
    }),
    'utf8',
  );
}

/** hash_i = sha256(hash_{i-1} || canonical_i); `previous` is GENESIS_HASH for sequence 1. */
export function chainHash(previous: Buffer, envelope: ChainEnvelope): Buffer {
  if (previous.length !== HASH_BYTES) throw new RangeError(`a chain hash has ${HASH_BYTES} bytes`);
  return createHash('sha256').update(previous).update(canonicalEnvelope(envelope)).digest();
}

/** The hashes of consecutive events of one subject, the first chained from `previous` (GENESIS_HASH at sequence 1). */
export function chainHashes(previous: Buffer, envelopes: readonly ChainEnvelope[]): Buffer[] {
  const hashes: Buffer[] = [];
  let head = previous;
  for (const e of envelopes) {
    head = chainHash(head, e);
    hashes.push(head);
  }
  return hashes;
}

/** The previous hash an event with this sequence chains from when its subject has no head yet. */
export function previousHashFor(sequence: number, head: Buffer | null | undefined): Buffer {
  if (head) return head;
  if (sequence === 1) return GENESIS_HASH;
  throw new Error(`no chain head is known before sequence ${sequence}`);
}
