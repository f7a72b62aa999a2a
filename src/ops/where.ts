/** Selection by a mask: where(cond, a, b) and maskedFill, both broadcasting. */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from '../tensor/shape.js';
import { asTensor, backendOf, empty, sumTo } from './util.js';

function whereRaw(c: Tensor, a: Tensor, b: Tensor, shape: number[]): Tensor {
  const backend = c.backend;
  const out = empty(backend, shape);
  backend.where(
    c.storage,
    broadcastStrides(c.shape, shape),
    a.storage,
    broadcastStrides(a.shape, shape),
    b.storage,
    broadcastStrides(b.shape, shape),
    out.storage,
    shape,
  );
  return out;
}

/** Elements of `a` where `cond` is non-zero, else of `b` (numbers allowed for a and b). */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, cond);
  const b = asTensor(y, cond);
  backendOf('where', cond, a, b);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const out = whereRaw(cond, a, b, shape);
  return record(
    out,
    'where',
    [a, b],
    (gy) => {
      const zero = asTensor(0, gy);
      const ga = a.requiresGrad ? reduced(whereRaw(cond, gy, zero, shape), a.shape) : null;
      const gb = b.requiresGrad ? reduced(whereRaw(cond, zero, gy, shape), b.shape) : null;
      zero.dispose();
      return [ga, gb];
    },
    [cond],
  );
}

/** x with `value` wherever `mask` is non-zero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

function reduced(t: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(t, shape);
  if (r !== t) t.dispose();
  return r;
}
