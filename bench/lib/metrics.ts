import type { HistogramBuckets } from './stats';

/** One scrape of a service's /metrics endpoint (Prometheus text format), parsed on demand. */
export class Scrape {
  private constructor(private readonly lines: string[]) {}

  static async of(baseUrl: string): Promise<Scrape> {
    const res = await fetch(`${baseUrl}/metrics`);
    if (res.status !== 200) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
    return new Scrape((await res.text()).split('\n').filter((l) => !l.startsWith('#')));
  }

  /** A counter or gauge, summed over its label sets. */
  value(name: string): number {
    return this.lines
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  /** A histogram in seconds, as cumulative buckets in ms. */
  histogram(name: string): HistogramBuckets {
    const byLe = new Map<number, number>();
    for (const l of this.lines.filter((x) => x.startsWith(`${name}_bucket{`))) {
      const le = /le="([^"]+)"/.exec(l)?.[1] ?? '+Inf';
      const leMs = le === '+Inf' ? Infinity : Number(le) * 1000;
      byLe.set(leMs, (byLe.get(leMs) ?? 0) + Number(l.slice(l.lastIndexOf(' ') + 1)));
    }
    const buckets = [...byLe].map(([leMs, count]) => ({ leMs, count })).sort((a, b) => a.leMs - b.leMs);
    return { buckets, count: this.value(`${name}_count`), sumMs: this.value(`${name}_sum`) * 1000 };
  }
}
