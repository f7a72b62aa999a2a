/**
 * RMSNorm and GELU on plain storages, forward and backward, from the
 * backend's existing primitives (square, reduce, affine, broadcasting
 * multiply, tanh). The ops (`rmsNorm` in norm.ts, `gelu` in unary.ts) wrap
 * them with autograd; the batch-1 stepper (generate/stepper-core.ts) calls
 * the forwards directly, so sampling computes what training computed. No
 * tensor imports: the embeddable sampler may bundle this.
 */
import type { Backend, Storage } from '../backend/backend.js';

/** RMSNorm's default epsilon, added to the mean square before the root (the block language model's too). */
export const RMS_NORM_EPS = 1e-5;

/**
 * out = x / sqrt(mean(x², last dim) + eps) * weight over `rows` rows of `d`.
 * Writes r = 1 / sqrt(mean(x²) + eps) per row (the backward reads it);
 * `tmp` is rows * d of scratch. `out` may not alias `x`.
 */
export function rmsNormForward(
  bk: Backend,
  x: Storage,
  weight: Storage | null,
  out: Storage,
  r: Storage,
  tmp: Storage,
  rows: number,
  d: number,
  eps: number,
): void {
  bk.unary('square', x, tmp, rows * d);
  bk.reduce('sum', tmp, r, rows, d, 1);
  bk.affine(r, r, rows, 1 / d, eps);
  bk.powScalar(r, r, rows, -0.5);
  bk.binary('mul', x, [d, 1], r, [1, 0], out, [rows, d]);
  if (weight) bk.binary('mul', out, [d, 1], weight, [0, 1], out, [rows, d]);
}

/**
 * The backward of rmsNormForward. With g = gy ⊙ w and y' = x r (the
 * normalised x): dx = r g - x r³ Σ_j(g_j x_j) / d, and dw = Σ_rows gy ⊙ y'.
 * Either output may be null when not needed.
 */
export function rmsNormBackward(
  bk: Backend,
  a: { x: Storage; weight: Storage | null; r: Storage; gy: Storage; gx: Storage | null; gw: Storage | null; rows: number; d: number },
): void {
  const { x, weight, r, gy, gx, gw, rows, d } = a;
  const n = rows * d;
  const rowwise = [d, 1],
    perRow = [1, 0],
    perCol = [0, 1],
    shape = [rows, d];
  const t = bk.alloc(n);
  if (gw) {
    bk.binary('mul', x, rowwise, r, perRow, t, shape);
    bk.binary('mul', t, rowwise, gy, rowwise, t, shape);
    bk.reduce('sum', t, gw, 1, rows, d);
  }
  if (gx) {
    const g = weight ? bk.alloc(n) : gy;
    if (weight) bk.binary('mul', gy, rowwise, weight, perCol, g, shape);
    const coef = bk.alloc(rows);
    bk.binary('mul', g, rowwise, x, rowwise, t, shape);
    bk.reduce('sum', t, coef, rows, d, 1);
    // coef = -Σ(g x) r³ / d
    const r3 = bk.alloc(rows);
    bk.powScalar(r, r3, rows, 3);
    bk.binary('mul', coef, [1], r3, [1], coef, [rows]);
    bk.affine(coef, coef, rows, -1 / d, 0);
    bk.binary('mul', x, rowwise, coef, perRow, t, shape);
    bk.binary('mul', g, rowwise, r, perRow, gx, shape);
    bk.binary('add', gx, rowwise, t, rowwise, gx, shape);
    bk.free(r3);
    bk.free(coef);
    if (g !== gy) bk.free(g);
  }
  bk.free(t);
}

/** √(2/π) and the cubic coefficient of GELU's tanh approximation (the ONNX exporter writes the same formula). */
export const GELU_C = Math.sqrt(2 / Math.PI);
export const GELU_A = 0.044715;

/**
 * out = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) over n values (PyTorch's
 * `gelu(x, approximate='tanh')`). Writes the tanh into `th` (the backward
 * reads it). `out` and `th` may not alias `x` or each other.
 */
export function geluForward(bk: Backend, x: Storage, out: Storage, th: Storage, n: number): void {
  bk.unary('square', x, th, n);
  bk.affine(th, th, n, GELU_C * GELU_A, GELU_C);
  bk.binary('mul', th, [1], x, [1], th, [n]);
  bk.unary('tanh', th, th, n);
  bk.affine(th, out, n, 0.5, 0.5);
  bk.binary('mul', out, [1], x, [1], out, [n]);
}

/** The backward of geluForward: gx = gy (0.5 (1 + th) + 0.5 x (1 - th²) √(2/π) (1 + 3 · 0.044715 x²)). */
export function geluBackward(bk: Backend, x: Storage, th: Storage, gy: Storage, gx: Storage, n: number): void {
  const t = bk.alloc(n);
  bk.unary('square', x, gx, n);
  bk.affine(gx, gx, n, 0.5 * GELU_C * 3 * GELU_A, 0.5 * GELU_C);
  bk.unary('square', th, t, n);
  bk.affine(t, t, n, -1, 1);
  bk.binary('mul', gx, [1], t, [1], gx, [n]);
  bk.binary('mul', gx, [1], x, [1], gx, [n]);
  bk.affine(th, t, n, 0.5, 0.5);
  bk.binary('add', gx, [1], t, [1], gx, [n]);
  bk.binary('mul', gx, [1], gy, [1], gx, [n]);
  bk.free(t);
}
