import { int, str, url, type ConfigOf } from '@event-spine/config';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, type TokenVerifierOptions } from './token-verifier';

const algorithm = `(${ASYMMETRIC_ALGORITHMS.join('|')})`;

/** The variables of a service that accepts tokens from an identity provider (besides its HS256 JWT_SECRET). */
export const authConfig = {
  AUTH_JWKS_URL: url('JWKS URL of the identity provider, for RS/ES/EdDSA bearer tokens (empty: none)', {
    default: '',
    protocols: ['https', 'http'],
  }),
  AUTH_JWKS_FILE: str('JWKS file of the identity provider, instead of AUTH_JWKS_URL (empty: none)', { default: '' }),
  AUTH_ISSUER: str('`iss` the identity provider’s tokens must carry (required with a JWKS)', { default: '' }),
  AUTH_AUDIENCE: str('`aud` the identity provider’s tokens must contain (required with a JWKS)', { default: '' }),
  AUTH_ALGORITHMS: str(
    `comma-separated algorithms accepted from the identity provider (${ASYMMETRIC_ALGORITHMS.join(', ')})`,
    {
      default: 'RS256,ES256,EdDSA',
      pattern: new RegExp(`^${algorithm}(,${algorithm})*$`),
    },
  ),
  AUTH_CLOCK_SKEW_SECONDS: int('tolerance for the expiry (`exp`, `nbf`) of bearer tokens', {
    default: 30,
    min: 0,
    max: 300,
  }),
  AUTH_TENANT_CLAIM: str('claim of the identity provider’s tokens that names the tenant', { default: 'tenantId' }),
  AUTH_ROLES_CLAIM: str('claim with the roles (an array or a space-separated string)', { default: 'roles' }),
  AUTH_DEFAULT_SPACE: str('space of a caller whose token has no `spaceId` claim', { default: 'default' }),
  AUTH_JWKS_CACHE_SECONDS: int('how long a fetched JWKS is used before it is fetched again', {
    default: 600,
    min: 0,
  }),
  AUTH_JWKS_COOLDOWN_SECONDS: int('least time between two JWKS fetches, also for a token with an unknown `kid`', {
    default: 30,
    min: 0,
  }),
} as const;

export type AuthConfig = ConfigOf<typeof authConfig>;

/** The TokenVerifier's options from the variables (the ones a service leaves out keep their defaults). */
export function authOptions(config: Partial<AuthConfig>, hs256Secret?: string): TokenVerifierOptions {
  const jwks = config.AUTH_JWKS_URL || config.AUTH_JWKS_FILE;
  return {
    hs256Secret,
    jwks: jwks
      ? {
          url: config.AUTH_JWKS_URL || undefined,
          file: config.AUTH_JWKS_FILE || undefined,
          cacheMaxAgeSeconds: config.AUTH_JWKS_CACHE_SECONDS,
          cooldownSeconds: config.AUTH_JWKS_COOLDOWN_SECONDS,
        }
      : undefined,
    issuer: config.AUTH_ISSUER || undefined,
    audience: config.AUTH_AUDIENCE || undefined,
    algorithms: config.AUTH_ALGORITHMS?.split(',') as AsymmetricAlgorithm[] | undefined,
    clockSkewSeconds: config.AUTH_CLOCK_SKEW_SECONDS,
    claims: { tenant: config.AUTH_TENANT_CLAIM, roles: config.AUTH_ROLES_CLAIM },
    defaultSpace: config.AUTH_DEFAULT_SPACE,
  };
}
