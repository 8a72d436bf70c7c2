#!/usr/bin/env node
// After `tsc -b tsconfig.build.json`: checks that what each library's dist/ will publish stands on its own.
//   - dist/index.js and dist/index.d.ts exist and no test file was compiled;
//   - every package the emitted JavaScript and declarations import is the library's dependency or peer dependency
//     (declaration emit can name a package the source never imports, through an inferred type);
//   - no @event-spine/<name>/<path> import (only entry points are exported) and no relative import out of dist/.
// Exits 1 naming the library and the file. Usage: node scripts/packages/check-dist.js
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');
const { discoverLibs, moduleSpecifiers, packageOf } = require('./sync');

const ROOT = path.resolve(__dirname, '../..');

function files(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

function checkDist(root = ROOT) {
  const problems = [];
  for (const lib of discoverLibs(root)) {
    const dir = path.join(root, 'libs', lib);
    const dist = path.join(dir, 'dist');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    for (const entry of ['index.js', 'index.d.ts'])
      if (!fs.existsSync(path.join(dist, entry))) problems.push(`libs/${lib}/dist/${entry} was not built`);
    if (!fs.existsSync(dist)) continue;
    for (const file of files(dist)) {
      const where = path.relative(root, file);
      if (/\.(spec|int-spec|e2e-spec)\.(js|d\.ts)$/.test(file)) problems.push(`${where}: a test file in the build`);
      if (!/\.(js|d\.ts)$/.test(file)) continue;
      for (const specifier of moduleSpecifiers(file)) {
        if (specifier.startsWith('.')) {
          const target = path.resolve(path.dirname(file), specifier);
          if (path.relative(dist, target).startsWith('..'))
            problems.push(`${where} imports '${specifier}', outside the package's dist/`);
          continue;
        }
        if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])) continue;
        const pkg = packageOf(specifier);
        if (pkg.name === manifest.name) problems.push(`${where} imports its own package '${specifier}'`);
        else if (pkg.name.startsWith('@event-spine/') && pkg.subpath)
          problems.push(`${where} imports '${specifier}', a path inside a package (only its entry point is exported)`);
        else if (!declared.has(pkg.name))
          problems.push(`${where} imports '${pkg.name}', which libs/${lib}/package.json does not declare`);
      }
    }
  }
  return [...new Set(problems)];
}

module.exports = { checkDist };

if (require.main === module) {
  const problems = checkDist();
  for (const problem of problems) process.stderr.write(`[packages] error: ${problem}\n`);
  if (problems.length) process.exit(1);
  process.stdout.write('[packages] every dist/ imports only what its package.json declares\n');
}
