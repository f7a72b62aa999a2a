/** Elementwise functions: exp, log, sqrt, tanh, sigmoid, relu, abs. */
import type { UnaryGradOp, UnaryOp } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { empty } from './util.js';

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
