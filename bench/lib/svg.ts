/** Small SVG charts written by the bench itself (no plotting dependency). */

/** One contender's colour, the same in every plot. */
export function colour(label: string): string {
  // clash-ts on the bench's own Node keeps its colour; the other runtimes get their own
  if (label === 'clash-ts' || label.startsWith(`clash-ts (node ${process.versions.node.split('.')[0]}.`)) return '#1f77b4';
  if (label.startsWith('clash-ts (bun')) return '#9467bd';
  if (label.startsWith('clash-ts (node')) return '#17becf';
  if (label === 'v2ray-go') return '#ff7f0e';
  if (label === 'no proxy') return '#7f7f7f';
  // the warm-pool step plot's lines
  if (label === 'warm + handshaking') return '#1f77b4';
  if (label === 'target') return '#d62728';
  if (label === 'arrivals/s / 10') return '#7f7f7f';
  // the soak's time series (bench/soak/report.ts): one colour per line of a plot
  const soak = SOAK_COLOURS[label];
  if (soak) return soak;
  return '#2ca02c';
}

const SOAK_COLOURS: Record<string, string> = {
  RSS: '#1f77b4', 'heap used': '#ff7f0e', 'heap total': '#2ca02c', external: '#9467bd',
  fds: '#1f77b4', handles: '#ff7f0e',
  tracker: '#1f77b4', 'tunnels (load)': '#ff7f0e',
  'loop p50': '#2ca02c', 'loop p99': '#1f77b4', 'loop max': '#d62728', 'GC max pause': '#9467bd',
  'connect p50': '#2ca02c', 'connect p99': '#1f77b4', 'connect p99.9': '#d62728', 'tunnel rtt p99': '#9467bd',
  'pool hits': '#2ca02c', 'pool misses': '#d62728', 'pool wasted': '#7f7f7f', 'pool size': '#1f77b4',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k`;
  if (Math.abs(v) >= 10) return v.toFixed(0);
  return v.toFixed(v >= 1 ? 1 : 2);
}

/** A group of bars: one per contender. */
export interface BarGroup {
  readonly label: string;
  readonly bars: readonly { readonly label: string; readonly value: number }[];
}

/** Grouped vertical bars (rows as groups, contenders as bars), values printed on top. */
export function barChart(title: string, unit: string, groups: readonly BarGroup[]): string {
  const barW = 26;
  const gap = 22;
  const left = 60;
  const top = 40;
  const h = 220;
  // wide enough for its label too (about 6 px per character at font-size 10)
  const groupW = (g: BarGroup): number => Math.max(Math.max(1, g.bars.length) * barW, g.label.length * 6) + gap;
  const labels0 = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const width = Math.max(420, left + groups.reduce((a, g) => a + groupW(g), 0) + 20, left + labels0.length * 110 + 20);
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))));
  const labels = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = top + h - (h * i) / 4;
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${fmt((max * i) / 4)}</text>`);
  }
  parts.push(`<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(unit)}</text>`);
  let x = left + gap / 2;
  for (const g of groups) {
    const pad = (groupW(g) - gap - g.bars.length * barW) / 2;
    g.bars.forEach((b, i) => {
      const v = Number.isFinite(b.value) ? b.value : 0;
      const bh = (v / max) * h;
      const bx = x + pad + i * barW;
      parts.push(`<rect x="${bx}" y="${top + h - bh}" width="${barW - 4}" height="${bh}" fill="${colour(b.label)}"><title>${esc(b.label)}: ${fmt(b.value)}</title></rect>`);
      parts.push(`<text x="${bx + (barW - 4) / 2}" y="${top + h - bh - 3}" text-anchor="middle" font-size="9">${fmt(b.value)}</text>`);
    });
    const inner = groupW(g) - gap;
    parts.push(`<text x="${x + inner / 2}" y="${top + h + 16}" text-anchor="middle" font-size="10">${esc(g.label)}</text>`);
    x += groupW(g);
  }
  labels.forEach((l, i) => {
    parts.push(`<rect x="${left + i * 110}" y="${top + h + 30}" width="10" height="10" fill="${colour(l)}"/>`);
    parts.push(`<text x="${left + i * 110 + 14}" y="${top + h + 39}" font-size="11">${esc(l)}</text>`);
  });
  return svg(width, top + h + 50, parts);
}

/** One line of a line chart. */
export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Lines on linear or log-x axes (latency CDFs use log x; memory vs tunnels uses linear). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], logX: boolean): string {
  const left = 60;
  const top = 36;
  const w = 420;
  const h = 220;
  const xs = series.flatMap((s) => s.points.map((p) => p[0])).filter((v) => Number.isFinite(v) && (!logX || v > 0));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const tx = (v: number): number => (logX ? Math.log10(Math.max(v, 1e-3)) : v);
  const x0 = xs.length ? Math.min(...xs.map(tx)) : 0;
  const x1 = xs.length ? Math.max(...xs.map(tx)) : 1;
  const y1 = ys.length ? Math.max(...ys, 1e-9) : 1;
  const sx = (v: number): number => left + ((tx(v) - x0) / Math.max(1e-9, x1 - x0)) * w;
  const sy = (v: number): number => top + h - (v / y1) * h;
  const parts: string[] = [];
  parts.push(`<text x="${left + w / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#aaa"/>`);
  for (let i = 0; i <= 4; i++) {
    const yv = (y1 * i) / 4;
    parts.push(`<text x="${left - 6}" y="${sy(yv) + 4}" text-anchor="end" font-size="10">${fmt(yv)}</text>`);
    const xv = logX ? 10 ** (x0 + ((x1 - x0) * i) / 4) : x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${sx(xv)}" y="${top + h + 14}" text-anchor="middle" font-size="10">${fmt(xv)}</text>`);
  }
  parts.push(`<text x="${left + w / 2}" y="${top + h + 30}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  parts.push(`<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logX || p[0] > 0));
    if (pts.length > 0) {
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${colour(s.label)}" stroke-width="2"/>`);
      for (const p of pts) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2" fill="${colour(s.label)}"/>`);
    }
    parts.push(`<rect x="${left + w + 12}" y="${top + 8 + i * 18}" width="10" height="10" fill="${colour(s.label)}"/>`);
    parts.push(`<text x="${left + w + 26}" y="${top + 17 + i * 18}" font-size="11">${esc(s.label)}</text>`);
  });
  return svg(left + w + 130, top + h + 40, parts);
}

function svg(width: number, height: number, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
