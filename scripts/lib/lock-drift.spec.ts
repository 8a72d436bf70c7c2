import { compareLocks, summarise, type LockFile } from './lock-drift';

const root = { name: 'app', dependencies: { a: '^1.0.0' }, devDependencies: { swc: '^1.0.0' } };
const base: LockFile = {
  packages: {
    '': root,
    'node_modules/a': { version: '1.0.0', resolved: 'https://r/a-1.0.0.tgz', integrity: 'sha512-a' },
    'node_modules/swc': { version: '1.0.0', optionalDependencies: { 'swc-darwin': '1.0.0', 'swc-linux': '1.0.0' } },
    'node_modules/swc-linux': { version: '1.0.0', optional: true, os: ['linux'] },
  },
};
const withPackages = (packages: Record<string, Record<string, unknown>>): LockFile => ({
  packages: { ...base.packages, ...packages },
});

describe('compareLocks', () => {
  it('calls optional platform entries the registry now serves harmless', () => {
    const drift = compareLocks(base, withPackages({ 'node_modules/swc-darwin': { version: '1.0.0', optional: true } }));
    expect(drift).toEqual({ platform: { added: ['swc-darwin'], removed: [] }, real: [] });
    expect(summarise(drift)).toBe('the registry now serves 1 optional platform package(s) the lock lacks (swc-darwin)');
  });

  it('calls optional entries the registry no longer serves harmless', () => {
    const { 'node_modules/swc-linux': _gone, ...rest } = base.packages!;
    const drift = compareLocks(base, { packages: rest });
    expect(drift).toEqual({ platform: { added: [], removed: ['swc-linux'] }, real: [] });
    expect(summarise(drift)).toMatch(/lists 1 optional platform package\(s\) no longer resolved \(swc-linux\)/);
  });

  it('reports a dependency package.json asks for that the lock lacks', () => {
    const drift = compareLocks(base, withPackages({ 'node_modules/b': { version: '2.1.0' } }));
    expect(drift.real).toEqual(['b@2.1.0: required by package.json, missing from the lock']);
  });

  it('reports a locked dependency resolved to another version', () => {
    const drift = compareLocks(
      base,
      withPackages({ 'node_modules/a': { version: '1.2.0', resolved: 'x', integrity: 'y' } }),
    );
    expect(drift.real).toEqual(['a: 1.0.0 in the lock, 1.2.0 resolved now']);
  });

  it('reports a package.json whose dependencies differ from the lock copy', () => {
    const drift = compareLocks(base, withPackages({ '': { ...root, dependencies: { a: '^1.0.0', c: '^3.0.0' } } }));
    expect(drift.real).toEqual(["package.json dependencies differ from the lock's copy"]);
  });

  it('finds nothing between identical locks', () => {
    expect(compareLocks(base, base)).toEqual({ platform: { added: [], removed: [] }, real: [] });
  });

  it('names at most three packages in its one line', () => {
    const added = Object.fromEntries(
      ['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => [`node_modules/${n}`, { optional: true }]),
    );
    expect(summarise(compareLocks(base, withPackages(added)))).toMatch(/\(p1, p2, p3, … \(5 in all\)\)$/);
  });
});
