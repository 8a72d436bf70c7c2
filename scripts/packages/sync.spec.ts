import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { moduleSpecifiers } from './sync';

// sync.js on a scratch repository of two libraries: it writes what the imports say, and --check names the library
// and the dependency that is missing or extra once the source moves on.
describe('scripts/packages/sync.js', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  const json = (file: string) =>
    JSON.parse(readFileSync(join(root, file), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies: Record<string, string>;
      references?: { path: string }[];
    };
  // A process of its own, as CI runs it (Prettier, which formats the output, cannot load inside Jest's VM).
  function run(...args: string[]): { code: number; out: string; err: string } {
    const result = spawnSync(process.execPath, [join(__dirname, 'sync.js'), ...args, `--root=${root}`], {
      encoding: 'utf8',
    });
    return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'spine-sync-'));
    write(
      'package.json',
      JSON.stringify({
        name: 'scratch',
        version: '1.2.3',
        license: 'MIT',
        engines: { node: '>=20' },
        dependencies: { rxjs: '^7.8.2', typeorm: '^1.1.1' },
        devDependencies: { vitest: '^3.0.0' },
      }),
    );
    const paths = Object.fromEntries(['a', 'b', 'c'].map((lib) => [`@event-spine/${lib}`, [`./libs/${lib}/src`]]));
    write('tsconfig.base.json', JSON.stringify({ compilerOptions: { paths } }));
    write(
      'libs/a/src/index.ts',
      "import { b } from '@event-spine/b';\nimport type { Observable } from 'rxjs';\nimport { readFileSync } from 'node:fs';\n" +
        'export const a = [b, readFileSync];\nexport type O = Observable<number>;\n',
    );
    write('libs/a/src/index.spec.ts', "import { describe } from 'vitest';\nexport const s = describe;\n");
    write('libs/b/src/index.ts', 'export const b = 1;\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes package.json and tsconfig.build.json from the imports of the non-test source', () => {
    expect(run().code).toBe(0);

    const a = json('libs/a/package.json');
    expect(a).toMatchObject({
      name: '@event-spine/a',
      version: '1.2.3',
      license: 'MIT',
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': { types: './dist/index.d.ts', require: './dist/index.js', default: './dist/index.js' },
        './package.json': './package.json',
      },
      files: ['dist', '!dist/**/*.tsbuildinfo'],
      dependencies: { '@event-spine/b': '1.2.3' },
      peerDependencies: { rxjs: '^7.8.2' }, // not vitest: only a spec imports it; not node:fs, a built-in
    });
    expect(Object.keys(a.peerDependencies)).toEqual(['rxjs']);
    expect(json('libs/b/package.json').dependencies).toBeUndefined();
    expect(json('libs/a/tsconfig.build.json')).toMatchObject({
      compilerOptions: { composite: true, rootDir: 'src', outDir: 'dist' },
      exclude: ['src/**/*.spec.ts', 'src/**/*.int-spec.ts', 'src/**/*.e2e-spec.ts'],
      references: [{ path: '../b/tsconfig.build.json' }],
    });
    expect(json('tsconfig.build.json').references).toEqual([
      { path: './libs/a/tsconfig.build.json' },
      { path: './libs/b/tsconfig.build.json' },
    ]);
    expect(run('--check')).toMatchObject({ code: 0 });
  });

  it('--check names the library and each missing or extra dependency, and writes nothing', () => {
    run();
    write('libs/a/src/index.ts', "import { DataSource } from 'typeorm';\nexport const a = DataSource;\n");
    write('libs/c/src/index.ts', "export * from '@event-spine/a';\n");
    const before = readFileSync(join(root, 'libs/a/package.json'), 'utf8');

    const { code, err } = run('--check');

    expect(code).toBe(1);
    expect(err).toContain('libs/a/package.json: missing peer dependency typeorm@^1.1.1');
    expect(err).toContain('libs/a/package.json: extra peer dependency rxjs');
    expect(err).toContain('libs/a/package.json: extra dependency @event-spine/b');
    expect(err).toContain('libs/a/tsconfig.build.json: extra reference ../b/tsconfig.build.json');
    expect(err).toContain('libs/c/package.json is missing');
    expect(err).toContain('tsconfig.build.json: missing reference ./libs/c/tsconfig.build.json');
    expect(readFileSync(join(root, 'libs/a/package.json'), 'utf8')).toBe(before);
  });

  it('refuses deep imports, unknown libraries, cycles and dev-only packages in a published library', () => {
    write('libs/a/src/deep.ts', "export { b } from '@event-spine/b/src/index';\nexport * from '@event-spine/zzz';\n");
    write('libs/b/src/index.ts', "import { a } from '@event-spine/a';\nimport 'vitest';\nexport const b = a;\n");

    const { code, err } = run();

    expect(code).toBe(1);
    expect(err).toContain("libs/a/src/deep.ts imports '@event-spine/b/src/index': only a library's entry point");
    expect(err).toContain("libs/a/src/deep.ts imports '@event-spine/zzz': there is no libs/zzz");
    expect(err).toContain('libraries import each other in a cycle: a -> b -> a');
    expect(err).toContain("imports 'vitest', which the root package.json lists only under devDependencies");
  });

  it('reads every kind of module reference', () => {
    write(
      'x.ts',
      [
        "import a from 'a';",
        "import type { B } from 'b';",
        "export * from 'c';",
        "import d = require('d');",
        "const e = import('e');",
        "const f = require('f');",
        "const g = require.resolve('g/package.json');",
        "type H = import('h').H;",
        "import './i';",
      ].join('\n'),
    );
    expect(moduleSpecifiers(join(root, 'x.ts'))).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g/package.json', 'h', './i']);
  });
});
