/**
 * Prints a development bearer token. Usage:
 *   npm run dev-token -- [--tenant t1] [--space s1] [--actor dev-admin] [--roles admin,operator] [--ttl 8h]
 * The secret is JWT_SECRET, or the one `npm run up` generated in .local/dev-jwt-secret.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '../libs/auth/src';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string', default: 'tenant-dev' },
      space: { type: 'string', default: 'space-dev' },
      actor: { type: 'string', default: 'dev-admin' },
      'actor-type': { type: 'string', default: 'user' },
      roles: { type: 'string', default: 'admin' },
      ttl: { type: 'string', default: '12h' },
    },
  });
  const secret = process.env.JWT_SECRET ?? readFileSync(resolve(__dirname, '../.local/dev-jwt-secret'), 'utf8').trim();
  const token = await signToken(
    {
      actorId: values.actor,
      actorType: values['actor-type'],
      tenantId: values.tenant,
      spaceId: values.space,
      roles: values.roles.split(',').filter(Boolean),
    },
    secret,
    values.ttl,
  );
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dev-token: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
