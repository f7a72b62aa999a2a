/** RMSNorm over the last dimension, as one op (forward and backward in norm-gelu-core.ts). */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { backendOf, empty } from './util.js';
import { RMS_NORM_EPS, rmsNormBackward, rmsNormForward } from './norm-gelu-core.js';

/**
 * Root-mean-square normalisation over the last dimension (Zhang and
 * Sennrich 2019): `x / sqrt(mean(x², -1) + eps) * weight`, with no mean
 * subtracted and no bias. `weight` is [d] for x [..., d], or null for none;
 * eps defaults to 1e-5.
 *
 * @example
 * ```ts
 * const y = rmsNorm(tensor([[3, 4]]), ones([2])); // [[0.8485, 1.1314]]: each row divided by its RMS, √12.5
 * ```
 */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = RMS_NORM_EPS): Tensor {
  const bk = weight ? backendOf('rmsNorm', x, weight) : x.backend;
  if (x.rank === 0) throw new Error('rmsNorm: x must have at least one dimension');
  const d = x.shape[x.rank - 1];
  if (weight && (weight.rank !== 1 || weight.shape[0] !== d)) {
    throw new Error(`rmsNorm: weight has shape ${formatShape(weight.shape)} but x's last dimension is ${d}`);
  }
  if (!(typeof eps === 'number' && eps >= 0 && Number.isFinite(eps))) throw new Error(`rmsNorm: eps must be a number of at least 0, got ${eps}`);
  const rows = d === 0 ? 0 : x.size / d;
  const out = empty(bk, x.shape);
  // 1/RMS of each row: the backward's only saved value besides the inputs
  const r = empty(bk, x.shape.slice(0, -1));
  rmsNormForward(bk, x.storage, weight ? weight.storage : null, out.storage, r.storage, rows, d, eps);
  const inputs = weight ? [x, weight] : [x];
  record(
    out,
    'rmsNorm',
    inputs,
    (gy) => {
      const gx = x.requiresGrad ? empty(bk, x.shape) : null;
      const gw = weight?.requiresGrad ? empty(bk, weight.shape) : null;
      rmsNormBackward(bk, {
        x: x.storage,
        weight: weight ? weight.storage : null,
        r: r.storage,
        gy: gy.storage,
        gx: gx?.storage ?? null,
        gw: gw?.storage ?? null,
        rows,
        d,
      });
      return weight ? [gx, gw] : [gx];
    },
    [...inputs, r],
  );
  if (!out.node) r.dispose();
  return out;
}
