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

export const exp = (a: Tensor): Tensor => unaryOp('exp', a);
export const log = (a: Tensor): Tensor => unaryOp('log', a);
export const sqrt = (a: Tensor): Tensor => unaryOp('sqrt', a);
export const tanh = (a: Tensor): Tensor => unaryOp('tanh', a);
export const sigmoid = (a: Tensor): Tensor => unaryOp('sigmoid', a);
export const relu = (a: Tensor): Tensor => unaryOp('relu', a);
export const abs = (a: Tensor): Tensor => unaryOp('abs', a);
export const square = (a: Tensor): Tensor => unaryOp('square', a);
