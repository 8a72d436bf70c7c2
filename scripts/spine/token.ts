/** A development admin token, signed the way `npm run dev-token` does. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { signToken } from '../../libs/auth/src';

const SECRET_FILE = resolve(__dirname, '../../.local/dev-jwt-secret');

export async function developmentToken(
  tenantId: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  let secret = env.JWT_SECRET;
  if (!secret) {
    try {
      secret = readFileSync(SECRET_FILE, 'utf8').trim();
    } catch {
      throw new Error(
        'no token: pass --token, set SPINE_TOKEN or TOKEN, or set JWT_SECRET ' +
          `(\`npm run up\` writes ${SECRET_FILE})`,
      );
    }
  }
  return signToken(
    { actorId: 'dev-admin', actorType: 'user', tenantId, spaceId: 'space-dev', roles: ['admin'] },
    secret,
    '12h',
  );
}
