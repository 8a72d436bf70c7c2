import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// scripts/lib/ensure-deps against the real npm registry, in copies of the project: a lock that lacks an optional
// platform binary the registry serves installs and says so in one line; a lock that lacks a real dependency fails,
// names it, and installs nothing.
const ROOT = join(__dirname, '..');
jest.setTimeout(300_000);

function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spine-deps-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter((file) => file && existsSync(join(ROOT, file)));
  for (const file of files) cpSync(join(ROOT, file), join(dir, file), { recursive: true });
  return dir;
}

function editLock(dir: string, edit: (packages: Record<string, unknown>) => void): string {
  const file = join(dir, 'package-lock.json');
  const lock = JSON.parse(readFileSync(file, 'utf8'));
  edit(lock.packages);
  const text = JSON.stringify(lock, null, 2) + '\n';
  writeFileSync(file, text);
  return text;
}

function ensureDeps(dir: string) {
  return spawnSync('bash', [join(dir, 'scripts/lib/ensure-deps')], { cwd: dir, encoding: 'utf8' });
}

describe('ensure-deps', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('installs when the lock lacks an optional platform binary the registry serves, and says so in one line', () => {
    const dir = copyProject();
    dirs.push(dir);
    const optional = Object.keys(JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')).packages).find(
      (key) => key.startsWith('node_modules/@swc/core-darwin-'),
    )!;
    expect(optional).toBeDefined();
    const committed = editLock(dir, (packages) => delete packages[optional]);

    const run = ensureDeps(dir);

    expect(run.status).toBe(0);
    const drift = run.stderr.split('\n').filter((line) => line.includes('drift'));
    expect(drift).toHaveLength(1);
    expect(drift[0]).toContain(
      `serves 1 optional platform package(s) the lock lacks (${optional.replace('node_modules/', '')})`,
    );
    expect(existsSync(join(dir, 'node_modules/.bin/jest'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@nestjs/core/package.json'))).toBe(true);
    // The committed lock is left as it was; the stamp means the next command does not install again.
    expect(readFileSync(join(dir, 'package-lock.json'), 'utf8')).toBe(committed);
    const again = ensureDeps(dir);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
  });

  it('fails and names the dependency when the lock lacks one package.json requires', () => {
    const dir = copyProject();
    dirs.push(dir);
    const committed = editLock(dir, (packages) => delete packages['node_modules/cli-progress']);

    const run = ensureDeps(dir);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('package.json and package-lock.json disagree on real dependencies');
    expect(run.stderr).toMatch(/cli-progress@[\d.]+: required by package.json, missing from the lock/);
    expect(run.stderr).toContain("run 'npm install'");
    expect(existsSync(join(dir, 'node_modules/.spine-lock.sha256'))).toBe(false);
    expect(readFileSync(join(dir, 'package-lock.json'), 'utf8')).toBe(committed);
  });
});
