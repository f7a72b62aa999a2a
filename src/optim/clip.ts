/** Gradient clipping over a set of parameters, in place. */
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scale all gradients so their global L2 norm is at most `maxNorm` (char-rnn
 * clips at 5). Returns the norm before clipping. A NaN or infinite norm is
 * returned unchanged (gradients untouched) so the caller can stop training;
 * with `errorIfNonfinite` it throws instead.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: { errorIfNonfinite?: boolean } = {}): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be a positive number, got ${maxNorm}`);
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  let sq = 0;
  for (const g of grads) sq += g.backend.sumSquares(g.storage, g.size);
  const total = Math.sqrt(sq);
  if (!Number.isFinite(total)) {
    if (opts.errorIfNonfinite) throw new Error(`clipGradNorm: the total gradient norm is ${total}`);
    return total;
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) g.backend.affine(g.storage, g.storage, g.size, coef, 0);
  return total;
}

/** Clamp every gradient element to [-value, value] (min-char-rnn clips to [-5, 5]). */
export function clipGradValue(params: Iterable<Tensor>, value: number): void {
  if (!(value > 0)) throw new Error(`clipGradValue: value must be a positive number, got ${value}`);
  for (const p of params) {
    const g = p.grad;
    if (g) g.backend.clamp(g.storage, g.storage, g.size, -value, value);
  }
}
