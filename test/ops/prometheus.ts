import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '@event-spine/testing';

const ROOT = resolve(__dirname, '../..');
export const RULES_FILE = resolve(ROOT, 'ops/prometheus/rules/spine.rules.yml');

/**
 * Makes `prometheus` and `promtool` available with the project's own installer (Debian's package, as CI uses it), or
 * fails saying why. Returns the installer's one-line version report.
 */
export function ensurePrometheus(): string {
  try {
    return execFileSync('bash', [resolve(ROOT, 'scripts/lib/ensure-prometheus')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `Prometheus is not available and scripts/lib/ensure-prometheus could not install it:\n${stderr ?? ''}${stdout ?? ''}`,
      { cause: error },
    );
  }
}

/** How the test copy of one shipped alert differs from production: a shorter `for:` and, optionally, a threshold. */
export interface AlertTuning {
  /** Replaces the alert's `for:` duration (the alert must have one). */
  for: string;
  /**
   * Replaces one literal of the alert's `expr` (a comparison with its number, e.g. `> 1000`), which must occur there
   * exactly once, followed by no further digit. Everything else of the expression stays as shipped.
   */
  threshold?: { from: string; to: string };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The test copy of the shipped rules file: production thresholds and `for:` durations would make an alert test take
 * minutes, so for each alert named in `tunings` only its `for:` line and (optionally) one threshold literal of its
 * `expr` are replaced, in the YAML text itself; every other rule, label, annotation and the rest of each expression is
 * the shipped one. Fails when an alert, its `for:` or its threshold is not found exactly once, so a change of the
 * rules file cannot silently make the test test something else.
 */
export function tuneRules(rulesYaml: string, tunings: Record<string, AlertTuning>): string {
  const lines = rulesYaml.split('\n');
  for (const [alert, tuning] of Object.entries(tunings)) {
    const starts = lines.flatMap((line, i) => (new RegExp(`^\\s*- alert: ${alert}\\s*$`).test(line) ? [i] : []));
    if (starts.length !== 1) throw new Error(`alert ${alert}: found ${starts.length} times in the rules, not once`);
    const start = starts[0];
    const indent = lines[start].indexOf('-');
    // The rule's block: up to the next line (not blank, not a comment) indented as deep as its `- alert:` or less.
    let end = start + 1;
    while (end < lines.length) {
      const line = lines[end];
      const depth = line.search(/\S/);
      if (depth !== -1 && !line.trimStart().startsWith('#') && depth <= indent) break;
      end++;
    }
    const forLines: number[] = [];
    for (let i = start + 1; i < end; i++) if (/^\s+for: \S+\s*$/.test(lines[i])) forLines.push(i);
    if (forLines.length !== 1) throw new Error(`alert ${alert}: found ${forLines.length} 'for:' lines, not one`);
    lines[forLines[0]] = lines[forLines[0]].replace(/for: \S+/, `for: ${tuning.for}`);
    if (tuning.threshold) {
      // The expression: its `expr:` line and the lines indented deeper (a block scalar), never the annotations.
      const exprStart = lines.findIndex((line, i) => i > start && i < end && /^\s+expr:/.test(line));
      if (exprStart === -1) throw new Error(`alert ${alert}: no expr`);
      const exprIndent = lines[exprStart].search(/\S/);
      let exprEnd = exprStart + 1;
      while (exprEnd < end && (lines[exprEnd].trim() === '' || lines[exprEnd].search(/\S/) > exprIndent)) exprEnd++;
      const { from, to } = tuning.threshold;
      const literal = new RegExp(`${escape(from)}(?![\\d.])`, 'g');
      const expr = lines.slice(exprStart, exprEnd).join('\n');
      const found = expr.match(literal)?.length ?? 0;
      if (found !== 1)
        throw new Error(`alert ${alert}: threshold '${from}' found ${found} times in its expr, not once`);
      lines.splice(exprStart, exprEnd - exprStart, ...expr.replace(literal, to).split('\n'));
    }
  }
  return lines.join('\n');
}

/** The names of the alerting rules of a rules file, in order. */
export function alertNames(rulesYaml: string): string[] {
  return [...rulesYaml.matchAll(/^\s*- alert: (\S+)\s*$/gm)].map((m) => m[1]);
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus server as a child process: its own config, data directory and port. */
export class PrometheusServer {
  private output = '';
  private readonly exited: Promise<unknown>;

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-50_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', r));
  }

  /** Writes `config` (JSON is YAML) to `dir`/prometheus.yml and starts Prometheus on 127.0.0.1:`port`. */
  static async start(dir: string, port: number, config: unknown): Promise<PrometheusServer> {
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(port, child);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited:\n${server.output}`);
        return (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 30000, intervalMs: 200, message: 'prometheus ready' },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- prometheus output ---\n${server.output}`);
    });
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus /api/v1/${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** The active (pending or firing) alerts. */
  async alerts(): Promise<PromAlert[]> {
    return (await this.api<{ alerts: PromAlert[] }>('alerts')).alerts;
  }

  async query(expr: string): Promise<PromSample[]> {
    const data = await this.api<{ resultType: string; result: PromSample[] }>(
      `query?query=${encodeURIComponent(expr)}`,
    );
    return data.resultType === 'vector' ? data.result : [];
  }

  async alertingRules(): Promise<{ name: string; query: string; duration: number }[]> {
    const data = await this.api<{
      groups: { rules: { type: string; name: string; query: string; duration: number }[] }[];
    }>('rules?type=alert');
    return data.groups.flatMap((g) => g.rules);
  }

  /** Polls until `alertname` is firing (and `match` accepts it); returns it. */
  async waitFiring(
    alertname: string,
    match: (a: PromAlert) => boolean = () => true,
    timeoutMs = 90000,
  ): Promise<PromAlert> {
    return waitFor(
      async () =>
        (await this.alerts()).find((a) => a.labels.alertname === alertname && a.state === 'firing' && match(a)) ??
        false,
      { timeoutMs, intervalMs: 500, message: `alert ${alertname} firing` },
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function readRules(): string {
  return readFileSync(RULES_FILE, 'utf8');
}
