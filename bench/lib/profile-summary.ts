import { readFileSync } from 'node:fs';

/** Where a service's CPU went, from a V8 .cpuprofile: self time by package/file and by function. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  /** Share of samples in which the process ran (not idle). */
  busyShare: number;
  topSelf: { where: string; share: number }[];
  topFunctions: { fn: string; share: number }[];
}

function where(url: string, fn: string): string {
  if (!url) return `(${fn || 'native'})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return url.replace(/^file:\/\//, '').replace(/^.*\/(apps|libs)\//, '$1/');
}

/** Summarises the last `windowMs` of a profile (the measured part, not start-up). */
export function summarizeProfile(file: string, windowMs = Infinity, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const times: number[] = [];
  let t = 0;
  for (const d of p.timeDeltas) times.push((t += d));
  const from = (times.at(-1) ?? 0) - windowMs * 1000;
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    if (times[i] >= from) self.set(id, (self.get(id) ?? 0) + p.timeDeltas[i]);
  });
  const total = [...self.values()].reduce((s, x) => s + x, 0) || 1;
  const byWhere = new Map<string, number>();
  const byFn = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const cf = nodes.get(id)?.callFrame;
    if (!cf) continue;
    if (cf.functionName === '(idle)') idle += us;
    const w = where(cf.url, cf.functionName);
    byWhere.set(w, (byWhere.get(w) ?? 0) + us);
    const fn = `${cf.functionName || '(anonymous)'} ${w}${cf.lineNumber >= 0 ? `:${cf.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ k, share: Number((us / total).toFixed(3)) }));
  return {
    file,
    sampledMs: Math.round(total / 1000),
    busyShare: Number((1 - idle / total).toFixed(3)),
    topSelf: ranked(byWhere).map(({ k, share }) => ({ where: k, share })),
    topFunctions: ranked(byFn).map(({ k, share }) => ({ fn: k, share })),
  };
}
