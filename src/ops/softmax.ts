/** softmax and logSoftmax along a dim (the last by default, where the kernel works in place on rows). */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { normDim } from '../tensor/shape.js';
import { empty } from './util.js';
import { transpose } from './shape.js';

function softmaxLast(x: Tensor, log: boolean): Tensor {
  const backend = x.backend;
  const cols = x.rank === 0 ? 1 : x.shape[x.rank - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = empty(backend, x.shape);
  backend.softmax(x.storage, out.storage, rows, cols, log);
  return record(
    out,
    log ? 'logSoftmax' : 'softmax',
    [x],
    (gy) => {
      const gx = empty(backend, x.shape);
      backend.softmaxGrad(out.storage, gy.storage, gx.storage, rows, cols, log);
      return [gx];
    },
    [out],
  );
}

function alongDim(x: Tensor, dim: number, log: boolean, op: string): Tensor {
  const d = x.rank === 0 ? 0 : normDim(op, dim, x.rank);
  if (x.rank === 0 || d === x.rank - 1) return softmaxLast(x, log);
  return transpose(softmaxLast(transpose(x, d, -1), log), d, -1);
}

/** Softmax along `dim` (default the last): non-negative values that sum to 1, for probabilities from logits. */
export const softmax = (x: Tensor, dim = -1): Tensor => alongDim(x, dim, false, 'softmax');
/** The log of `softmax`, computed without overflow for large logits (for log-likelihoods; `crossEntropy` fuses it with the loss). */
export const logSoftmax = (x: Tensor, dim = -1): Tensor => alongDim(x, dim, true, 'logSoftmax');
