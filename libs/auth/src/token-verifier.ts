import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { InvalidTokenError, verifyToken } from './jwt';
import type { Principal } from './principal';

/** The signature algorithms an identity provider's tokens may use (never a symmetric one, never `none`). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface TokenVerifierOptions {
  /** Secret of HS256 tokens: development tokens (`npm run dev-token`) and the services' own (signToken). */
  hs256Secret?: string;
  /** The identity provider's public keys: a JWKS URL (cached; refetched for an unknown `kid`) or a JWKS file. */
  jwks?: {
    url?: string;
    file?: string;
    /** How long a fetched key set is used before it is fetched again (default 600). */
    cacheMaxAgeSeconds?: number;
    /** The least time between two fetches, also those caused by an unknown `kid` (default 30). */
    cooldownSeconds?: number;
    /** How long a fetch may take (default 5000). */
    timeoutMs?: number;
  };
  /** The `iss` the identity provider's tokens must carry (required with `jwks`). */
  issuer?: string;
  /** The `aud` the identity provider's tokens must contain (required with `jwks`). */
  audience?: string;
  /** The algorithms accepted from the identity provider (default RS256, ES256, EdDSA). */
  algorithms?: readonly AsymmetricAlgorithm[];
  /** Tolerance for `exp` and `nbf` of every token (default 30). */
  clockSkewSeconds?: number;
  /** Claim names of the identity provider's tokens (top-level claims; a name may be a URL). */
  claims?: { tenant?: string; roles?: string; actorType?: string; space?: string };
  /** The space of a caller whose token names none (default `default`). */
  defaultSpace?: string;
}

/** The identity provider's keys could not be fetched: not the caller's fault (503, retry). */
export class IdentityProviderUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The identity provider’s keys could not be fetched', { cause });
    this.name = 'IdentityProviderUnavailableError';
  }
}

const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;
/** An attacker chooses the header: only a short, plain `alg` is echoed in a message. */
const shown = (alg: unknown) => (typeof alg === 'string' && /^[A-Za-z0-9+_-]{1,20}$/.test(alg) ? alg : '?');

/**
 * Verifies bearer tokens: HS256 ones with the shared secret (platform claims, as signToken writes them) and the
 * identity provider's (asymmetric, against its JWKS, with issuer, audience, expiry and clock skew checked) mapped to
 * a Principal through the configured claim names. Every refusal is an InvalidTokenError naming the reason.
 */
export class TokenVerifier {
  private readonly secret?: string;
  private readonly keys?: JWTVerifyGetKey;
  private readonly algorithms: readonly AsymmetricAlgorithm[];
  private readonly skew: number;
  private readonly claims: { tenant: string; roles: string; actorType: string; space: string };

  constructor(private readonly options: TokenVerifierOptions) {
    this.secret = options.hs256Secret || undefined;
    this.algorithms = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
    this.skew = options.clockSkewSeconds ?? 30;
    this.claims = {
      tenant: options.claims?.tenant || 'tenantId',
      roles: options.claims?.roles || 'roles',
      actorType: options.claims?.actorType || 'actorType',
      space: options.claims?.space || 'spaceId',
    };
    const { url, file } = options.jwks ?? {};
    if (url && file) throw new Error('Auth: give the identity provider’s keys as a JWKS URL or a file, not both');
    if (url || file) {
      if (!options.issuer || !options.audience)
        throw new Error('Auth: a JWKS needs the issuer and the audience its tokens must carry');
      const unknown = this.algorithms.filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
      if (this.algorithms.length === 0 || unknown.length > 0)
        throw new Error(`Auth: the algorithms must be some of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
      this.keys = url
        ? this.remoteKeys(url)
        : createLocalJWKSet(JSON.parse(readFileSync(file!, 'utf8')) as JSONWebKeySet);
    }
    if (!this.secret && !this.keys) throw new Error('Auth: needs an HS256 secret, a JWKS, or both');
  }

  private remoteKeys(url: string): JWTVerifyGetKey {
    const jwks = this.options.jwks!;
    const remote = createRemoteJWKSet(new URL(url), {
      cacheMaxAge: (jwks.cacheMaxAgeSeconds ?? 600) * 1000,
      cooldownDuration: (jwks.cooldownSeconds ?? 30) * 1000,
      timeoutDuration: jwks.timeoutMs ?? 5000,
    });
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (
          error instanceof errors.JWKSNoMatchingKey ||
          error instanceof errors.JWKSMultipleMatchingKeys ||
          error instanceof errors.JOSENotSupported
        )
          throw error;
        throw new IdentityProviderUnavailableError(error);
      }
    };
  }

  async verify(token: string): Promise<Principal> {
    let alg: unknown;
    try {
      ({ alg } = decodeProtectedHeader(token));
    } catch {
      throw new InvalidTokenError('malformed', 'The bearer token is not a valid JWT');
    }
    if (alg === 'HS256' && this.secret) return verifyToken(token, this.secret, this.skew);
    if (!this.keys || !(this.algorithms as readonly unknown[]).includes(alg))
      throw new InvalidTokenError('algorithm', `The bearer token algorithm (${shown(alg)}) is not accepted`);
    return this.principal(await this.verifyWithKeys(token, this.keys));
  }

  private async verifyWithKeys(token: string, keys: JWTVerifyGetKey): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [...this.algorithms],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.skew,
        requiredClaims: ['exp', 'sub'],
      });
      return payload;
    } catch (error) {
      if (error instanceof IdentityProviderUnavailableError) throw error;
      throw refusal(error);
    }
  }

  private principal(payload: JWTPayload): Principal {
    const { sub } = payload;
    const tenantId = payload[this.claims.tenant];
    const roles = rolesOf(payload[this.claims.roles]);
    const actorType = payload[this.claims.actorType] ?? 'user';
    const spaceId = payload[this.claims.space] ?? this.options.defaultSpace ?? 'default';
    if (!isNonEmptyString(sub)) throw new InvalidTokenError('claims', 'The bearer token lacks sub');
    if (!isNonEmptyString(tenantId))
      throw new InvalidTokenError('claims', `The bearer token lacks the tenant claim "${this.claims.tenant}"`);
    if (!roles)
      throw new InvalidTokenError('claims', `The bearer token's roles claim "${this.claims.roles}" is invalid`);
    if (!isNonEmptyString(actorType) || !isNonEmptyString(spaceId))
      throw new InvalidTokenError('claims', 'The bearer token has an invalid actor type or space');
    return { actorId: sub, actorType, tenantId, spaceId, roles };
  }
}

/** Roles as an array of names or one space-separated string (as OAuth's `scope`); none is no role. */
function rolesOf(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value) && value.every(isNonEmptyString)) return [...value];
  return undefined;
}

function refusal(error: unknown): InvalidTokenError {
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('expired', 'The bearer token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new InvalidTokenError('issuer', 'The bearer token issuer is not accepted');
    if (error.claim === 'aud') return new InvalidTokenError('audience', 'The bearer token audience is not accepted');
    if (error.claim === 'nbf') return new InvalidTokenError('expired', 'The bearer token is not valid yet');
    return new InvalidTokenError('claims', `The bearer token lacks a valid "${error.claim}" claim`);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new InvalidTokenError('key', 'No key of the identity provider matches the bearer token');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return new InvalidTokenError('algorithm', 'The bearer token algorithm is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidTokenError('signature', 'The bearer token signature is invalid');
  return new InvalidTokenError('malformed', 'The bearer token is not a valid JWT');
}
