/** A small SVG line chart: `recur forecast`'s history, fit and forecast, and the examples' plots. */

export interface Series {
  label: string;
  /** x positions (step numbers) and values. */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  dashed?: boolean;
  /** Whether the legend lists it (default true): false for a companion line its colour already names. */
  legend?: boolean;
}

export interface ChartOptions {
  title: string;
  /** A dashed vertical marker at this x. */
  splitX?: number;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /**
   * A log-scale y axis with a labelled line at each power of ten: for values
   * that span decades (gradient norms). Points that are not positive and
   * finite have no place on it and are left out.
   */
  logY?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

/** An SVG document with one polyline per series, axes with min/max labels (decades on a log axis), a legend, and a marker at `splitX`. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 900,
    Hh = o.height ?? 360;
  // the legend above the plot: about 7 px a character, at least 150 px a label; a label that would run past
  // the right edge starts a new row, and the plot moves down to make room
  const legend: { s: Series; x: number; row: number }[] = [];
  let lx = 80,
    row = 0;
  for (const s of series) {
    if (s.legend === false) continue;
    const w = Math.max(150, 40 + 7 * s.label.length);
    if (lx + w > W - 20 && legend.length > 0) {
      row++;
      lx = 80;
    }
    legend.push({ s, x: lx, row });
    lx += w;
  }
  const m = { l: 70, r: 20, t: 40 + 16 * row, b: o.xLabel ? 52 : 40 };
  // on a log axis the chart works in log10 of y, and only positive finite values have a place
  const yOf = o.logY ? (y: number): number => (y > 0 && Number.isFinite(y) ? Math.log10(y) : NaN) : (y: number): number => y;
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const y = yOf(s.y[i]);
      if (Number.isNaN(y)) continue;
      x0 = Math.min(x0, s.x[i]);
      x1 = Math.max(x1, s.x[i]);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) {
    y0 -= 1;
    y1 += 1;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number): number => Hh - m.b - ((y - y0) / (y1 - y0)) * (Hh - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${Hh}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${Hh - m.b}" x2="${W - m.r}" y2="${Hh - m.b}" stroke="#888"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${Hh - m.b}" stroke="#888"/>`,
    ...(o.logY ? decadeLines(y0, y1, py, m.l, W - m.r) : [yTick(m.l, py(y1), fmt(y1)), yTick(m.l, py(y0), fmt(y0))]),
    `<text x="${m.l}" y="${Hh - m.b + 16}" text-anchor="middle">${fmt(x0)}</text>`,
    `<text x="${W - m.r}" y="${Hh - m.b + 16}" text-anchor="middle">${fmt(x1)}</text>`,
  ];
  if (o.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${Hh - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cy = (m.t + Hh - m.b) / 2;
    parts.push(`<text x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${esc(o.yLabel)}</text>`);
  }
  if (o.splitX !== undefined) {
    parts.push(`<line x1="${px(o.splitX).toFixed(1)}" y1="${m.t}" x2="${px(o.splitX).toFixed(1)}" y2="${Hh - m.b}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  }
  series.forEach((s) => {
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const y = yOf(s.y[i]);
      if (!Number.isNaN(y)) pts.push(`${px(s.x[i]).toFixed(1)},${py(y).toFixed(1)}`);
    }
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.join(' ')}"><title>${esc(s.label)}</title></polyline>`,
    );
  });
  for (const { s, x, row: r } of legend) {
    const y = 32 + 16 * r;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${x + 25}" y="${y + 4}">${esc(s.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

const yTick = (left: number, y: number, label: string): string => `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${label}</text>`;

/** A faint line at each power of ten from 10^lo to 10^hi (the axis's range in log10), labelled at no more than about ten of them. */
function decadeLines(lo: number, hi: number, py: (y: number) => number, left: number, right: number): string[] {
  const out: string[] = [];
  const first = Math.ceil(lo),
    last = Math.floor(hi);
  const every = Math.max(1, Math.ceil((last - first + 1) / 10));
  for (let d = first; d <= last; d++) {
    const y = py(d).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#eee"/>`);
    if (d % every === 0) out.push(yTick(left, Number(y), `1e${d}`));
  }
  return out;
}
