/** Reductions over dims, with keepdim: sum, mean, max (gradient to the first maximum), argmax. */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastStrides, normDims, sizeOf, stridesOf } from '../tensor/shape.js';
import { empty } from './util.js';

/**
 * How to see x as [outer, n, inner] with the reduced dims in the middle. When
 * they are one contiguous block no copy is needed; otherwise x is first
 * permuted so the reduced dims come last.
 */
interface ReducePlan {
  dims: number[];
  keptShape: number[]; // keepdim=true shape
  outShape: number[];
  perm: number[] | null;
  outer: number;
  n: number;
  inner: number;
}

function planReduce(op: string, x: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean): ReducePlan {
  const dims = normDims(op, dim, x.rank);
  const keptShape = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !dims.includes(i));
  const contiguous = dims.length === 0 || dims[dims.length - 1] - dims[0] === dims.length - 1;
  if (contiguous) {
    const lo = dims.length ? dims[0] : x.rank;
    const hi = dims.length ? dims[dims.length - 1] + 1 : x.rank;
    return {
      dims,
      keptShape,
      outShape,
      perm: null,
      outer: sizeOf(x.shape.slice(0, lo)),
      n: sizeOf(x.shape.slice(lo, hi)),
      inner: sizeOf(x.shape.slice(hi)),
    };
  }
  const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  return {
    dims,
    keptShape,
    outShape,
    perm: [...kept, ...dims],
    outer: sizeOf(kept.map((i) => x.shape[i])),
    n: sizeOf(dims.map((i) => x.shape[i])),
    inner: 1,
  };
}

/** x laid out for the plan: itself, or a permuted copy. */
function source(x: Tensor, p: ReducePlan): Tensor {
  if (!p.perm) return x;
  const strides = stridesOf(x.shape);
  const shape = p.perm.map((i) => x.shape[i]);
  const out = empty(x.backend, shape);
  x.backend.stridedCopy(
    x.storage,
    0,
    p.perm.map((i) => strides[i]),
    out.storage,
    0,
    stridesOf(shape),
    shape,
    false,
  );
  return out;
}

/** gy (kept shape) broadcast back over x's shape, times `scale`. */
function spread(gy: Tensor, x: Tensor, p: ReducePlan, scale: number): Tensor {
  const backend = x.backend;
  const gx = empty(backend, x.shape);
  backend.stridedCopy(gy.storage, 0, broadcastStrides(p.keptShape, x.shape), gx.storage, 0, stridesOf(x.shape), x.shape, false);
  if (scale !== 1) backend.affine(gx.storage, gx.storage, gx.size, scale, 0);
  return gx;
}

/** The sum over `dim` (one or several dimensions), or of every element when omitted; `keepdim` leaves reduced dimensions as size 1. */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const p = planReduce('sum', x, dim, keepdim);
  const out = reduceRaw(x, p, 'sum');
  return record(out, 'sum', [x], (gy) => [spread(gy, x, p, 1)]);
}

/** The mean over `dim`, or of every element when omitted; `keepdim` as in `sum`. */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const p = planReduce('mean', x, dim, keepdim);
  const out = reduceRaw(x, p, 'sum');
  const scale = 1 / p.n;
  x.backend.affine(out.storage, out.storage, out.size, scale, 0);
  return record(out, 'mean', [x], (gy) => [spread(gy, x, p, scale)]);
}

/** The maximum over `dim`, or of every element when omitted; the gradient goes to the first maximum. */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const p = planReduce('max', x, dim, keepdim);
  if (p.n === 0) throw new Error('max: cannot take the maximum over an empty dimension');
  const arg = new Int32Array(p.outer * p.inner);
  const out = reduceRaw(x, p, 'max', arg);
  return record(out, 'max', [x], (gy) => {
    const backend = x.backend;
    if (!p.perm) {
      const gx = empty(backend, x.shape);
      backend.reduceMaxGrad(gy.storage, arg, gx.storage, p.outer, p.n, p.inner);
      return [gx];
    }
    // scatter in the permuted layout, then permute back
    const permShape = p.perm.map((i) => x.shape[i]);
    const gp = empty(backend, permShape);
    backend.reduceMaxGrad(gy.storage, arg, gp.storage, p.outer, p.n, p.inner);
    const gx = empty(backend, x.shape);
    const xStrides = stridesOf(x.shape);
    backend.stridedCopy(
      gp.storage,
      0,
      stridesOf(permShape),
      gx.storage,
      0,
      p.perm.map((i) => xStrides[i]),
      permShape,
      false,
    );
    gp.dispose();
    return [gx];
  });
}

/** Index of the first maximum along `dim` (over all elements, flattened, when dim is omitted). Not differentiable. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  const p = planReduce('argmax', x, dim, dim === undefined ? false : keepdim);
  const arg = new Int32Array(p.outer * p.inner);
  const tmp = reduceRaw(x, p, 'max', arg);
  tmp.dispose();
  const out = empty(x.backend, p.outShape);
  x.backend.write(out.storage, arg);
  return out;
}

function reduceRaw(x: Tensor, p: ReducePlan, op: 'sum' | 'max', arg?: Int32Array): Tensor {
  const src = source(x, p);
  const out = empty(x.backend, p.outShape);
  x.backend.reduce(op, src.storage, out.storage, p.outer, p.n, p.inner, arg);
  if (src !== x) src.dispose();
  return out;
}
