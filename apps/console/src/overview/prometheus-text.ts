/** One sample of the Prometheus text format: name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key] = value.replace(/\\(.)/g, '$1');
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

export function sum(samples: Sample[], name: string): number | undefined {
  const found = samples.filter((s) => s.name === name);
  return found.length === 0 ? undefined : found.reduce((total, s) => total + s.value, 0);
}

export function max(samples: Sample[], name: string): number | undefined {
  const found = samples.filter((s) => s.name === name);
  return found.length === 0 ? undefined : Math.max(...found.map((s) => s.value));
}

/** A histogram's cumulative bucket counts by upper bound (summed over its other labels), ascending. */
export type Buckets = [le: number, count: number][];

export function histogram(samples: Sample[], name: string): Buckets {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].sort((a, b) => a[0] - b[0]);
}

/** What was observed between two scrapes of one histogram (counters that went down mean a restart: take `later`). */
export function bucketDelta(earlier: Buckets, later: Buckets): Buckets {
  const before = new Map(earlier);
  const delta = later.map(([le, count]): [number, number] => [le, count - (before.get(le) ?? 0)]);
  return delta.some(([, c]) => c < 0) ? later : delta;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does; undefined when nothing was observed. A quantile in the +Inf bucket is the largest finite bound.
 */
export function quantile(q: number, buckets: Buckets): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}
