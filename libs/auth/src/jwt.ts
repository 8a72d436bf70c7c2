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
 * Tokens already verified, per secret, until they expire: a client sends the same token with every request, and
 * verifying its HMAC each time was a visible share of a command's CPU. The key is the whole token, signature
 * included, so only the very bytes that passed are answered from here. Bounded: the oldest entries go first.
 */
type Verified = Map<string, { principal: Principal; exp: number }>;
const verified = new Map<string, Verified>();
const VERIFIED_MAX = 10_000;

/**
 * Verifies an HS256 token of the shared secret (development tokens, the services' own): signature, expiry (with
 * `clockSkewSeconds` of tolerance) and the claims the platform relies on; anything else is an InvalidTokenError.
 */
export async function verifyToken(token: string, secret: string, clockSkewSeconds = 0): Promise<Principal> {
  let known = verified.get(secret);
  const hit = known?.get(token);
  if (hit) {
    if (Date.now() / 1000 < hit.exp + clockSkewSeconds) return { ...hit.principal, roles: [...hit.principal.roles] };
    known!.delete(token); // expired: verified again below, which says so
  }
  const principal = await verifyUncached(token, secret, clockSkewSeconds);
  const exp = expiryOf(token);
  if (exp !== undefined) {
    if (!known) verified.set(secret, (known = new Map() as Verified));
    if (known.size >= VERIFIED_MAX) known.delete(known.keys().next().value!);
    known.set(token, { principal: { ...principal, roles: [...principal.roles] }, exp });
  }
  return principal;
}

/** The `exp` claim of a token that just passed verification; tokens without one are not kept. */
function expiryOf(token: string): number | undefined {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof payload.exp === 'number' ? payload.exp : undefined;
}

async function verifyUncached(token: string, secret: string, clockSkewSeconds: number): Promise<Principal> {
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
