import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { ServiceProcess } from '@event-spine/testing';
import { call, Pipeline, token } from '../support/pipeline';

// A real command service that trusts an identity provider (a JWKS served here) besides its own HS256 secret.
const ISSUER = 'https://idp.e2e.test/realms/spine';
const AUDIENCE = 'ledger-api';
const TENANT_CLAIM = 'https://spine.test/tenant';
const ROLES_CLAIM = 'groups';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function rsaKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const idpToken = (k: Key, opts: { iss?: string; aud?: string; tenant?: string } = {}) =>
  new SignJWT({ [TENANT_CLAIM]: opts.tenant ?? 'tenant-idp', [ROLES_CLAIM]: 'ledger admin' })
    .setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setSubject('alice@idp')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(k.privateKey);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer tokens from an identity provider (JWKS), next to the HS256 dev tokens', () => {
  let pipeline: Pipeline;
  let commands: ServiceProcess;
  let jwks: Server;
  let jwksUrl: string;
  let published: JWK[] = [];
  let keyA: Key;
  let keyB: Key;
  let accountId: string;

  const open = (bearer: string) =>
    call(commands.url, 'POST', '/v1/accounts', bearer, { ownerName: 'Idp', currency: 'EUR' });

  beforeAll(async () => {
    [keyA, keyB] = await Promise.all([rsaKey('key-a'), rsaKey('key-b')]);
    published = [keyA.jwk];
    jwks = createServer((_, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })),
    );
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    pipeline = await Pipeline.create();
    commands = await pipeline.start('command-service', {
      AUTH_JWKS_URL: jwksUrl,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_TENANT_CLAIM: TENANT_CLAIM,
      AUTH_ROLES_CLAIM: ROLES_CLAIM,
      // Production keeps 30 s between fetches; here the rotation must be seen at once.
      AUTH_JWKS_COOLDOWN_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  it('opens an account with an RS256 token of the provider and reads it back in the token’s tenant', async () => {
    const bearer = await idpToken(keyA);
    const opened = await open(bearer);
    expect(opened).toMatchObject({ status: 201, body: { accountId: expect.any(String) } });
    accountId = opened.body.accountId as string;
    const read = await call(commands.url, 'GET', `/v1/accounts/${accountId}`, bearer);
    expect(read).toMatchObject({ status: 200, body: { accountId, ownerName: 'Idp', balance: 0, status: 'open' } });
    // The tenant came from the configured claim: another tenant's token does not see the account.
    expect((await call(commands.url, 'GET', `/v1/accounts/${accountId}`, await token())).status).toBe(404);
    const otherTenant = await idpToken(keyA, { tenant: 'tenant-other' });
    expect((await call(commands.url, 'GET', `/v1/accounts/${accountId}`, otherTenant)).status).toBe(404);
  });

  it('accepts a token of a rotated-in key once the provider publishes it, without a restart', async () => {
    const early = await open(await idpToken(keyB));
    expect(early).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED', message: /No key/ } });
    published = [keyA.jwk, keyB.jwk];
    const bearer = await idpToken(keyB);
    expect((await open(bearer)).status).toBe(201);
    expect((await call(commands.url, 'GET', `/v1/accounts/${accountId}`, bearer)).status).toBe(200);
  });

  it('refuses a wrong issuer, a wrong audience, alg "none" and HS256 signed with the public key: 401', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const claims = { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp, [TENANT_CLAIM]: 'tenant-idp', groups: 'admin' };
    const pem = new TextEncoder().encode(await exportSPKI(keyA.publicKey));
    const cases: [string, string, RegExp][] = [
      ['wrong issuer', await idpToken(keyA, { iss: 'https://evil.test/' }), /issuer/],
      ['wrong audience', await idpToken(keyA, { aud: 'another-api' }), /audience/],
      ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, /algorithm/],
      [
        'HS256 with the public key',
        await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keyA.kid }).sign(pem),
        /signature/,
      ],
    ];
    for (const [name, bearer, message] of cases) {
      const res = await open(bearer);
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code: 'UNAUTHENTICATED' });
      expect(res.body.message).toMatch(message);
    }
  });

  it('still accepts the HS256 dev token of the shared secret', async () => {
    const bearer = await token();
    const opened = await open(bearer);
    expect(opened.status).toBe(201);
    const read = await call(commands.url, 'GET', `/v1/accounts/${opened.body.accountId as string}`, bearer);
    expect(read.status).toBe(200);
  });

  it('does not start with a JWKS but no issuer or audience to check', async () => {
    const misconfigured = await pipeline.start('command-service', { AUTH_JWKS_URL: jwksUrl }, false);
    expect((await misconfigured.exited).code).not.toBe(0);
    expect(misconfigured.logs).toMatch(/issuer and the audience/);
  });
});
