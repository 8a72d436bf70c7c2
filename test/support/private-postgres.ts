import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, chownSync } from 'node:fs';
import { userInfo } from 'node:os';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of the suite's own (the machine's PostgreSQL 15 binaries, a throwaway data directory), so a
 * fault test can restart or crash it without touching the server every other suite uses.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly settings: Record<string, string>,
  ) {}

  static available(): boolean {
    return existsSync(`${BIN}/initdb`) && existsSync(`${BIN}/pg_ctl`);
  }

  /** `settings`: server settings beside the suite's own (`wal_level: 'logical'`, say). */
  static start(port: number, settings: Record<string, string> = {}): PrivatePostgres {
    const dir = `/tmp/spine-pg-${port}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const pg = new PrivatePostgres(port, dir, settings);
    if (userInfo().uid === 0) chownSync(dir, postgresUid(), postgresUid());
    pg.run('initdb', ['-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pg.up();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  up(): void {
    this.run('pg_ctl', [
      '-D',
      `${this.dir}/data`,
      '-o',
      [
        `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        ...Object.entries(this.settings).map(([k, v]) => `-c ${k}=${v}`),
      ].join(' '),
      '-l',
      `${this.dir}/log`,
      '-w',
      'start',
    ]);
  }

  /** `immediate` is a crash as far as clients and recovery are concerned; `fast` is an orderly restart. */
  down(mode: 'fast' | 'immediate' = 'immediate'): void {
    this.run('pg_ctl', ['-D', `${this.dir}/data`, '-m', mode, '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.down('immediate');
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
