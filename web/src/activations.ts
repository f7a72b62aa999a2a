/**
 * The cell-activation view: patterns a cell might track, how well each cell
 * follows one (Pearson correlation over a text), and the colour of a value.
 */

export type Pattern = 'quote' | 'linestart' | 'paren' | 'upper';

/** 1 where the pattern holds at character t (after reading it), else 0. */
export function patternSeries(chars: string[], p: Pattern): Float64Array {
  const out = new Float64Array(chars.length);
  let inQuote = false;
  let depth = 0;
  let sinceNewline = 0;
  chars.forEach((c, t) => {
    if (c === '"') inQuote = !inQuote;
    if (c === '(') depth++;
    if (c === ')') depth = Math.max(0, depth - 1);
    sinceNewline = c === '\n' ? 0 : sinceNewline + 1;
    if (p === 'quote') out[t] = inQuote ? 1 : 0;
    else if (p === 'paren') out[t] = depth > 0 ? 1 : 0;
    else if (p === 'linestart') out[t] = sinceNewline <= 2 ? 1 : 0;
    else out[t] = c !== c.toLowerCase() ? 1 : 0;
  });
  return out;
}

/** Correlation of every cell's activations (values is [T, H]) with a series; NaN for a constant cell or series. */
export function correlations(values: Float32Array, T: number, H: number, series: Float64Array): Float64Array {
  const r = new Float64Array(H);
  let sm = 0;
  for (let t = 0; t < T; t++) sm += series[t];
  sm /= T;
  let ss = 0;
  for (let t = 0; t < T; t++) ss += (series[t] - sm) ** 2;
  for (let h = 0; h < H; h++) {
    let m = 0;
    for (let t = 0; t < T; t++) m += values[t * H + h];
    m /= T;
    let sxy = 0,
      sxx = 0;
    for (let t = 0; t < T; t++) {
      const x = values[t * H + h] - m;
      sxy += x * (series[t] - sm);
      sxx += x * x;
    }
    r[h] = sxy / Math.sqrt(sxx * ss);
  }
  return r;
}

/** The cells with the largest |r|, best first. */
export function topCells(r: Float64Array, n: number): { cell: number; r: number }[] {
  return [...r]
    .map((v, cell) => ({ cell, r: v }))
    .filter((x) => Number.isFinite(x.r))
    .sort((a, b) => Math.abs(b.r) - Math.abs(a.r))
    .slice(0, n);
}

/** A background colour for an activation scaled to [-1, 1]: blue below zero, red above. */
export function activationColour(v: number): string {
  const a = Math.min(1, Math.abs(v));
  return v >= 0 ? `rgba(220, 40, 30, ${a.toFixed(3)})` : `rgba(30, 90, 220, ${a.toFixed(3)})`;
}
