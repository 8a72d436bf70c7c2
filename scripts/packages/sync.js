#!/usr/bin/env node
// Keeps each library's package manifest and build config in step with what its source imports.
//
//   node scripts/packages/sync.js            (re)writes libs/<name>/package.json, libs/<name>/tsconfig.build.json
//                                            and the root tsconfig.build.json
//   node scripts/packages/sync.js --check    writes nothing; exits 1 naming every library whose files are out of date
//                                            (a missing or extra dependency, peer dependency or project reference)
//
// A library is a folder libs/<name> with src/index.ts; it is published as @event-spine/<name>. Its non-test source
// (src/**/*.ts without *.spec.ts, *.int-spec.ts, *.e2e-spec.ts) decides:
//   dependencies      the sibling @event-spine/* packages it imports, at the root package.json's version (exact);
//   peerDependencies  the third-party packages it imports, at the root package.json's range (dependencies first,
//                     devDependencies only for a private library); a package the root only gets transitively gets
//                     ^<installed version> and a note; @types/<pkg> is an optional peer when <pkg> ships no types;
//   references        the sibling projects in tsconfig.build.json, so `tsc -b` builds them first.
// Fields the script does not own (private, description, keywords, ...) are kept as they are. A library marked
// "private": true is built but never packed (libs/testing: suites only, it starts this repository's services).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '../..');
const SCOPE = '@event-spine';
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;
const TEST_GLOBS = ['src/**/*.spec.ts', 'src/**/*.int-spec.ts', 'src/**/*.e2e-spec.ts'];
const BUILTINS = new Set(builtinModules);

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const rel = (root, file) => path.relative(root, file);
const sortKeys = (obj) => Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Every libs/<name> with a src/index.ts, sorted. */
function discoverLibs(root = ROOT) {
  const dir = path.join(root, 'libs');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'src/index.ts')))
    .map((entry) => entry.name)
    .sort();
}

function sourceFiles(dir) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name)) files.push(full);
  }
  return files.sort();
}

/** Module specifiers a file imports: import/export ... from, import x = require(), import(), require(),
 *  require.resolve() and import('x').Type in type positions. */
function moduleSpecifiers(file) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const literal = (node) => (node && ts.isStringLiteralLike(node) ? found.push(node.text) : undefined);
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire =
        (ts.isIdentifier(callee) && callee.text === 'require') ||
        (ts.isPropertyAccessExpression(callee) &&
          ts.isIdentifier(callee.expression) &&
          callee.expression.text === 'require' &&
          callee.name.text === 'resolve');
      if (callee.kind === ts.SyntaxKind.ImportKeyword || isRequire) literal(node.arguments[0]);
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) literal(node.name);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** '@scope/pkg/sub' -> { name: '@scope/pkg', subpath: 'sub' }; null for relative paths and Node built-ins. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) return null;
  const parts = specifier.split('/');
  const length = specifier.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, length).join('/'), subpath: parts.slice(length).join('/') };
}

function installedManifest(root, name) {
  const file = path.join(root, 'node_modules', name, 'package.json');
  return fs.existsSync(file) ? readJson(file) : null;
}

/** True when a package carries its own typings (so no @types/<name> is needed). */
function shipsTypes(root, name, manifest) {
  if (!manifest) return true;
  if (manifest.types || manifest.typings || JSON.stringify(manifest.exports ?? '').includes('"types"')) return true;
  const dir = path.join(root, 'node_modules', name);
  const main = (manifest.main ?? 'index.js').replace(/^\.\//, '');
  return ['index.d.ts', main.replace(/\.(c|m)?js$/, '') + '.d.ts', path.join(main, 'index.d.ts')].some((candidate) =>
    fs.existsSync(path.join(dir, candidate)),
  );
}

/** What one library imports, or the problems that keep it from being a package. */
function analyse(root, lib, libs) {
  const problems = [];
  const siblings = new Set();
  const thirdParty = new Map(); // name -> first file importing it
  for (const file of sourceFiles(path.join(root, 'libs', lib, 'src'))) {
    for (const specifier of moduleSpecifiers(file)) {
      const pkg = packageOf(specifier);
      if (!pkg) continue;
      if (pkg.name.startsWith(`${SCOPE}/`)) {
        const other = pkg.name.slice(SCOPE.length + 1);
        if (pkg.subpath)
          problems.push(
            `${rel(root, file)} imports '${specifier}': only a library's entry point (${pkg.name}) is exported`,
          );
        if (other === lib)
          problems.push(`${rel(root, file)} imports its own package '${specifier}'; use a relative path`);
        else if (!libs.includes(other))
          problems.push(`${rel(root, file)} imports '${specifier}': there is no libs/${other}`);
        else siblings.add(other);
      } else if (!thirdParty.has(pkg.name)) thirdParty.set(pkg.name, rel(root, file));
    }
  }
  return { siblings: [...siblings].sort(), thirdParty, problems };
}

/** The peer range for a third-party package, from the root package.json (see the header). */
function peerRange(root, rootPkg, name, isPrivate, notes, problems, lib, where) {
  const deps = rootPkg.dependencies ?? {};
  const devDeps = rootPkg.devDependencies ?? {};
  if (deps[name]) return deps[name];
  if (devDeps[name]) {
    if (isPrivate) return devDeps[name];
    problems.push(
      `libs/${lib} (${where}) imports '${name}', which the root package.json lists only under devDependencies; ` +
        'move it to dependencies (or mark the library "private": true)',
    );
    return devDeps[name];
  }
  const installed = installedManifest(root, name);
  if (installed?.version) {
    notes.add(
      `'${name}' is imported by libraries but not declared in the root package.json (it is installed through ` +
        `another package); the peer range ^${installed.version} is derived from node_modules. Declare it in the root ` +
        'dependencies to make the range explicit.',
    );
    return `^${installed.version}`;
  }
  problems.push(`libs/${lib} (${where}) imports '${name}', which is neither declared in package.json nor installed`);
  return '*';
}

function findCycle(graph) {
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'active') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph[node] ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of Object.keys(graph)) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const OWNED_MANIFEST_FIELDS = [
  'name',
  'version',
  'license',
  'engines',
  'main',
  'types',
  'exports',
  'files',
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
];

/** The expected contents of every generated file, plus notes and problems. */
function plan(root = ROOT) {
  const rootPkg = readJson(path.join(root, 'package.json'));
  const libs = discoverLibs(root);
  const notes = new Set();
  const problems = [];
  const files = new Map(); // absolute path -> object
  const graph = {};

  const basePaths = readJson(path.join(root, 'tsconfig.base.json')).compilerOptions?.paths ?? {};

  for (const lib of libs) {
    const dir = path.join(root, 'libs', lib);
    const manifestFile = path.join(dir, 'package.json');
    const existing = fs.existsSync(manifestFile) ? readJson(manifestFile) : {};
    const isPrivate = existing.private === true;
    const { siblings, thirdParty, problems: libProblems } = analyse(root, lib, libs);
    problems.push(...libProblems);
    graph[lib] = siblings;

    if (!basePaths[`${SCOPE}/${lib}`])
      problems.push(`tsconfig.base.json has no "paths" entry for ${SCOPE}/${lib} (./libs/${lib}/src/index.ts)`);

    const dependencies = Object.fromEntries(siblings.map((other) => [`${SCOPE}/${other}`, rootPkg.version]));
    const peers = {};
    const peersMeta = {};
    for (const [name, where] of thirdParty) {
      peers[name] = peerRange(root, rootPkg, name, isPrivate, notes, problems, lib, where);
      const typesName = `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
      const typesRange = rootPkg.devDependencies?.[typesName] ?? rootPkg.dependencies?.[typesName];
      if (typesRange && !shipsTypes(root, name, installedManifest(root, name))) {
        peers[typesName] = typesRange;
        peersMeta[typesName] = { optional: true };
      }
    }

    const manifest = {
      name: `${SCOPE}/${lib}`,
      version: rootPkg.version,
      ...(isPrivate ? { private: true } : {}),
      ...(existing.description ? { description: existing.description } : {}),
      license: rootPkg.license,
      engines: rootPkg.engines,
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': { types: './dist/index.d.ts', require: './dist/index.js', default: './dist/index.js' },
        './package.json': './package.json',
      },
      files: ['dist', '!dist/**/*.tsbuildinfo'],
    };
    for (const [key, value] of Object.entries(existing))
      if (!(key in manifest) && !OWNED_MANIFEST_FIELDS.includes(key)) manifest[key] = value;
    if (siblings.length) manifest.dependencies = dependencies;
    if (Object.keys(peers).length) manifest.peerDependencies = sortKeys(peers);
    if (Object.keys(peersMeta).length) manifest.peerDependenciesMeta = sortKeys(peersMeta);
    files.set(manifestFile, manifest);

    files.set(path.join(dir, 'tsconfig.build.json'), {
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        composite: true,
        declaration: true,
        incremental: true,
        rootDir: 'src',
        outDir: 'dist',
        tsBuildInfoFile: 'dist/tsconfig.build.tsbuildinfo',
        sourceMap: false,
        // Published typings must not lean on Jest's globals; only the private (test-only) libraries see them.
        types: isPrivate ? ['node', 'jest'] : ['node'],
      },
      include: ['src/**/*.ts'],
      exclude: TEST_GLOBS,
      references: siblings.map((other) => ({ path: `../${other}/tsconfig.build.json` })),
    });
  }

  const cycle = findCycle(graph);
  if (cycle) problems.push(`libraries import each other in a cycle: ${cycle.join(' -> ')} (tsc -b cannot build it)`);

  files.set(path.join(root, 'tsconfig.build.json'), {
    files: [],
    references: libs.map((lib) => ({ path: `./libs/${lib}/tsconfig.build.json` })),
  });
  return { libs, files, notes: [...notes], problems };
}

async function format(file, value) {
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  // Project references read best one to a line ({ "path": ... }); Prettier keeps an object on one line when it is
  // written that way and fits (package.json is printed the way npm prints it either way).
  const text = JSON.stringify(value, null, 2).replace(/\{\n\s+("path": "[^"]+")\n\s+\}/g, '{ $1 }');
  return prettier.format(text + '\n', { ...options, filepath: file });
}

/** Human-readable differences between what a file holds and what it should hold. */
function differences(root, file, actual, expected) {
  if (actual === undefined) return [`${rel(root, file)} is missing`];
  const out = [];
  const where = rel(root, file);
  const named = (kind, a = {}, e = {}) => {
    for (const name of Object.keys(e))
      if (!(name in a)) out.push(`${where}: missing ${kind} ${name}@${e[name]}`);
      else if (a[name] !== e[name]) out.push(`${where}: ${kind} ${name} is ${a[name]}, expected ${e[name]}`);
    for (const name of Object.keys(a)) if (!(name in e)) out.push(`${where}: extra ${kind} ${name}`);
  };
  if (path.basename(file) === 'package.json') {
    named('dependency', actual.dependencies, expected.dependencies);
    named('peer dependency', actual.peerDependencies, expected.peerDependencies);
    for (const key of new Set([...Object.keys(actual), ...Object.keys(expected)]))
      if (!['dependencies', 'peerDependencies'].includes(key))
        if (JSON.stringify(actual[key]) !== JSON.stringify(expected[key]))
          out.push(`${where}: "${key}" is ${JSON.stringify(actual[key])}, expected ${JSON.stringify(expected[key])}`);
  } else {
    const refs = (config) => (config.references ?? []).map((ref) => ref.path);
    const have = refs(actual);
    const want = refs(expected);
    for (const ref of want) if (!have.includes(ref)) out.push(`${where}: missing reference ${ref}`);
    for (const ref of have) if (!want.includes(ref)) out.push(`${where}: extra reference ${ref}`);
    const { references: _a, ...restActual } = actual;
    const { references: _e, ...restExpected } = expected;
    if (!out.length && JSON.stringify(restActual) !== JSON.stringify(restExpected))
      out.push(`${where}: differs from the generated config`);
  }
  return out.length ? out : [`${where}: formatting differs from the generated file`];
}

async function main(argv = process.argv.slice(2)) {
  const check = argv.includes('--check');
  // --root=<dir>: another checkout (the unit spec runs the script on a scratch repository).
  const root = path.resolve(argv.find((arg) => arg.startsWith('--root='))?.slice('--root='.length) ?? ROOT);
  const { libs, files, notes, problems } = plan(root);
  for (const note of notes) process.stderr.write(`[packages] note: ${note}\n`);
  const stale = [];
  for (const [file, value] of files) {
    const text = await format(file, value);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === text) continue;
    if (check) {
      let parsed;
      try {
        parsed = current === undefined ? undefined : JSON.parse(current);
      } catch {
        parsed = {};
      }
      stale.push(...differences(root, file, parsed, value));
    } else {
      fs.writeFileSync(file, text);
      process.stdout.write(`[packages] wrote ${rel(root, file)}\n`);
    }
  }
  for (const problem of problems) process.stderr.write(`[packages] error: ${problem}\n`);
  if (stale.length) {
    for (const line of stale) process.stderr.write(`[packages] out of date: ${line}\n`);
    process.stderr.write('[packages] run `npm run sync:libs` (node scripts/packages/sync.js) and commit the result\n');
  }
  if (problems.length || stale.length) return 1;
  if (check) process.stdout.write(`[packages] ${libs.length} libraries in step with their imports\n`);
  return 0;
}

module.exports = { discoverLibs, moduleSpecifiers, packageOf, plan, main };

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`[packages] error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
