/**
 * Typed configuration from environment variables, declared as data. Every service lists the variables it reads;
 * `loadConfig` parses all of them and reports every problem at once, naming each variable, so a service never
 * starts half-configured.
 */

export interface VariableSpec<T> {
  readonly description: string;
  /** Returns the parsed value or a string describing what is wrong. `raw` is undefined when unset. */
  parse(raw: string | undefined): { ok: true; value: T } | { ok: false; problem: string };
  readonly defaultText?: string;
  readonly secret?: boolean;
}

export type ConfigSchema = Record<string, VariableSpec<unknown>>;
export type ConfigOf<S extends ConfigSchema> = {
  readonly [K in keyof S]: S[K] extends VariableSpec<infer T> ? T : never;
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ok = <T>(value: T) => ({ ok: true as const, value });
const bad = (problem: string) => ({ ok: false as const, problem });

function withDefault<T>(
  description: string,
  fallback: T | undefined,
  parseSet: (raw: string) => ReturnType<VariableSpec<T>['parse']>,
  extra: Partial<Pick<VariableSpec<T>, 'secret'>> = {},
): VariableSpec<T> {
  return {
    description,
    defaultText: fallback === undefined ? undefined : String(fallback),
    ...extra,
    parse(raw) {
      if (raw === undefined || raw === '') return fallback === undefined ? bad('is required') : ok(fallback);
      return parseSet(raw);
    },
  };
}

export function str(
  description: string,
  opts: { default?: string; minLength?: number; pattern?: RegExp; secret?: boolean } = {},
): VariableSpec<string> {
  return withDefault(
    description,
    opts.default,
    (raw) => {
      if (opts.minLength !== undefined && raw.length < opts.minLength)
        return bad(`must be at least ${opts.minLength} characters long`);
      if (opts.pattern && !opts.pattern.test(raw)) return bad(`must match ${String(opts.pattern)}`);
      return ok(raw);
    },
    { secret: opts.secret },
  );
}

export function int(
  description: string,
  opts: { default?: number; min?: number; max?: number } = {},
): VariableSpec<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return withDefault(description, opts.default, (raw) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      return bad(`must be an integer between ${min} and ${max}, got "${raw}"`);
    return ok(n);
  });
}

export function port(description: string, fallback?: number): VariableSpec<number> {
  return int(description, { default: fallback, min: 0, max: 65535 });
}

export function bool(description: string, fallback?: boolean): VariableSpec<boolean> {
  return withDefault(description, fallback, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return ok(true);
    if (['0', 'false', 'no', 'off'].includes(v)) return ok(false);
    return bad(`must be true or false, got "${raw}"`);
  });
}

export function oneOf<const T extends string>(
  description: string,
  values: readonly T[],
  fallback?: T,
): VariableSpec<T> {
  return withDefault(description, fallback, (raw) =>
    (values as readonly string[]).includes(raw)
      ? ok(raw as T)
      : bad(`must be one of ${values.join(', ')}, got "${raw}"`),
  );
}

export function url(
  description: string,
  opts: { default?: string; protocols: readonly string[] },
): VariableSpec<string> {
  return withDefault(description, opts.default, (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return bad(`must be a URL (${opts.protocols.map((p) => `${p}://…`).join(' or ')})`);
    }
    const protocol = parsed.protocol.replace(/:$/, '');
    if (!opts.protocols.includes(protocol)) return bad(`must use ${opts.protocols.join(' or ')}, got ${protocol}`);
    return ok(raw);
  });
}

/** A comma-separated list of `host:port` pairs, as Kafka clients take them. */
export function hostPorts(description: string, fallback?: string): VariableSpec<string[]> {
  return withDefault(description, fallback === undefined ? undefined : fallback.split(','), (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const wrong = items.filter((s) => !/^[A-Za-z0-9.\-_]+:\d{1,5}$/.test(s));
    if (items.length === 0 || wrong.length > 0)
      return bad(
        `must be a comma-separated list of host:port, got "${raw}"${wrong.length ? ` (bad: ${wrong.join(', ')})` : ''}`,
      );
    return ok(items);
  });
}

export function loadConfig<S extends ConfigSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const result = spec.parse(env[name]);
    if (result.ok) out[name] = result.value;
    else problems.push(`${name} ${result.problem} (${spec.description})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/** A Markdown table of the variables, so the README's configuration reference is generated from the code. */
export function describeConfig(schema: ConfigSchema): string {
  const rows = Object.entries(schema).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.defaultText === undefined ? '**required**' : spec.secret ? '(none)' : spec.defaultText === '' ? '(empty)' : `\`${spec.defaultText}\``} | ${spec.description} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
