/**
 * Signed checkpoints: the heads of all chains of a tenant folded into one root and signed with Ed25519. Pure
 * functions over node:crypto; an auditor can re-check an exported checkpoint with nothing but this file.
 *
 *   root      = sha256(JCS({ format, tenantId, createdAt, heads }))   heads sorted by (subjectType, subjectId)
 *   signature = Ed25519(privateKey, root)
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './chain';

export const CHECKPOINT_FORMAT = 'event-spine-checkpoint/v1';

export interface CheckpointHead {
  subjectType: string;
  subjectId: string;
  /** The sequence of the subject's last event when the checkpoint was taken. */
  sequence: number;
  /** That event's chain hash, hex. */
  hash: string;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  tenantId: string;
  createdAt: string;
  /** sha256 over the canonical checkpoint body, hex. */
  root: string;
  heads: CheckpointHead[];
  /** Ed25519 signature of the root's 32 bytes, base64. */
  signature: string;
  /** The signer's public key, PEM (SPKI). An auditor checks it against the key they hold. */
  publicKey: string;
  /** sha256 of the public key's DER (SPKI), hex: which key signed. */
  keyId: string;
}

export interface CheckpointCheck {
  /** The root is the fold of the listed heads (nothing in the list changed). */
  rootMatches: boolean;
  /** The signature over the root verifies with the key. */
  signatureValid: boolean;
  /** No key was given: the key the checkpoint carries was used (proves integrity, not who signed). */
  keyFromCheckpoint: boolean;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function sortHeads(heads: readonly CheckpointHead[]): CheckpointHead[] {
  return heads
    .map(({ subjectType, subjectId, sequence, hash }) => ({ subjectType, subjectId, sequence, hash }))
    .sort((a, b) => byCodeUnits(a.subjectType, b.subjectType) || byCodeUnits(a.subjectId, b.subjectId));
}

/** The root the signature covers: the tenant, the time and every head, in one canonical form. */
export function checkpointRoot(tenantId: string, createdAt: string, heads: readonly CheckpointHead[]): Buffer {
  const body = canonicalJson({ format: CHECKPOINT_FORMAT, tenantId, createdAt, heads: sortHeads(heads) });
  return createHash('sha256').update(body, 'utf8').digest();
}

/** An Ed25519 private key from PEM (PKCS#8); anything else is refused. */
export function signingKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the checkpoint signing key must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

export function publicKeyPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

export function keyIdOf(publicKey: string | KeyObject): string {
  const der = createPublicKey(publicKey).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

export function signCheckpoint(
  tenantId: string,
  createdAt: string,
  heads: readonly CheckpointHead[],
  privateKey: KeyObject,
): Checkpoint {
  const sorted = sortHeads(heads);
  const root = checkpointRoot(tenantId, createdAt, sorted);
  const publicKey = publicKeyPem(privateKey);
  return {
    format: CHECKPOINT_FORMAT,
    tenantId,
    createdAt,
    root: root.toString('hex'),
    heads: sorted,
    signature: sign(null, root, privateKey).toString('base64'),
    publicKey,
    keyId: keyIdOf(publicKey),
  };
}

/** Re-folds the root from the heads and checks the signature with `publicKey` (the checkpoint's own when absent). */
export function verifyCheckpoint(checkpoint: Checkpoint, publicKey?: string | KeyObject): CheckpointCheck {
  const root = checkpointRoot(checkpoint.tenantId, checkpoint.createdAt, checkpoint.heads);
  const rootMatches = root.toString('hex') === checkpoint.root;
  return {
    rootMatches,
    signatureValid: signatureVerifies(checkpoint, publicKey),
    keyFromCheckpoint: publicKey === undefined,
  };
}

function signatureVerifies(checkpoint: Checkpoint, publicKey: string | KeyObject | undefined): boolean {
  try {
    const key = createPublicKey(publicKey ?? checkpoint.publicKey);
    return (
      key.asymmetricKeyType === 'ed25519' &&
      verify(null, Buffer.from(checkpoint.root, 'hex'), key, Buffer.from(checkpoint.signature, 'base64'))
    );
  } catch {
    return false; // not a key, or not a signature
  }
}

/** Checks the shape of a checkpoint read from a file or a request before it is used. */
export function parseCheckpoint(value: unknown): Checkpoint {
  const c = value as Partial<Checkpoint> | null;
  const isHex = (s: unknown, bytes: number) => typeof s === 'string' && new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(s);
  const problems: string[] = [];
  if (!c || typeof c !== 'object') throw new Error('a checkpoint is a JSON object');
  if (c.format !== CHECKPOINT_FORMAT) problems.push(`format must be ${CHECKPOINT_FORMAT}`);
  if (typeof c.tenantId !== 'string' || c.tenantId === '') problems.push('tenantId is missing');
  if (typeof c.createdAt !== 'string') problems.push('createdAt is missing');
  if (!isHex(c.root, 32)) problems.push('root must be 64 hex digits');
  if (typeof c.signature !== 'string') problems.push('signature is missing');
  if (typeof c.publicKey !== 'string') problems.push('publicKey is missing');
  if (!Array.isArray(c.heads)) problems.push('heads must be a list');
  else
    c.heads.forEach((h: Partial<CheckpointHead>, i) => {
      if (
        typeof h?.subjectType !== 'string' ||
        typeof h.subjectId !== 'string' ||
        !Number.isSafeInteger(h.sequence) ||
        (h.sequence as number) < 1 ||
        !isHex(h.hash, 32)
      )
        problems.push(`heads[${i}] must have subjectType, subjectId, a sequence ≥ 1 and a 64-hex-digit hash`);
    });
  if (problems.length > 0) throw new Error(`not a checkpoint: ${problems.slice(0, 5).join('; ')}`);
  return c as Checkpoint;
}
