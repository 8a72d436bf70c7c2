/** Latency summaries: exact percentiles of samples, and estimates from Prometheus histograms. */

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/** Points of an empirical CDF, thinned to at most `points` for a chart. */
export function cdf(samples: readonly number[], points = 200): { x: number; y: number }[] {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const step = Math.max(1, Math.floor(sorted.length / points));
  const out: { x: number; y: number }[] = [];
  for (let i = step - 1; i < sorted.length; i += step) out.push({ x: sorted[i], y: (i + 1) / sorted.length });
  if (out.at(-1)?.y !== 1) out.push({ x: sorted[sorted.length - 1], y: 1 });
  return out;
}

/** Cumulative histogram buckets (upper bound in ms, count of observations at or below it). */
export interface HistogramBuckets {
  buckets: { leMs: number; count: number }[];
  count: number;
  sumMs: number;
}

/** The difference of two scrapes of one histogram: what was observed between them. */
export function histogramDelta(after: HistogramBuckets, before: HistogramBuckets | undefined): HistogramBuckets {
  if (!before) return after;
  return {
    buckets: after.buckets.map((b) => ({
      leMs: b.leMs,
      count: b.count - (before.buckets.find((x) => x.leMs === b.leMs)?.count ?? 0),
    })),
    count: after.count - before.count,
    sumMs: after.sumMs - before.sumMs,
  };
}

/** CDF points at the bucket bounds of a histogram, up to the first bound that holds every observation. */
export function histogramCdf(h: HistogramBuckets): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  for (const b of h.buckets) {
    if (!Number.isFinite(b.leMs) || h.count === 0) break;
    out.push({ x: b.leMs, y: b.count / h.count });
    if (b.count >= h.count) break;
  }
  return out;
}

/** Share of observations at or below `ms` (exact when `ms` is a bucket bound, which the targets are). */
export function shareAtOrBelow(h: HistogramBuckets, ms: number): number {
  const bucket = h.buckets.find((b) => Math.abs(b.leMs - ms) < 1e-9);
  if (bucket) return h.count ? bucket.count / h.count : NaN;
  return NaN;
}

/**
 * A percentile estimated from histogram buckets by linear interpolation within the bucket it falls into (what
 * Prometheus' histogram_quantile does). Only as good as the bucket bounds: report it as an estimate.
 */
export function histogramPercentile(h: HistogramBuckets, p: number): number {
  if (h.count === 0) return NaN;
  const target = (p / 100) * h.count;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= target) {
      if (!Number.isFinite(b.leMs)) return lowerLe;
      const inBucket = b.count - lowerCount;
      return inBucket === 0 ? b.leMs : lowerLe + ((target - lowerCount) / inBucket) * (b.leMs - lowerLe);
    }
    lowerLe = b.leMs;
    lowerCount = b.count;
  }
  return NaN;
}

export function histogramSummary(h: HistogramBuckets) {
  return {
    count: h.count,
    meanMs: h.count ? h.sumMs / h.count : NaN,
    p50EstMs: histogramPercentile(h, 50),
    p90EstMs: histogramPercentile(h, 90),
    p99EstMs: histogramPercentile(h, 99),
  };
}

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
