import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Principal } from './principal';

const ALGORITHM = 'HS256';
const encoder = new TextEncoder();

/**
 * The HMAC key of a shared secret, imported once: given the raw bytes, jose imports them through WebCrypto on every
 * sign and verify, which was a measurable share of a command's CPU.
 */
const hmacKeys = new Map<string, Promise<webcrypto.CryptoKey>>();
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = webcrypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    // A failed import is not kept: the next call tries again.
    key.catch(() => hmacKeys.delete(secret));
    hmacKeys.set(secret, key);
  }
  return key;
}

export class InvalidTokenError extends Error {
  constructor(
    readonly reason:
      'missing' | 'malformed' | 'expired' | 'signature' | 'claims' | 'issuer' | 'audience' | 'algorithm' | 'key',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export async function signToken(
  principal: Principal,
  secret: string,
  expiresIn: string | number = '1h',
): Promise<string> {
  return new SignJWT({
    actorType: principal.actorType,
    tenantId: principal.tenantId,
    spaceId: principal.spaceId,
    roles: [...principal.roles],
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(principal.actorId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(await hmacKey(secret));
}

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/**
 * Verifies an HS256 token of the shared secret (development tokens, the services' own): signature, expiry (with
 * `clockSkewSeconds` of tolerance) and the claims the platform relies on; anything else is an InvalidTokenError.
 */
export async function verifyToken(token: string, secret: string, clockSkewSeconds = 0): Promise<Principal> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: [ALGORITHM],
      clockTolerance: clockSkewSeconds,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new InvalidTokenError('expired', 'The bearer token has expired');
    if (error instanceof errors.JWSSignatureVerificationFailed)
      throw new InvalidTokenError('signature', 'The bearer token signature is invalid');
    throw new InvalidTokenError('malformed', 'The bearer token is not a valid JWT');
  }
  const { sub, actorType, tenantId, spaceId, roles } = payload;
  if (
    !isNonEmptyString(sub) ||
    !isNonEmptyString(actorType) ||
    !isNonEmptyString(tenantId) ||
    !isNonEmptyString(spaceId) ||
    !Array.isArray(roles) ||
    !roles.every(isNonEmptyString)
  ) {
    throw new InvalidTokenError('claims', 'The bearer token lacks sub, actorType, tenantId, spaceId or roles');
  }
  return { actorId: sub, actorType, tenantId, spaceId, roles };
}
