/** A small SVG line chart for `recur forecast`: history, in-sample fit and forecast. */

export interface Series {
  label: string;
  /** x positions (step numbers) and values. */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  dashed?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

/** An SVG document with one polyline per series, axes with min/max labels, a legend, and a marker at `splitX`. */
export function lineChart(series: readonly Series[], o: { title: string; splitX?: number; width?: number; height?: number }): string {
  const W = o.width ?? 900,
    Hh = o.height ?? 360;
  const m = { l: 70, r: 20, t: 40, b: 40 };
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      x0 = Math.min(x0, s.x[i]);
      x1 = Math.max(x1, s.x[i]);
      y0 = Math.min(y0, s.y[i]);
      y1 = Math.max(y1, s.y[i]);
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
    `<text x="${m.l - 6}" y="${py(y1) + 4}" text-anchor="end">${fmt(y1)}</text>`,
    `<text x="${m.l - 6}" y="${py(y0) + 4}" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="${m.l}" y="${Hh - m.b + 16}" text-anchor="middle">${fmt(x0)}</text>`,
    `<text x="${W - m.r}" y="${Hh - m.b + 16}" text-anchor="middle">${fmt(x1)}</text>`,
  ];
  if (o.splitX !== undefined) {
    parts.push(`<line x1="${px(o.splitX).toFixed(1)}" y1="${m.t}" x2="${px(o.splitX).toFixed(1)}" y2="${Hh - m.b}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  }
  series.forEach((s, k) => {
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) pts.push(`${px(s.x[i]).toFixed(1)},${py(s.y[i]).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.join(' ')}"><title>${esc(s.label)}</title></polyline>`,
    );
    const lx = m.l + 10 + k * 150;
    parts.push(
      `<line x1="${lx}" y1="${m.t - 8}" x2="${lx + 20}" y2="${m.t - 8}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    parts.push(`<text x="${lx + 25}" y="${m.t - 4}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
