import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLocalJWKSet,
  errors,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { ApiError } from '@event-spine/http';
import { authenticate } from './auth.guard';
import { InvalidTokenError, signToken } from './jwt';
import { IdentityProviderUnavailableError, TokenVerifier, type TokenVerifierOptions } from './token-verifier';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'event-spine';
const SECRET = 'unit-secret-that-is-long-enough-0123456789';
const TENANT_CLAIM = 'https://example.com/tenant';

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function key(kid: string, alg: Key['alg']): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A token as an identity provider issues it; `claims` and `header` override the defaults. */
function idpToken(
  k: Pick<Key, 'kid' | 'alg' | 'privateKey'>,
  claims: JWTPayload = {},
  opts: { iss?: string; aud?: string; exp?: number | string } = {},
): Promise<string> {
  return new SignJWT({ [TENANT_CLAIM]: 'tenant-idp', roles: 'admin reader', ...claims })
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(k.privateKey);
}

/** A JWKS endpoint on a free local port; `keys` is what it serves now, `fetches` how often it was asked. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  private constructor(private readonly server: Server) {}

  static async start(keys: JWK[]): Promise<JwksServer> {
    const jwks = new JwksServer(
      createServer((req, res) => {
        jwks.fetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks.keys }));
      }),
    );
    jwks.keys = keys;
    await new Promise<void>((resolve) => jwks.server.listen(0, '127.0.0.1', resolve));
    return jwks;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(verifier: TokenVerifier, token: string): Promise<InvalidTokenError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe('TokenVerifier', () => {
  let rsa: Key;
  let ec: Key;
  let ed: Key;
  let jwks: JwksServer;
  let verifier: TokenVerifier;
  const options = (extra: Partial<TokenVerifierOptions> = {}): TokenVerifierOptions => ({
    hs256Secret: SECRET,
    jwks: { url: jwks.url },
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    clockSkewSeconds: 30,
    claims: { tenant: TENANT_CLAIM, roles: 'roles' },
    defaultSpace: 'main',
    ...extra,
  });

  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([key('rsa-1', 'RS256'), key('ec-1', 'ES256'), key('ed-1', 'EdDSA')]);
    jwks = await JwksServer.start([rsa.jwk, ec.jwk, ed.jwk]);
    verifier = new TokenVerifier(options());
  });
  afterAll(() => jwks.stop());

  describe('accepts', () => {
    it.each(['RS256', 'ES256', 'EdDSA'])(
      '%s tokens of the JWKS, mapped through the configured claim names',
      async (alg) => {
        const k = [rsa, ec, ed].find((x) => x.alg === alg)!;
        await expect(verifier.verify(await idpToken(k))).resolves.toEqual({
          actorId: 'user-1',
          actorType: 'user',
          tenantId: 'tenant-idp',
          spaceId: 'main',
          roles: ['admin', 'reader'],
        });
      },
    );

    it('roles as an array, no roles as none, and actorType / spaceId when the provider sends them', async () => {
      const withAll = await idpToken(rsa, { roles: ['admin'], actorType: 'service', spaceId: 'space-9' });
      expect(await verifier.verify(withAll)).toMatchObject({
        roles: ['admin'],
        actorType: 'service',
        spaceId: 'space-9',
      });
      expect((await verifier.verify(await idpToken(rsa, { roles: undefined }))).roles).toEqual([]);
    });

    it('HS256 tokens of the shared secret next to the provider’s (dev tokens, the services’ own)', async () => {
      const principal = { actorId: 'svc', actorType: 'service', tenantId: 't', spaceId: 's', roles: ['admin'] };
      await expect(verifier.verify(await signToken(principal, SECRET))).resolves.toEqual(principal);
    });

    it('a token expired within the clock skew, not beyond it', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expect(verifier.verify(await idpToken(rsa, {}, { exp: now - 10 }))).resolves.toMatchObject({
        actorId: 'user-1',
      });
      expect(await refusal(verifier, await idpToken(rsa, {}, { exp: now - 60 }))).toMatchObject({
        reason: 'expired',
        message: 'The bearer token has expired',
      });
    });

    it('keys from a JWKS file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
      try {
        const file = join(dir, 'jwks.json');
        writeFileSync(file, JSON.stringify({ keys: [ec.jwk] }));
        const fromFile = new TokenVerifier(options({ jwks: { file } }));
        await expect(fromFile.verify(await idpToken(ec))).resolves.toMatchObject({ tenantId: 'tenant-idp' });
        expect((await refusal(fromFile, await idpToken(rsa))).reason).toBe('key');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('key rotation (jose createRemoteJWKSet)', () => {
    it('fetches again for an unknown kid (after the cooldown) and drops a removed key once the cache is stale', async () => {
      const a = await key('rot-a', 'RS256');
      const b = await key('rot-b', 'RS256');
      const server = await JwksServer.start([a.jwk]);
      try {
        const rotating = new TokenVerifier(
          options({ jwks: { url: server.url, cooldownSeconds: 0, cacheMaxAgeSeconds: 1 } }),
        );
        await expect(rotating.verify(await idpToken(a))).resolves.toBeDefined();
        expect(server.fetches).toBe(1);

        // The provider publishes B, then signs with it: the unknown kid makes jose fetch the set again.
        server.keys = [a.jwk, b.jwk];
        await expect(rotating.verify(await idpToken(b))).resolves.toBeDefined();
        expect(server.fetches).toBe(2);

        // A is withdrawn: its tokens still pass while the fetched set is fresh (its kid is known, nothing is fetched) …
        server.keys = [b.jwk];
        await expect(rotating.verify(await idpToken(a))).resolves.toBeDefined();
        expect(server.fetches).toBe(2);
        // … and are refused once the set is older than the cache age and fetched again.
        await new Promise((r) => setTimeout(r, 1100));
        expect(await refusal(rotating, await idpToken(a))).toMatchObject({
          reason: 'key',
          message: 'No key of the identity provider matches the bearer token',
        });
        await expect(rotating.verify(await idpToken(b))).resolves.toBeDefined();
      } finally {
        await server.stop();
      }
    });

    it('within the cooldown an unknown kid is refused without a fetch (no JWKS flood from forged kids)', async () => {
      const a = await key('cool-a', 'ES256');
      const b = await key('cool-b', 'ES256');
      const server = await JwksServer.start([a.jwk]);
      try {
        const cooling = new TokenVerifier(options({ jwks: { url: server.url, cooldownSeconds: 30 } }));
        await expect(cooling.verify(await idpToken(a))).resolves.toBeDefined();
        server.keys = [a.jwk, b.jwk];
        expect((await refusal(cooling, await idpToken(b))).reason).toBe('key');
        expect(server.fetches).toBe(1);
      } finally {
        await server.stop();
      }
    });

    it('answers "unavailable", not "invalid token", when the JWKS cannot be fetched', async () => {
      const server = await JwksServer.start([rsa.jwk]);
      const url = server.url;
      await server.stop();
      const offline = new TokenVerifier(options({ jwks: { url, timeoutMs: 2000 } }));
      await expect(offline.verify(await idpToken(rsa))).rejects.toBeInstanceOf(IdentityProviderUnavailableError);
      await expect(authenticate(`Bearer ${await idpToken(rsa)}`, offline)).rejects.toMatchObject({
        statusCode: 503,
        code: 'SERVICE_UNAVAILABLE',
      });
    });
  });

  describe('refuses', () => {
    it('a wrong issuer or audience', async () => {
      expect(await refusal(verifier, await idpToken(rsa, {}, { iss: 'https://evil.test/' }))).toMatchObject({
        reason: 'issuer',
        message: 'The bearer token issuer is not accepted',
      });
      expect(await refusal(verifier, await idpToken(ec, {}, { aud: 'another-api' }))).toMatchObject({
        reason: 'audience',
        message: 'The bearer token audience is not accepted',
      });
    });

    it('alg "none" (an unsigned token, crafted by hand)', async () => {
      const payload = { sub: 'user-1', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 };
      for (const header of [{ alg: 'none' }, { alg: 'none', kid: rsa.kid, typ: 'JWT' }, { alg: 'NONE' }]) {
        const unsigned = `${b64url(header)}.${b64url({ ...payload, [TENANT_CLAIM]: 't', roles: 'admin' })}.`;
        expect(await refusal(verifier, unsigned)).toMatchObject({ reason: 'algorithm' });
        // jose alone refuses it too (jwtVerify never accepts an unsecured JWS).
        await expect(jwtVerify(unsigned, createLocalJWKSet({ keys: [rsa.jwk] }))).rejects.toBeInstanceOf(
          errors.JOSEError,
        );
        await expect(authenticate(`Bearer ${unsigned}`, verifier)).rejects.toMatchObject({
          statusCode: 401,
          code: 'UNAUTHENTICATED',
        });
      }
    });

    it('HS256 signed with the public key (PEM or JWK) as the secret: the key confusion attack', async () => {
      const pem = await exportSPKI(rsa.publicKey);
      const forged = await Promise.all(
        [pem, JSON.stringify(rsa.jwk), rsa.jwk.n!].map((secret) =>
          idpToken({ kid: rsa.kid, alg: 'HS256' as Key['alg'], privateKey: new TextEncoder().encode(secret) as never }),
        ),
      );
      for (const token of forged) {
        // With a shared secret HS256 goes to it, and the signature is wrong; without one HS256 is not accepted at all.
        expect((await refusal(verifier, token)).reason).toBe('signature');
        expect((await refusal(new TokenVerifier(options({ hs256Secret: undefined })), token)).reason).toBe('algorithm');
        // And jose itself never verifies HS256 with a key set's (public) keys.
        await expect(jwtVerify(token, createLocalJWKSet({ keys: [rsa.jwk] }))).rejects.toBeInstanceOf(
          errors.JOSENotSupported,
        );
      }
    });

    it('an algorithm that is not in the allowed list, even with a key of the set', async () => {
      const rsaOnly = new TokenVerifier(options({ algorithms: ['RS256'] }));
      expect(await refusal(rsaOnly, await idpToken(ec))).toMatchObject({
        reason: 'algorithm',
        message: 'The bearer token algorithm (ES256) is not accepted',
      });
      // RS512 under the kid of the set's RSA key: not allowed by default.
      const { privateKey } = await generateKeyPair('RS512');
      const rs512 = await idpToken({ kid: rsa.kid, alg: 'RS512' as Key['alg'], privateKey });
      expect((await refusal(verifier, rs512)).reason).toBe('algorithm');
    });

    it('an unknown kid, a key that is not the kid’s, and a tampered payload', async () => {
      const stranger = await key('not-published', 'RS256');
      expect(await refusal(verifier, await idpToken(stranger))).toMatchObject({ reason: 'key' });
      expect((await refusal(verifier, await idpToken({ ...stranger, kid: rsa.kid }))).reason).toBe('signature');
      const [h, , s] = (await idpToken(rsa)).split('.');
      const tampered = `${h}.${b64url({ sub: 'root', [TENANT_CLAIM]: 'other', iss: ISSUER, aud: AUDIENCE, exp: 4e9 })}.${s}`;
      expect((await refusal(verifier, tampered)).reason).toBe('signature');
    });

    it('tokens without the tenant claim, with invalid roles, without sub or exp', async () => {
      expect(await refusal(verifier, await idpToken(rsa, { [TENANT_CLAIM]: undefined, tenantId: 't' }))).toMatchObject({
        reason: 'claims',
        message: `The bearer token lacks the tenant claim "${TENANT_CLAIM}"`,
      });
      expect((await refusal(verifier, await idpToken(rsa, { roles: 42 }))).reason).toBe('claims');
      const noSubNoExp = await new SignJWT({ [TENANT_CLAIM]: 't' })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .sign(rsa.privateKey);
      expect((await refusal(verifier, noSubNoExp)).reason).toBe('claims');
    });

    it('as a 401 UNAUTHENTICATED with the reason', async () => {
      const error = await authenticate(`Bearer ${await idpToken(rsa, {}, { iss: 'x' })}`, verifier).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED', message: /issuer/ });
    });
  });

  it('refuses configurations that would check too little', () => {
    expect(() => new TokenVerifier({})).toThrow(/HS256 secret, a JWKS/);
    expect(() => new TokenVerifier(options({ issuer: undefined }))).toThrow(/issuer and the audience/);
    expect(() => new TokenVerifier(options({ audience: '' }))).toThrow(/issuer and the audience/);
    expect(() => new TokenVerifier(options({ jwks: { url: jwks.url, file: '/x.json' } }))).toThrow(/not both/);
    expect(() => new TokenVerifier(options({ algorithms: ['HS256' as 'RS256'] }))).toThrow(/algorithms/);
    expect(() => new TokenVerifier(options({ algorithms: [] }))).toThrow(/algorithms/);
  });
});
