/**
 * The UCI handwritten digits (data/digits.csv.gz, CC BY 4.0; see
 * data/digits.LICENSE): 1,797 images of 8x8 pixels with values 0..16 and
 * their digit. Read with node:zlib; pixels scaled to [0, 1].
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface Digit {
  /** 64 pixels row by row, in [0, 1]. */
  pixels: Float32Array;
  label: number;
}

export function loadDigits(): Digit[] {
  const csv = gunzipSync(readFileSync(new URL('../data/digits.csv.gz', import.meta.url))).toString('utf8');
  return csv
    .trim()
    .split('\n')
    .map((line, i) => {
      const v = line.split(',').map(Number);
      if (v.length !== 65 || v.some((x) => !Number.isFinite(x))) throw new Error(`digits.csv.gz line ${i + 1} is not 65 numbers`);
      return { pixels: Float32Array.from(v.slice(0, 64), (p) => p / 16), label: v[64] };
    });
}

/** Images as 8 steps of 8 features: [B, 8, 8] row-major. */
export function rowsOf(batch: readonly Digit[]): Float32Array {
  const x = new Float32Array(batch.length * 64);
  batch.forEach((d, i) => x.set(d.pixels, i * 64));
  return x;
}
