import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '@event-spine/config';
import { auditConfig, auditSigningKey } from './audit.config';
import {
  checkpointRoot,
  parseCheckpoint,
  publicKeyPem,
  signCheckpoint,
  signingKey,
  verifyCheckpoint,
  type CheckpointHead,
} from './checkpoint';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('checkpoints', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const heads: CheckpointHead[] = [
    { subjectType: 'account', subjectId: 'b', sequence: 2, hash: 'b'.repeat(64) },
    { subjectType: 'account', subjectId: 'a', sequence: 7, hash: 'a'.repeat(64) },
  ];
  const createdAt = '2025-03-04T05:06:07.089Z';

  it('folds the sorted heads, the tenant and the time into the signed root', () => {
    const c = signCheckpoint('tenant-a', createdAt, heads, privateKey);
    expect(c.heads.map((h) => h.subjectId)).toEqual(['a', 'b']);
    expect(c.root).toBe(checkpointRoot('tenant-a', createdAt, [...heads].reverse()).toString('hex'));
    expect(c.root).not.toBe(checkpointRoot('tenant-b', createdAt, heads).toString('hex'));
    expect(c.publicKey).toBe(publicKeyPem(privateKey));
    expect(c.keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies with its public key, and not with another key', () => {
    const c = signCheckpoint('tenant-a', createdAt, heads, privateKey);
    expect(verifyCheckpoint(c, publicKeyPem(privateKey))).toEqual({
      rootMatches: true,
      signatureValid: true,
      keyFromCheckpoint: false,
    });
    expect(verifyCheckpoint(c).signatureValid).toBe(true);
    expect(verifyCheckpoint(c, other.publicKey)).toMatchObject({ rootMatches: true, signatureValid: false });
    expect(verifyCheckpoint({ ...c, publicKey: publicKeyPem(other.privateKey) }).signatureValid).toBe(false);
  });

  it('fails with a changed root, a changed head or a changed time', () => {
    const c = signCheckpoint('tenant-a', createdAt, heads, privateKey);
    const key = publicKeyPem(privateKey);
    expect(verifyCheckpoint({ ...c, root: 'f'.repeat(64) }, key)).toMatchObject({
      rootMatches: false,
      signatureValid: false,
    });
    const moved = { ...c, heads: c.heads.map((h, i) => (i === 0 ? { ...h, sequence: 6 } : h)) };
    expect(verifyCheckpoint(moved, key)).toMatchObject({ rootMatches: false, signatureValid: true });
    expect(verifyCheckpoint({ ...c, createdAt: '2030-01-01T00:00:00.000Z' }, key).rootMatches).toBe(false);
  });

  it('parses a checkpoint and names what is wrong with one that is not', () => {
    const c = signCheckpoint('tenant-a', createdAt, heads, privateKey);
    expect(parseCheckpoint(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => parseCheckpoint({ ...c, heads: [{ subjectType: 'x' }] })).toThrow(/heads\[0\]/);
    expect(() => parseCheckpoint({ ...c, format: 'v0' })).toThrow(/format/);
    expect(() => parseCheckpoint(null)).toThrow(/JSON object/);
  });

  it('takes only an Ed25519 key, from AUDIT_SIGNING_KEY (PEM, "\\n" escapes allowed), or none', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => signingKey(pem(rsa.privateKey))).toThrow(/Ed25519/);
    expect(auditSigningKey(loadConfig(auditConfig, {}))).toBeUndefined();
    const escaped = pem(privateKey).replace(/\n/g, '\\n');
    const key = auditSigningKey(loadConfig(auditConfig, { AUDIT_SIGNING_KEY: escaped }));
    expect(publicKeyPem(key!)).toBe(publicKeyPem(privateKey));
    expect(() => loadConfig(auditConfig, { AUDIT_SIGNING_KEY: 'secret' })).toThrow(/AUDIT_SIGNING_KEY/);
    expect(() => auditSigningKey(loadConfig(auditConfig, { AUDIT_SIGNING_KEY: pem(rsa.privateKey) }))).toThrow(
      /AUDIT_SIGNING_KEY: .*Ed25519/,
    );
  });
});
