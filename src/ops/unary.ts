/** Elementwise functions: exp, log, sqrt, tanh, sigmoid, relu, abs, square, gelu. */
import type { UnaryGradOp, UnaryOp } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { empty } from './util.js';
import { geluBackward, geluForward } from './norm-gelu-core.js';

function unaryOp(op: UnaryOp & UnaryGradOp, a: Tensor): Tensor {
  const backend = a.backend;
  const out = empty(backend, a.shape);
  backend.unary(op, a.storage, out.storage, a.size);
  return record(
    out,
    op,
    [a],
    (gy) => {
      // the kernel reads x or y as the derivative needs (tanh/sigmoid/exp/sqrt use y)
      const gx = empty(backend, a.shape);
      backend.unaryGrad(op, a.storage, out.storage, gy.storage, gx.storage, a.size);
      return [gx];
    },
    [a, out],
  );
}

/** e to each element. */
export const exp = (a: Tensor): Tensor => unaryOp('exp', a);
/** Natural logarithm of each element (-Infinity at 0). */
export const log = (a: Tensor): Tensor => unaryOp('log', a);
/** Square root of each element. */
export const sqrt = (a: Tensor): Tensor => unaryOp('sqrt', a);
/** Hyperbolic tangent of each element: the RNN's and LSTM's squashing function. */
export const tanh = (a: Tensor): Tensor => unaryOp('tanh', a);
/** Logistic sigmoid 1 / (1 + e^-x) of each element: the gates' function. */
export const sigmoid = (a: Tensor): Tensor => unaryOp('sigmoid', a);
/** `max(x, 0)` of each element (gradient 0 at 0). */
export const relu = (a: Tensor): Tensor => unaryOp('relu', a);
/** Absolute value of each element (gradient 0 at 0). */
export const abs = (a: Tensor): Tensor => unaryOp('abs', a);
/** Each element squared: one kernel, cheaper than `mul(a, a)` or `pow(a, 2)`. */
export const square = (a: Tensor): Tensor => unaryOp('square', a);

/**
 * The Gaussian error linear unit in its tanh approximation, as PyTorch's
 * `gelu(x, approximate='tanh')`: `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`
 * (forward and backward in norm-gelu-core.ts).
 *
 * @example
 * ```ts
 * gelu(tensor([-1, 0, 1])); // [-0.1588, 0, 0.8412]
 * ```
 */
export function gelu(a: Tensor): Tensor {
  const bk = a.backend;
  const out = empty(bk, a.shape);
  const th = empty(bk, a.shape);
  geluForward(bk, a.storage, out.storage, th.storage, a.size);
  record(
    out,
    'gelu',
    [a],
    (gy) => {
      const gx = empty(bk, a.shape);
      geluBackward(bk, a.storage, th.storage, gy.storage, gx.storage, a.size);
      return [gx];
    },
    [a, th],
  );
  if (!out.node) th.dispose();
  return out;
}
