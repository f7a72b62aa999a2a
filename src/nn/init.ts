/**
 * Parameter initialisers, as torch.nn.init: each fills a tensor in place and
 * returns it, drawing from the global generator unless an `rng` is given.
 * Imported as a namespace: `init.xavierUniform_(layer.weight)`.
 */
import { globalRng, type Rng } from '../random/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

function fillWith(t: Tensor, draw: () => number): Tensor {
  const v = new Float64Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = draw();
  t.backend.write(t.storage, v);
  return t;
}

/** Uniform values in [low, high). */
export function uniform_(t: Tensor, low: number, high: number, rng: Rng = globalRng): Tensor {
  return fillWith(t, () => rng.uniform(low, high));
}

/** Normal values with this mean and standard deviation. */
export function normal_(t: Tensor, mean = 0, std = 1, rng: Rng = globalRng): Tensor {
  return fillWith(t, () => rng.normal(mean, std));
}

/** Every element `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  t.backend.fill(t.storage, value);
  return t;
}

/** Every element 0 (a bias's usual start). */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** Every element 1. */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** fanIn (inputs per output) and fanOut (outputs per input) of a weight [out, in, ...receptive], which scale the initialisers below. */
export function fans(t: Tensor): {
  /** in * receptive field size. */
  fanIn: number;
  /** out * receptive field size. */
  fanOut: number;
} {
  if (t.rank < 2) throw new Error(`init: fan in/out need a tensor of rank >= 2, got ${formatShape(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)), keeping activations' variance through tanh and sigmoid layers. */
export function xavierUniform_(t: Tensor, gain = 1, rng: Rng = globalRng): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, rng);
}

/** Glorot normal: N(0, gain² * 2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, rng: Rng = globalRng): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), rng);
}

/** He init for ReLU layers, as torch.nn.init.kaiming_uniform_ with mode fan_in. */
export function kaimingUniform_(t: Tensor, a = 0, rng: Rng = globalRng): Tensor {
  const { fanIn } = fans(t);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fanIn);
  return uniform_(t, -bound, bound, rng);
}
