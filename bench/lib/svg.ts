import type { CdfSeries } from './results';

/**
 * A hand-built SVG latency chart (no dependency): latency by percentile, HDR-histogram style. The x axis spreads the
 * tail (0 %, 50 %, 90 %, 99 %, 99.9 % are equally spaced decades of 1 - q), the y axis is logarithmic in ms, so a
 * 2 ms median and a 100 ms tail are both readable. Targets are drawn as crosses in their series' colour.
 */
const W = 760;
const H = 440;
const M = { left: 64, right: 24, top: 72, bottom: 52 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const MAX_NINES = 3; // up to 99.9 %

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const nines = (q: number) => Math.min(MAX_NINES, -Math.log10(Math.max(1 - q, 10 ** -MAX_NINES)));

export function latencyChart(series: CdfSeries[], title: string): string {
  const all = series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0 && Number.isFinite(x));
  const targets = series.flatMap((s) => s.targets ?? []).map((t) => t.ms);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...all))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(10, ...all, ...targets)));
  const px = (q: number) => M.left + (nines(q) / MAX_NINES) * (W - M.left - M.right);
  const py = (ms: number) =>
    H -
    M.bottom -
    ((Math.log10(Math.max(ms, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) *
      (H - M.top - M.bottom);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  // Grid and axes.
  for (const [q, label] of [
    [0, '0%'],
    [0.5, '50%'],
    [0.9, '90%'],
    [0.99, '99%'],
    [0.999, '99.9%'],
  ] as const) {
    out.push(
      `<line x1="${px(q)}" y1="${M.top}" x2="${px(q)}" y2="${H - M.bottom}" stroke="#ddd"/>`,
      `<text x="${px(q)}" y="${H - M.bottom + 16}" text-anchor="middle">${label}</text>`,
    );
  }
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const ms = decade * m;
      if (ms > yMax) break;
      out.push(
        `<line x1="${M.left}" y1="${py(ms)}" x2="${W - M.right}" y2="${py(ms)}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`,
      );
      out.push(`<text x="${M.left - 6}" y="${py(ms) + 4}" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(1)}</text>`);
    }
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`,
    `<text x="${(W + M.left) / 2}" y="${H - 12}" text-anchor="middle">percentile</text>`,
    `<text x="16" y="${(H + M.top - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(H + M.top - M.bottom) / 2})">latency (ms, log scale)</text>`,
  );
  // Series, then their targets on top (a label on a white box, so no curve runs through it).
  const labels: { ms: number; q: number; color: string }[] = [];
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.x) && p.x > 0 && p.y <= 1);
    if (pts.length > 0) {
      const d = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${px(p.y).toFixed(1)},${py(p.x).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const t of s.targets ?? []) labels.push({ ...t, color });
    const ly = 38 + i * 15;
    out.push(
      `<line x1="${M.left}" y1="${ly - 4}" x2="${M.left + 24}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${M.left + 30}" y="${ly}">${esc(s.name)}${pts.length === 0 ? ' (no data)' : ''}</text>`,
    );
  });
  for (const t of labels) {
    const [x, y] = [px(t.q), py(t.ms)];
    const text = `target p${t.q * 100} ≤ ${t.ms} ms`;
    out.push(
      `<path d="M${x - 6},${y - 6} L${x + 6},${y + 6} M${x - 6},${y + 6} L${x + 6},${y - 6}" stroke="${t.color}" stroke-width="2.5"/>`,
      `<rect x="${x + 7}" y="${y - 18}" width="${text.length * 6.6}" height="15" fill="white" fill-opacity="0.85"/>`,
      `<text x="${x + 9}" y="${y - 6}" fill="${t.color}">${esc(text)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
