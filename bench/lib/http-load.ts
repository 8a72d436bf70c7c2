import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SelfCpu } from './proc';

/**
 * The load generator: plain node:http over keep-alive connections to 127.0.0.1, a bounded number of them, one
 * request in flight per connection. node:http rather than fetch: it costs the bench process less CPU per request,
 * and on a 2-core machine every cycle the client spends is taken from the system under test (the report shows
 * how much the client used).
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly bearer: string,
    connections: number,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method: 'POST',
          path,
          headers: {
            authorization: `Bearer ${this.bearer}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One command of the benchmark: open an account, with an Idempotency-Key as a careful client sends it. */
export interface CommandResult {
  accountId: string;
  ok: boolean;
  status: number;
  /** performance.now() when the request was sent and when its response had arrived. */
  sentAt: number;
  doneAt: number;
}

export async function openAccount(client: HttpClient, accountId = randomUUID()): Promise<CommandResult> {
  const sentAt = performance.now();
  try {
    const res = await client.post(
      '/v1/accounts',
      { accountId, ownerName: 'Bench Owner', currency: 'EUR' },
      { 'idempotency-key': `open-${accountId}` },
    );
    return { accountId, ok: res.status === 201, status: res.status, sentAt, doneAt: performance.now() };
  } catch {
    return { accountId, ok: false, status: 0, sentAt, doneAt: performance.now() };
  }
}

export interface LoadOutcome {
  results: CommandResult[];
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  wallMs: number;
  /** Successful commands per second over the window. */
  rate: number;
  /** Cores the bench process (the client) used meanwhile. */
  clientCores: number;
}

function outcome(results: CommandResult[], wallMs: number, clientCores: number): LoadOutcome {
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const ok = results.filter((r) => r.ok).length;
  return { results, ok, failed: results.length - ok, statuses, wallMs, rate: ok / (wallMs / 1000), clientCores };
}

/**
 * A deposit of 1 cent into one of `accounts`, in turn: a command with no personal data, sent with an Idempotency-Key
 * as `openAccount` is, so the two differ by the command, not by the idempotency statements.
 */
export function depositInto(accounts: readonly string[]): (client: HttpClient) => Promise<CommandResult> {
  let next = 0;
  return async (client) => {
    const accountId = accounts[next++ % accounts.length];
    const sentAt = performance.now();
    try {
      const res = await client.post(
        `/v1/accounts/${accountId}/deposits`,
        { amount: 1 },
        { 'idempotency-key': `deposit-${randomUUID()}` },
      );
      const ok = res.status >= 200 && res.status < 300;
      return { accountId, ok, status: res.status, sentAt, doneAt: performance.now() };
    } catch {
      return { accountId, ok: false, status: 0, sentAt, doneAt: performance.now() };
    }
  };
}

/** Closed loop: `concurrency` workers, each sending its next command (an account opening unless `send` says) as soon as the last one answered. */
export async function closedLoop(
  client: HttpClient,
  concurrency: number,
  durationMs: number,
  onResult: (r: CommandResult) => void = () => undefined,
  send: (client: HttpClient) => Promise<CommandResult> = openAccount,
): Promise<LoadOutcome> {
  const results: CommandResult[] = [];
  const cpu = new SelfCpu();
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const r = await send(client);
      results.push(r);
      onResult(r);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Only what completed inside the window counts, so a slow tail cannot stretch the denominator.
  return outcome(
    results.filter((r) => r.doneAt <= end),
    durationMs,
    cpu.cores(),
  );
}

/**
 * Open loop: commands start on a fixed schedule (rate per second) whether or not earlier ones answered, as
 * independent clients would; latency measured this way does not hide queueing (no coordinated omission), up to
 * `maxInFlight` outstanding requests.
 */
export async function openLoop(
  client: HttpClient,
  ratePerSecond: number,
  durationMs: number,
  maxInFlight: number,
  onResult: (r: CommandResult) => void = () => undefined,
): Promise<LoadOutcome & { skipped: number }> {
  const results: CommandResult[] = [];
  const pending = new Set<Promise<void>>();
  const cpu = new SelfCpu();
  const start = performance.now();
  let sent = 0;
  let skipped = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed / 1000) * ratePerSecond);
    while (sent < due) {
      sent++;
      if (pending.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const p: Promise<void> = openAccount(client).then((r) => {
        results.push(r);
        onResult(r);
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return { ...outcome(results, performance.now() - start, cpu.cores()), skipped };
}
