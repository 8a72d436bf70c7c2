// Compares the committed package-lock.json with one npm regenerated from it against today's registry, and tells
// whether they differ only in optional platform binaries (@swc/core-darwin-arm64, @unrs/resolver-binding-*, ...).
// Such entries come and go as the registry serves more or fewer of them; they never change what runs here.
// Plain Node and no dependencies: it runs before anything is installed.
'use strict';

const fs = require('node:fs');

/** A lock entry that only exists to carry a binary for some platform: reachable through optional dependencies only. */
function isOptional(entry) {
  return Boolean(entry && entry.optional === true);
}

/** Lock entries compared by what they resolve to, not by incidental fields npm may rewrite. */
function identity(entry) {
  return JSON.stringify({
    version: entry.version,
    resolved: entry.resolved,
    integrity: entry.integrity,
    link: entry.link,
    dependencies: entry.dependencies,
    peerDependencies: entry.peerDependencies,
    bin: entry.bin,
  });
}

/**
 * The difference between two parsed lock files. `platform` lists optional entries added or removed (harmless);
 * `real` lists every other difference (a dependency package.json asks for that the lock lacks, a changed version).
 */
function compareLocks(committed, regenerated) {
  const before = committed.packages || {};
  const after = regenerated.packages || {};
  const platform = { added: [], removed: [] };
  const real = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const name = key === '' ? '(root package.json)' : key.replace(/^.*node_modules\//, '');
    const a = before[key];
    const b = after[key];
    if (a && !b) {
      if (isOptional(a)) platform.removed.push(name);
      else real.push(`${name}: listed in the lock, no longer required`);
    } else if (!a && b) {
      if (isOptional(b)) platform.added.push(name);
      else real.push(`${name}@${b.version}: required by package.json, missing from the lock`);
    } else if (key === '') {
      const fields = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
      for (const field of fields) {
        if (JSON.stringify(a[field] || {}) !== JSON.stringify(b[field] || {})) {
          real.push(`package.json ${field} differ from the lock's copy`);
        }
      }
    } else if (identity(a) !== identity(b)) {
      real.push(`${name}: ${a.version} in the lock, ${b.version} resolved now`);
    }
  }
  return { platform, real };
}

/** One line for a person: what differed, with a few names. */
function summarise({ platform }) {
  const names = (list) => list.slice(0, 3).join(', ') + (list.length > 3 ? `, … (${list.length} in all)` : '');
  const parts = [];
  if (platform.added.length) {
    parts.push(
      `the registry now serves ${platform.added.length} optional platform package(s) the lock lacks (${names(platform.added)})`,
    );
  }
  if (platform.removed.length) {
    parts.push(
      `the lock lists ${platform.removed.length} optional platform package(s) no longer resolved (${names(platform.removed)})`,
    );
  }
  return parts.join('; ');
}

module.exports = { compareLocks, summarise };

if (require.main === module) {
  // lock-drift.js <committed-lock> <regenerated-lock>: prints the summary line; exits 3 when a real dependency differs.
  const [committedPath, regeneratedPath] = process.argv.slice(2);
  const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
  const drift = compareLocks(read(committedPath), read(regeneratedPath));
  if (drift.real.length) {
    process.stdout.write(drift.real.map((line) => `  ${line}\n`).join(''));
    process.exit(3);
  }
  process.stdout.write(summarise(drift) || 'no difference');
}
