import { randomUUID } from 'node:crypto';

type Op =
  | { kind: 'deposit'; account: string; amount: number }
  | { kind: 'withdrawal'; account: string; amount: number }
  | { kind: 'transfer'; from: string; to: string; amount: number };

/**
 * A steady stream of concurrent commands, sent the way a careful client does: every command has its own
 * Idempotency-Key and is retried with the same key until it gets a definite answer (2xx or a 4xx refusal), so a
 * command lost in a crash is neither lost nor applied twice. It keeps what each account's balance must be from the
 * acknowledged commands alone: the read models and the event log must agree with it.
 */
export class CommandLoad {
  readonly expected = new Map<string, number>();
  sent = 0;
  acknowledged = 0;
  refused = 0;
  retries = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: () => string,
    private readonly bearer: string,
  ) {}

  get accounts(): string[] {
    return [...this.expected.keys()];
  }

  async openAccounts(n: number): Promise<void> {
    for (const id of await this.openAccountsOutsideTheLoad(n, 'Load')) this.expected.set(id, 0);
  }

  /** Accounts the load leaves alone (a scenario's own), opened through the same careful client. */
  async openAccountsOutsideTheLoad(n: number, owner = 'Aside'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await this.send('POST', '/v1/accounts', { ownerName: `${owner} ${i}`, currency: 'EUR' });
      if (res.status !== 201) throw new Error(`opening an account: ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.accountId as string);
    }
    return ids;
  }

  start(concurrency = 3, pauseMs = 5): void {
    this.running = true;
    for (let i = 0; i < concurrency; i++) {
      this.loops.push(
        (async () => {
          while (this.running) {
            await this.one(this.pick());
            await new Promise((resolve) => setTimeout(resolve, pauseMs));
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private pick(): Op {
    const accounts = this.accounts;
    const any = () => accounts[Math.floor(Math.random() * accounts.length)];
    const amount = 1 + Math.floor(Math.random() * 50);
    const r = Math.random();
    if (r < 0.6) return { kind: 'deposit', account: any(), amount };
    if (r < 0.85) return { kind: 'withdrawal', account: any(), amount };
    const from = any();
    const to = accounts.find((a) => a !== from) ?? from;
    return { kind: 'transfer', from, to, amount };
  }

  private async one(op: Op): Promise<void> {
    const [path, body] =
      op.kind === 'transfer'
        ? ['/v1/transfers', { fromAccountId: op.from, toAccountId: op.to, amount: op.amount }]
        : [`/v1/accounts/${op.account}/${op.kind === 'deposit' ? 'deposits' : 'withdrawals'}`, { amount: op.amount }];
    const res = await this.send('POST', path, body);
    if (res.status === 201) {
      this.acknowledged++;
      const add = (account: string, delta: number) => this.expected.set(account, this.expected.get(account)! + delta);
      if (op.kind === 'deposit') add(op.account, op.amount);
      else if (op.kind === 'withdrawal') add(op.account, -op.amount);
      else {
        add(op.from, -op.amount);
        add(op.to, op.amount);
      }
    } else if (res.status === 422 || res.status === 409) {
      this.refused++;
    } else {
      throw new Error(`unexpected answer ${res.status} ${JSON.stringify(res.body)} to ${path}`);
    }
  }

  /** Retries with the same Idempotency-Key until the answer is definite; gives up after two minutes. */
  private async send(method: 'POST', path: string, body: unknown) {
    const key = randomUUID();
    const deadline = Date.now() + 120_000;
    this.sent++;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.retries++;
      try {
        const res = await fetch(`${this.url()}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.bearer}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status < 500)
          return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
      } catch {
        // Connection refused or reset (the service was killed), or a timeout: the outcome is unknown; retry.
      }
      if (Date.now() > deadline) throw new Error(`no definite answer to ${method} ${path} within 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
