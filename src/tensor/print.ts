/** Human-readable printing, abbreviated for big tensors. */
import type { Tensor } from './tensor.js';
import { formatShape } from './shape.js';

const EDGE = 3;
const MAX_FULL = 1000;

function fmt(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return v.toFixed(0);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : v.toFixed(4);
}

export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return `Tensor(${formatShape(t.shape)}, disposed)`;
  const d = t.data;
  const shape = t.shape;
  const abbreviate = t.size > MAX_FULL;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return fmt(d[offset]);
    const n = shape[dim];
    const idxs: (number | null)[] = [];
    if (abbreviate && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idxs.push(i);
      idxs.push(null);
      for (let i = n - EDGE; i < n; i++) idxs.push(i);
    } else {
      for (let i = 0; i < n; i++) idxs.push(i);
    }
    const parts = idxs.map((i) => (i === null ? '...' : rec(dim + 1, offset + i * strides[dim], indent + ' ')));
    const sep = dim === shape.length - 1 ? ', ' : ',\n' + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  const grad = t.requiresGrad ? ', requiresGrad' : '';
  return `Tensor(${formatShape(shape)}${grad})\n${rec(0, 0, '')}`;
}
