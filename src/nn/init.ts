/** Parameter initialisers (in place), using the global RNG unless one is given. */
import { globalRng, type Rng } from '../random/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

function fillWith(t: Tensor, draw: () => number): Tensor {
  const v = new Float64Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = draw();
  t.backend.write(t.storage, v);
  return t;
}

export function uniform_(t: Tensor, low: number, high: number, rng: Rng = globalRng): Tensor {
  return fillWith(t, () => rng.uniform(low, high));
}

export function normal_(t: Tensor, mean = 0, std = 1, rng: Rng = globalRng): Tensor {
  return fillWith(t, () => rng.normal(mean, std));
}

export function constant_(t: Tensor, value: number): Tensor {
  t.backend.fill(t.storage, value);
  return t;
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/** fan_in and fan_out of a weight [out, in, ...receptive]. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.rank < 2) throw new Error(`init: fan in/out need a tensor of rank >= 2, got ${formatShape(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

export function xavierUniform_(t: Tensor, gain = 1, rng: Rng = globalRng): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, rng);
}

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
