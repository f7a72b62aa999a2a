/** Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p); identity when not training. */
import type { Tensor } from '../tensor/tensor.js';
import { globalRng, type Rng } from '../random/rng.js';
import { mul } from './arith.js';
import { Tensor as T } from '../tensor/tensor.js';

/**
 * Zero each element with probability `p` and scale the rest by 1/(1-p), so
 * the expected value is unchanged and evaluation needs no rescaling; `x`
 * itself when `training` is false or p is 0. The mask comes from `rng`
 * (default the global generator).
 */
export function dropout(x: Tensor, p: number, opts: { training?: boolean; rng?: Rng } = {}): Tensor {
  const { training = true, rng = globalRng } = opts;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be between 0 and 1, got ${p}`);
  if (!training || p === 0) return x;
  const keep = 1 - p;
  const mask = new Float32Array(x.size);
  const scale = keep === 0 ? 0 : 1 / keep;
  // one 32-bit draw per element (not a 53-bit double): masks are a large share of a step's random numbers
  const threshold = keep * 4294967296;
  for (let i = 0; i < mask.length; i++) mask[i] = rng.nextU32() < threshold ? scale : 0;
  const m = T.fromStorage(x.backend.fromValues(mask), x.shape, x.backend);
  const out = mul(x, m);
  return out;
}
