import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { databaseUrl } from './deployment';
import { cpuCount } from './proc';

const ROOT = resolve(__dirname, '../..');

function kafkaVersion(): string {
  try {
    const jar = readdirSync(resolve(ROOT, '.local/kafka/libs')).find((f) => /^kafka_[\d.]+-[\d.]+\.jar$/.test(f));
    return jar ? jar.replace(/^kafka_[\d.]+-/, '').replace(/\.jar$/, '') : 'unknown';
  } catch {
    return 'unknown (not the scripts/infra broker)';
  }
}

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** The pid of the scripts/infra Kafka broker (shared with whoever else uses it), if it runs from this checkout. */
export function kafkaBrokerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(resolve(ROOT, '.local/kafka/kafka.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The code under test: the commit, plus the files of apps/ and libs/ that differ from it (the working tree is shared
 * with other engineers). Taken at the start and at the end of a run: if they differ, the services of one run may
 * have run different code, and the report says so.
 */
export interface CodeVersion {
  commit: string;
  /** Git tree ids of apps/, libs/ and the lock file at that commit: what the services run, whatever else changed. */
  trees: string;
  dirty: string[];
  /** Hash of the dirty files' contents, so edits to an already-dirty file are noticed too. */
  dirtyHash: string;
}

export function codeVersion(): CodeVersion {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs', 'package.json', 'package-lock.json')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    const hash = createHash('sha256');
    for (const f of dirty) {
      try {
        hash.update(f).update(readFileSync(resolve(ROOT, f)));
      } catch {
        hash.update(`${f} (gone)`);
      }
    }
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      trees: git('rev-parse', 'HEAD:apps', 'HEAD:libs', 'HEAD:package-lock.json')
        .split('\n')
        .map((t) => t.slice(0, 12))
        .join(' '),
      dirty,
      dirtyHash: hash.digest('hex').slice(0, 12),
    };
  } catch {
    return { commit: 'unknown (not a git checkout)', trees: '', dirty: [], dirtyHash: '' };
  }
}

/** The same service code: commits that touch only docs, tests or the bench do not count as a change. */
export const sameCode = (a: CodeVersion, b: CodeVersion) => a.trees === b.trees && a.dirtyHash === b.dirtyHash;

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  kafka: string;
  kafkajs: string;
  loadAverageAtStart: number[];
}

export async function machineInfo(): Promise<MachineInfo> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`SHOW server_version`);
    const settings: Record<string, string> = {};
    for (const name of ['synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level', 'fsync']) {
      const { rows: r } = await client.query<Record<string, string>>(`SHOW ${name}`);
      settings[name] = Object.values(r[0] ?? {})[0] ?? '';
    }
    return {
      cores: cpuCount(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      postgres: rows[0]?.v ?? 'unknown',
      postgresSettings: settings,
      kafka: kafkaVersion(),
      kafkajs: packageVersion('kafkajs'),
      loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    };
  } finally {
    await client.end();
  }
}
