import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type ServiceRole = 'command' | 'relay' | 'projector';
export const SERVICE_ROLES: readonly ServiceRole[] = ['command', 'relay', 'projector'];

export interface ConsoleService {
  name: string;
  role: ServiceRole;
  /** Base URL, e.g. http://127.0.0.1:3001. */
  url: string;
}

export interface ConsoleDomain {
  domain: string;
  services: ConsoleService[];
}

/** The repository's root: the nearest folder above `from` whose package.json is this project's. */
export function repositoryRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'event-spine') {
      return dir;
    }
    const parent = resolve(dir, '..');
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function fail(where: string, what: string): never {
  throw new Error(`CONSOLE_SERVICES: ${where}: ${what}`);
}

/** Parses and checks CONSOLE_SERVICES (the services named by URL, as a test or a deployment gives them). */
export function parseServices(json: string): ConsoleDomain[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    fail('JSON', (error as Error).message);
  }
  if (!Array.isArray(raw)) fail('JSON', 'must be an array of {domain, services}');
  return raw.map((d: unknown, i) => {
    const domain = d as { domain?: unknown; services?: unknown };
    if (typeof domain.domain !== 'string' || !/^[a-z][a-z0-9-]*$/.test(domain.domain))
      fail(`[${i}].domain`, 'must be a lower-case name');
    if (!Array.isArray(domain.services)) fail(`${domain.domain}.services`, 'must be an array');
    return {
      domain: domain.domain,
      services: domain.services.map((s: unknown, j) => {
        const service = s as Record<string, unknown>;
        const where = `${domain.domain as string}.services[${j}]`;
        if (typeof service.name !== 'string' || !service.name) fail(where, 'name is required');
        if (!SERVICE_ROLES.includes(service.role as ServiceRole))
          fail(where, `role must be one of ${SERVICE_ROLES.join(', ')}`);
        if (typeof service.url !== 'string' || !/^https?:\/\/[^\s/]+$/.test(service.url.replace(/\/$/, '')))
          fail(where, 'url must be http(s)://host:port');
        return {
          name: service.name,
          role: service.role as ServiceRole,
          url: service.url.replace(/\/$/, ''),
        };
      }),
    };
  });
}

interface ServicesFile {
  domain: string;
  services: { name: string; role: string; port: number }[];
}

/**
 * Every domain's services from the spine.services.json files beside their code (apps/ for the first domain,
 * examples/<name>/ for the others), as `npm run up` starts them: on 127.0.0.1 at their declared ports.
 */
export function discoverServices(root: string): ConsoleDomain[] {
  const files = [join(root, 'apps/spine.services.json')];
  const examples = join(root, 'examples');
  for (const dir of existsSync(examples) ? readdirSync(examples).sort() : []) {
    const file = join(examples, dir, 'spine.services.json');
    if (existsSync(file)) files.push(file);
  }
  return files
    .filter((file) => existsSync(file))
    .map((file) => {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as ServicesFile;
      return {
        domain: parsed.domain,
        services: parsed.services
          .filter((s) => SERVICE_ROLES.includes(s.role as ServiceRole))
          .map((s) => ({
            name: s.name,
            role: s.role as ServiceRole,
            url: `http://127.0.0.1:${s.port}`,
          })),
      };
    });
}

/** The console's view of the deployment: domains, and in each the services by role. */
export class ServiceDirectory {
  constructor(readonly domains: ConsoleDomain[]) {}

  static fromConfig(config: { CONSOLE_SERVICES: string }): ServiceDirectory {
    return new ServiceDirectory(
      config.CONSOLE_SERVICES ? parseServices(config.CONSOLE_SERVICES) : discoverServices(repositoryRoot()),
    );
  }

  domain(name: string): ConsoleDomain | undefined {
    return this.domains.find((d) => d.domain === name);
  }

  service(domain: string, role: ServiceRole): ConsoleService | undefined {
    return this.domain(domain)?.services.find((s) => s.role === role);
  }
}
