import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from './wait';

const ROOT = resolve(__dirname, '../../..');

export type AppName = 'command-service' | 'outbox-relay' | 'projector';
/** A ledger service by name, or any service by its entry file relative to the repository (`examples/x/src/main.ts`). */
export type ServiceEntry = AppName | `${string}/main.ts`;

const entryFile = (app: ServiceEntry) => resolve(ROOT, app.endsWith('main.ts') ? app : `apps/${app}/src/main.ts`);

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** One of the services running as a real OS process, as in production: killable with any signal. */
export class ServiceProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: ServiceEntry,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  static async start(app: ServiceEntry, env: Record<string, string>): Promise<ServiceProcess> {
    const port = Number(env.HTTP_PORT ?? (await freePort()));
    // Several command services run side by side in the suites: none may take the default gRPC port.
    const grpc = app === 'command-service' && !env.GRPC_PORT ? { GRPC_PORT: String(await freePort()) } : {};
    const child = spawn(process.execPath, ['-r', '@swc-node/register', entryFile(app)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...grpc, ...env, HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(app, port, child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for /health/ready to answer 200; fails with the process output if it exits first. */
  async waitReady(timeoutMs = 60000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`${this.app} exited before it was ready:\n${this.output.slice(-4000)}`);
        const res = await fetch(`${this.url}/health/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 200, message: `${this.app} ready` },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- ${this.app} output ---\n${this.output.slice(-4000)}`);
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000) {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
