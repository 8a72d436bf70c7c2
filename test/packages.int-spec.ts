import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { discoverLibs, moduleSpecifiers, packageOf } from '../scripts/packages/sync';

// The libraries as npm packages: scripts/packages/pack builds and packs every publishable library, and
// scripts/packages/check-example type-checks a consumer against those tarballs alone, so a name a package does not
// export, or an import of a file inside a package, is a failed check rather than a surprise for a user.
const ROOT = join(__dirname, '..');
jest.setTimeout(180_000);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license: string;
  main: string;
  types: string;
  exports: Record<string, unknown>;
  files: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const manifestOf = (lib: string) =>
  JSON.parse(readFileSync(join(ROOT, 'libs', lib, 'package.json'), 'utf8')) as Manifest;
const publishable = discoverLibs().filter((lib) => manifestOf(lib).private !== true);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function writeConsumer(dir: string, files: Record<string, string>): string {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

describe('library packages', () => {
  let scratch: string;
  let packages: string;
  let pack: SpawnSyncReturns<string>;
  const unpacked = new Map<string, string>(); // lib -> its unpacked tarball (the package/ folder)

  const checkExample = (consumer: string) =>
    spawnSync('bash', [join(ROOT, 'scripts/packages/check-example'), consumer], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PACKAGES_DIR: packages },
    });

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'spine-packages-'));
    packages = join(scratch, 'packages');
    pack = spawnSync('bash', [join(ROOT, 'scripts/packages/pack')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PACKAGES_DIR: packages },
    });
    if (pack.status !== 0) return;
    for (const lib of publishable) {
      const tarball = join(packages, `event-spine-${lib}-${rootPkg.version}.tgz`);
      if (!existsSync(tarball)) continue;
      const dir = join(scratch, 'unpacked', lib);
      mkdirSync(dir, { recursive: true });
      spawnSync('tar', ['-xzf', tarball, '-C', dir]);
      unpacked.set(lib, join(dir, 'package'));
    }
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('packs every publishable library, and nothing else, printing each tarball', () => {
    expect({ status: pack.status, stderr: pack.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(pack.stderr).not.toMatch(/error|out of date/i);
    expect(publishable.length).toBeGreaterThanOrEqual(10);
    const expected = publishable.map((lib) => join(packages, `event-spine-${lib}-${rootPkg.version}.tgz`)).sort();
    expect(pack.stdout.trim().split('\n').sort()).toEqual(expected);
    expect(readdirSync(packages).sort()).toEqual(expected.map((file) => basename(file)));
    // libs/testing drives this repository's services and infrastructure: suites only, never published.
    expect(manifestOf('testing').private).toBe(true);
    expect(publishable).not.toContain('testing');
  });

  it("each tarball's package.json names the package, its exports and its dependencies", () => {
    for (const lib of publishable) {
      const manifest: Manifest = JSON.parse(readFileSync(join(unpacked.get(lib)!, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({
        name: `@event-spine/${lib}`,
        version: rootPkg.version,
        license: rootPkg.license,
        main: './dist/index.js',
        types: './dist/index.d.ts',
      });
      expect(manifest.exports).toEqual({
        '.': { types: './dist/index.d.ts', require: './dist/index.js', default: './dist/index.js' },
        './package.json': './package.json',
      });
      for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
        expect([name, publishable.includes(name.replace('@event-spine/', ''))]).toEqual([name, true]);
        expect([name, version]).toEqual([name, rootPkg.version]);
      }
      for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
        expect(name.startsWith('@event-spine/')).toBe(false);
        // The root's range; a types-only package is an optional peer from the root's devDependencies, and a package
        // the root gets only transitively (fastify, through @nestjs/platform-fastify) carries its installed version.
        const installed = () =>
          JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
        const want = name.startsWith('@types/')
          ? rootPkg.devDependencies[name]
          : (rootPkg.dependencies[name] ?? `^${installed().version}`);
        expect([lib, name, range]).toEqual([lib, name, want]);
        if (name.startsWith('@types/')) expect(manifest.peerDependenciesMeta?.[name]).toEqual({ optional: true });
      }
    }
    const peers = (lib: string) => manifestOf(lib).peerDependencies ?? {};
    expect(peers('kafka')).toMatchObject({
      kafkajs: rootPkg.dependencies.kafkajs,
      '@nestjs/common': expect.any(String),
    });
    expect(peers('persistence')).toMatchObject({ pg: rootPkg.dependencies.pg, '@types/pg': expect.any(String) });
    expect(manifestOf('commands').dependencies).toMatchObject({ '@event-spine/events': rootPkg.version });
    // The wire contract has no runtime dependencies (see .dependency-cruiser.cjs).
    expect(manifestOf('events').dependencies).toBeUndefined();
    expect(manifestOf('events').peerDependencies).toBeUndefined();
  });

  it('each tarball holds the compiled entry point and its typings, no sources or tests, and imports only what it declares', () => {
    for (const lib of publishable) {
      const dir = unpacked.get(lib)!;
      const manifest: Manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const files = filesUnder(dir).map((file) => relative(dir, file));
      expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
      const stray = files.filter(
        (file) =>
          file !== 'package.json' &&
          (!/^dist\/.*\.(js|d\.ts)$/.test(file) || /\.(spec|int-spec|e2e-spec)\./.test(file)),
      );
      expect([lib, stray]).toEqual([lib, []]);

      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const undeclared = files
        .filter((file) => file.startsWith('dist/'))
        .flatMap((file) => moduleSpecifiers(join(dir, file)).map((specifier) => ({ file, specifier })))
        .filter(({ specifier }) => {
          const pkg = packageOf(specifier);
          return pkg && (!declared.has(pkg.name) || (pkg.name.startsWith('@event-spine/') && pkg.subpath));
        });
      expect([lib, undeclared]).toEqual([lib, []]);
    }
  });

  it('a consumer importing what the packages export type-checks against the tarballs alone', () => {
    const consumer = writeConsumer(join(scratch, 'consumer-ok'), {
      'src/consents.ts': `import { Module } from '@nestjs/common';
import { CommandsModule } from '@event-spine/commands';
import { defineEventCatalog, type DomainEvent } from '@event-spine/events';
import { ProjectionsModule, defineProjection } from '@event-spine/projections';

type ConsentGiven = DomainEvent & { eventType: 'ConsentGiven'; payload: { purpose: string } };

export const catalog = defineEventCatalog<ConsentGiven>({
  name: 'consents',
  events: { ConsentGiven: { subjectType: 'consent', schema: { type: 'object' } } },
});

export const consentsView = defineProjection<ConsentGiven>({
  name: 'consents',
  version: 1,
  handles: ['ConsentGiven'],
  tables: ['consents'],
  scope: { tenantColumn: 'tenant_id' },
  async apply(db, event) {
    await db.query('insert into consents (purpose) values ($1)', [event.payload.purpose]);
  },
});

@Module({})
export class ConsentsModule {
  static readonly uses = [CommandsModule, ProjectionsModule] as const;
}
`,
      // Tests are not part of the check (they may use @event-spine/testing, which is not published).
      'src/consents.spec.ts': `import { uniqueName } from '@event-spine/testing';\nexport const name = uniqueName('x');\n`,
    });

    const check = checkExample(consumer);

    expect(check.stderr).toContain('type-checks against the packed libraries');
    expect(check.status).toBe(0);
  });

  it('a consumer importing a name no package exports, or a file inside a package, fails and says which', () => {
    const consumer = writeConsumer(join(scratch, 'consumer-bad'), {
      'src/missing.ts': `import { defineEventCatalog, notExportedAnywhere } from '@event-spine/events';\nexport const both = [defineEventCatalog, notExportedAnywhere];\n`,
      'src/deep.ts': `import { EventCatalog } from '@event-spine/events/src/catalog';\nexport const catalog = EventCatalog;\n`,
    });

    const check = checkExample(consumer);

    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(
      /src\/missing\.ts\(1,\d+\): error TS2305: Module '"@event-spine\/events"' has no exported member 'notExportedAnywhere'/,
    );
    expect(check.stderr).toMatch(
      /src\/deep\.ts\(1,\d+\): error TS2307: Cannot find module '@event-spine\/events\/src\/catalog'/,
    );
    expect(check.stderr).toContain('does not type-check against the packed libraries');
  });
});
