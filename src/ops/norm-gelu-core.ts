/**
 * RMSNorm and GELU on plain storages, forward and backward, each one fused
 * backend kernel (Backend.rmsNorm, rmsNormGrad, gelu, geluGrad). The ops
 * (`rmsNorm` in norm.ts, `gelu` in unary.ts) wrap them with autograd; the
 * batch-1 stepper (generate/stepper-core.ts) calls the forwards directly, so
 * sampling computes what training computed. No tensor imports: the
 * embeddable sampler may bundle this.
 */
import type { Backend, Storage } from '../backend/backend.js';

/** RMSNorm's default epsilon, added to the mean square before the root (the block language model's too). */
export const RMS_NORM_EPS = 1e-5;

/**
 * out = x / sqrt(mean(x², last dim) + eps) * weight over `rows` rows of `d`.
 * Writes r = 1 / sqrt(mean(x²) + eps) per row (the backward reads it).
 * `out` may not alias `x`.
 */
export function rmsNormForward(bk: Backend, x: Storage, weight: Storage | null, out: Storage, r: Storage, rows: number, d: number, eps: number): void {
  bk.rmsNorm({ rows, d, x, weight, y: out, r, eps });
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
  bk.rmsNormGrad(a);
}

/**
 * out = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) over n values (PyTorch's
 * `gelu(x, approximate='tanh')`). Writes the tanh into `th` (the backward
 * reads it). `out` and `th` may not alias `x` or each other.
 */
export function geluForward(bk: Backend, x: Storage, out: Storage, th: Storage, n: number): void {
  bk.gelu({ n, x, y: out, th });
}

/** The backward of geluForward: gx = gy (0.5 (1 + th) + 0.5 x (1 - th²) √(2/π) (1 + 3 · 0.044715 x²)). */
export function geluBackward(bk: Backend, x: Storage, th: Storage, gy: Storage, gx: Storage, n: number): void {
  bk.geluGrad({ n, x, th, gy, gx });
}
