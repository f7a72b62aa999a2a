/** Index selection and embedding lookup; the backward scatter-adds into the table. */
import { record } from '../autograd/graph.js';
import { isTensor, type Tensor, type NestedArray } from '../tensor/tensor.js';
import { formatShape, normDim, sizeOf } from '../tensor/shape.js';
import { empty } from './util.js';
import { reshape } from './shape.js';

/** Integer indices: a typed array, (nested) number arrays, or a tensor of whole numbers. */
export type Indices = Int32Array | Uint8Array | Uint16Array | Uint32Array | readonly number[] | NestedArray | Tensor;

/** Flatten indices to an Int32Array, remembering their shape; every value must be a whole number. */
export function toIndices(op: string, idx: Indices): { data: Int32Array; shape: number[] } {
  if (isTensor(idx)) return { data: checkInts(op, idx.data), shape: [...idx.shape] };
  if (typeof idx === 'number') return { data: checkInts(op, [idx]), shape: [] };
  if (ArrayBuffer.isView(idx)) return { data: checkInts(op, idx as ArrayLike<number>), shape: [(idx as ArrayLike<number>).length] };
  const shape: number[] = [];
  let cur: unknown = idx;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flat = (idx as unknown[]).flat(Infinity) as number[];
  if (flat.length !== sizeOf(shape)) throw new Error(`${op}: index arrays are ragged`);
  return { data: checkInts(op, flat), shape };
}

function checkInts(op: string, a: ArrayLike<number>): Int32Array {
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isInteger(v)) throw new Error(`${op}: indices must be whole numbers, got ${v}`);
    out[i] = v;
  }
  return out;
}

function checkRange(op: string, idx: Int32Array, n: number, what: string): void {
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= n) throw new Error(`${op}: index ${idx[i]} is out of range for ${n} ${what}`);
  }
}

/** Pick entries along `dim` by index (as torch.index_select, indices flattened to 1-D). */
export function indexSelect(x: Tensor, dim: number, indices: Indices): Tensor {
  const d = normDim('indexSelect', dim, x.rank);
  const { data: idx } = toIndices('indexSelect', indices);
  const n = x.shape[d];
  checkRange('indexSelect', idx, n, `entries in dimension ${d} of ${formatShape(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, d));
  const inner = sizeOf(x.shape.slice(d + 1));
  const shape = [...x.shape];
  shape[d] = idx.length;
  const backend = x.backend;
  const out = empty(backend, shape);
  backend.gather(x.storage, idx, out.storage, outer, n, inner);
  return record(out, 'indexSelect', [x], (gy) => {
    const gx = empty(backend, x.shape);
    backend.scatterAdd(gy.storage, idx, gx.storage, outer, n, inner);
    return [gx];
  });
}

/** Rows of `weight` [num, dim] for each index: output shape is indices' shape + [dim]. */
export function embedding(weight: Tensor, indices: Indices): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be 2-D [num, dim], got ${formatShape(weight.shape)}`);
  const { data, shape } = toIndices('embedding', indices);
  checkRange('embedding', data, weight.shape[0], 'rows of the embedding table');
  const rows = indexSelect(weight, 0, data);
  return reshape(rows, [...shape, weight.shape[1]]);
}
