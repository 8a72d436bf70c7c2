import { InvalidTokenError, signToken, verifyToken } from './jwt';
import type { Principal } from './principal';

const SECRET = 'unit-secret-0123456789-abcdefghijklmnop';
const principal: Principal = { actorId: 'u1', actorType: 'user', tenantId: 't1', spaceId: 's1', roles: ['admin'] };

const reason = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof InvalidTokenError ? e.reason : String(e)),
  );

describe('verifyToken and the tokens it verified before', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a token again with the same principal, which a caller cannot change for the next one', async () => {
    const token = await signToken(principal, SECRET);
    const first = await verifyToken(token, SECRET);
    expect(first).toEqual(principal);
    (first.roles as string[]).push('intruder');
    first.tenantId = 'other';
    expect(await verifyToken(token, SECRET)).toEqual(principal);
  });

  it('refuses a token it verified once it has expired, within the clock skew only', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const token = await signToken(principal, SECRET, '60s');
    expect(await verifyToken(token, SECRET, 5)).toEqual(principal);
    jest.setSystemTime(new Date('2026-12-02T10:01:03Z'));
    expect(await verifyToken(token, SECRET, 5)).toEqual(principal);
    jest.setSystemTime(new Date('2026-12-02T10:01:06Z'));
    expect(await reason(verifyToken(token, SECRET, 5))).toBe('expired');
  });

  it('checks a verified token against another secret, and any changed byte, from scratch', async () => {
    const token = await signToken(principal, SECRET);
    await verifyToken(token, SECRET);
    expect(await reason(verifyToken(token, `${SECRET}-other`))).toBe('signature');
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...principal, sub: 'u1', roles: ['admin'], tenantId: 't2', exp: 9e9 }));
    expect(await reason(verifyToken(`${header}.${forged.toString('base64url')}.${signature}`, SECRET))).toBe(
      'signature',
    );
  });
});
