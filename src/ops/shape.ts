/**
 * Layout ops: reshape, permute / transpose, narrow / slice, concat, stack,
 * split / chunk, squeeze / unsqueeze, expand, clone. Tensors are contiguous,
 * so reshape shares storage and everything else is one strided copy (and its
 * backward the copy the other way).
 */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, formatShape, normDim, sameShape, sizeOf, stridesOf } from '../tensor/shape.js';
import { backendOf, empty, sumTo } from './util.js';

/** The same elements in another shape with as many elements; one size may be -1 and is then inferred. Shares the storage, no copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape(x, shape);
  const out = x.shareStorage(target);
  return record(out, 'reshape', [x], (gy) => [gy.shareStorage(x.shape)]);
}

function inferShape(x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.indexOf(-1, free + 1) !== -1 && free !== -1) {
    throw new Error(`reshape: ${formatShape(x.shape)} to ${formatShape(shape)}: only one dimension can be -1`);
  }
  for (const d of out) {
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) {
      throw new Error(`reshape: ${formatShape(x.shape)} to ${formatShape(shape)}: dimensions must be non-negative integers or -1`);
    }
  }
  if (free !== -1) {
    const rest = sizeOf(out.filter((_, i) => i !== free));
    if (rest === 0 || x.size % rest !== 0) {
      throw new Error(`reshape: ${formatShape(x.shape)} (${x.size} elements) cannot be viewed as ${formatShape(shape)}`);
    }
    out[free] = x.size / rest;
  }
  if (sizeOf(out) !== x.size) {
    throw new Error(`reshape: ${formatShape(x.shape)} (${x.size} elements) cannot be viewed as ${formatShape(shape)} (${sizeOf(out)} elements)`);
  }
  return out;
}

/** Copy of x with its dims reordered: out dim i is x dim dims[i]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const rank = x.rank;
  const perm = dims.map((d) => normDim('permute', d, rank));
  if (perm.length !== rank || new Set(perm).size !== rank) {
    throw new Error(`permute: dims ${formatShape(dims)} are not a permutation of the ${rank} dims of ${formatShape(x.shape)}`);
  }
  const out = permuteRaw(x, perm);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return record(out, 'permute', [x], (gy) => [permuteRaw(gy, inverse)]);
}

function permuteRaw(x: Tensor, perm: readonly number[]): Tensor {
  const backend = x.backend;
  const inStrides = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const out = empty(backend, shape);
  backend.stridedCopy(
    x.storage,
    0,
    perm.map((p) => inStrides[p]),
    out.storage,
    0,
    stridesOf(shape),
    shape,
    false,
  );
  return out;
}

/** Dimensions `dim0` and `dim1` swapped (by default the last two: a matrix transpose); a copy. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.rank < 2 && dim0 === -2 && dim1 === -1) return reshape(x, x.shape);
  const d0 = normDim('transpose', dim0, x.rank);
  const d1 = normDim('transpose', dim1, x.rank);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[d0] = d1;
  perm[d1] = d0;
  return permute(x, perm);
}

/**
 * Elements start, start+step, ... (< end) along `dim`, Python-style:
 * negative indices count from the end and out-of-range bounds are clamped.
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim('slice', dim, x.rank);
  const n = x.shape[d];
  if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clampIdx = (i: number): number => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIdx(start);
  const e = clampIdx(end ?? n);
  const length = Math.max(0, Math.ceil((e - s) / step));
  return region(x, d, s, length, step, 'slice');
}

/** `length` elements from `start` along `dim` (both must be in range, as in PyTorch). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim('narrow', dim, x.rank);
  const n = x.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start} and length ${length} are out of range for dimension ${d} of ${formatShape(x.shape)}`);
  }
  return region(x, d, s, length, 1, 'narrow');
}

function region(x: Tensor, d: number, start: number, length: number, step: number, op: string): Tensor {
  const backend = x.backend;
  const inStrides = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[d] = length;
  const srcStrides = [...inStrides];
  srcStrides[d] *= step;
  const offset = start * inStrides[d];
  const out = empty(backend, shape);
  backend.stridedCopy(x.storage, offset, srcStrides, out.storage, 0, stridesOf(shape), shape, false);
  return record(out, op, [x], (gy) => {
    const gx = empty(backend, x.shape);
    backend.stridedCopy(gy.storage, 0, stridesOf(shape), gx.storage, offset, srcStrides, shape, false);
    return [gx];
  });
}

/** Join tensors along an existing dimension `dim`; the other dimensions must match. */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const backend = backendOf('concat', ...xs);
  const first = xs[0];
  const d = normDim('concat', dim, first.rank);
  for (const t of xs) {
    const ok = t.rank === first.rank && t.shape.every((v, i) => i === d || v === first.shape[i]);
    if (!ok) {
      throw new Error(`concat: ${formatShape(first.shape)} and ${formatShape(t.shape)} differ outside dimension ${d}`);
    }
  }
  const shape = [...first.shape];
  shape[d] = xs.reduce((s, t) => s + t.shape[d], 0);
  const out = empty(backend, shape);
  const outStrides = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of xs) {
    offsets.push(at * outStrides[d]);
    backend.stridedCopy(t.storage, 0, stridesOf(t.shape), out.storage, at * outStrides[d], outStrides, t.shape, false);
    at += t.shape[d];
  }
  return record(out, 'concat', [...xs], (gy) =>
    xs.map((t, i) => {
      if (!t.requiresGrad) return null;
      const g = empty(backend, t.shape);
      backend.stridedCopy(gy.storage, offsets[i], outStrides, g.storage, 0, stridesOf(t.shape), t.shape, false);
      return g;
    }),
  );
}

/** PyTorch's name for {@link concat}. */
export const cat = concat;

/** Join same-shaped tensors along a new dimension. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const first = xs[0];
  for (const t of xs) {
    if (!sameShape(t.shape, first.shape)) {
      throw new Error(`stack: ${formatShape(first.shape)} and ${formatShape(t.shape)}: all tensors must have the same shape`);
    }
  }
  const d = normDim('stack', dim, first.rank + 1);
  return concat(
    xs.map((t) => unsqueeze(t, d)),
    d,
  );
}

/** Split into pieces of `sizes` (a list) or of `sizes` each (the last may be smaller) along `dim`. */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim('split', dim, x.rank);
  const n = x.shape[d];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new Error(`split: size must be a positive integer, got ${sizes}`);
    list = [];
    for (let s = 0; s < n; s += sizes) list.push(Math.min(sizes, n - s));
  } else {
    list = [...sizes];
    const total = list.reduce((a, b) => a + b, 0);
    if (total !== n || list.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(`split: sizes ${formatShape(list)} do not add up to ${n}, the size of dimension ${d} of ${formatShape(x.shape)}`);
    }
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const len of list) {
    out.push(narrow(x, d, at, len));
    at += len;
  }
  return out;
}

/** Split into `chunks` nearly equal pieces along `dim` (as torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new Error(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim('chunk', dim, x.rank);
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/** A new dimension of size 1 at `dim` (negative counts from the end of the new shape). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** Remove size-1 dims (all of them, or just `dim`). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((s) => s !== 1),
    );
  const d = normDim('squeeze', dim, x.rank);
  if (x.shape[d] !== 1) return reshape(x, x.shape);
  const shape = [...x.shape];
  shape.splice(d, 1);
  return reshape(x, shape);
}

/** Broadcast to a bigger shape (a copy; -1 keeps a dimension). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const offset = shape.length - x.rank;
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - offset] : s));
  const out = broadcastShapes('expand', x.shape, target);
  if (!sameShape(out, target)) {
    throw new Error(`expand: ${formatShape(x.shape)} cannot be expanded to ${formatShape(shape)}`);
  }
  const backend = x.backend;
  const res = empty(backend, target);
  backend.stridedCopy(x.storage, 0, broadcastStrides(x.shape, target), res.storage, 0, stridesOf(target), target, false);
  return record(res, 'expand', [x], (gy) => [sumTo(gy, x.shape)]);
}

/** A copy with its own storage; unlike `detach()`, gradients still flow back to `x`. */
export function clone(x: Tensor): Tensor {
  const backend = x.backend;
  const out = empty(backend, x.shape);
  const strides = stridesOf(x.shape);
  backend.stridedCopy(x.storage, 0, strides, out.storage, 0, strides, x.shape, false);
  return record(out, 'clone', [x], (gy) => [gy]);
}
