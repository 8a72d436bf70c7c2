import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * A PostgreSQL 15 cluster of the scenario's own (the machine's binaries, a throwaway data directory under .local),
 * as test/support/private-postgres.ts runs one, with the settings logical decoding needs (`wal_level=logical`):
 * Debezium reads a replication slot, which the shared development server is not set up for, and which a benchmark
 * should not leave on a shared server anyway. Durability settings are the server's defaults (fsync on): the relay
 * and Debezium read the same server, so they pay the same for it.
 */
export class PrivateCluster {
  private stopped = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static available(): boolean {
    return existsSync(`${BIN}/initdb`) && existsSync(`${BIN}/pg_ctl`);
  }

  static async start(name: string, settings: Record<string, string> = {}): Promise<PrivateCluster> {
    if (!PrivateCluster.available()) throw new Error(`PostgreSQL 15 binaries not found in ${BIN}`);
    const port = await freePort();
    const dir = resolve(__dirname, '../../.local', `${name}-pg-${port}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const pg = new PrivateCluster(port, dir);
    if (userInfo().uid === 0) chownSync(dir, postgresUid(), postgresUid());
    pg.run('initdb', ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const options = {
      listen_addresses: '127.0.0.1',
      max_connections: '100',
      wal_level: 'logical',
      max_wal_senders: '4',
      max_replication_slots: '4',
      ...settings,
    };
    const flags = Object.entries(options)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' ');
    pg.run('pg_ctl', ['-D', `${dir}/data`, '-o', `-p ${port} -k ${dir} ${flags}`, '-l', `${dir}/log`, '-w', 'start']);
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** The postmaster's pid (its backends are its children). */
  get pid(): number {
    return Number(readFileSync(`${this.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  }

  /** Stops the server at once (nothing in it is worth a checkpoint) and deletes its data directory. */
  destroy(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.run('pg_ctl', ['-D', `${this.dir}/data`, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    // initdb and the server refuse to run as root: as root, run them as the postgres user.
    const [cmd, argv] =
      userInfo().uid === 0
        ? ['runuser', ['-u', 'postgres', '--', `${BIN}/${tool}`, ...args]]
        : [`${BIN}/${tool}`, args];
    execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
}
