/** Small helpers every op uses: checking backends, allocating outputs, un-broadcasting gradients. */
import type { Backend } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape, sizeOf, type Shape } from '../tensor/shape.js';

/** All tensors of one op must live on the same backend. */
export function backendOf(op: string, ...ts: Tensor[]): Backend {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) {
      throw new Error(`${op}: tensors are on different backends (${b.name} and ${t.backend.name}); move them with toBackend()`);
    }
  }
  return b;
}

/** A new zero-filled tensor on `backend`. */
export function empty(backend: Backend, shape: Shape): Tensor {
  return Tensor.fromStorage(backend.alloc(sizeOf(shape)), shape, backend);
}

/** A tensor for an op that writes every element before anything reads it (GEMM outputs, gathers, copies): not zeroed first. */
export function uninitialized(backend: Backend, shape: Shape): Tensor {
  return Tensor.fromStorage(backend.alloc(sizeOf(shape), true), shape, backend);
}

/** A number becomes a rank-0 tensor on the other operand's backend. */
export function asTensor(x: Tensor | number, like: Tensor): Tensor {
  if (typeof x === 'number') return Tensor.fromStorage(like.backend.fromValues([x]), [], like.backend);
  return x;
}

/**
 * Sum a gradient computed at a broadcast shape back down to the shape of the
 * input that was broadcast: over leading dims it lacked and dims where it had 1.
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const backend = g.backend;
  let cur = g;
  let curShape = [...g.shape];
  const lead = curShape.length - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${formatShape(g.shape)} to ${formatShape(shape)}`);
  // reduce the leading dims in one go: view as [1, prod(lead), rest]
  if (lead > 0) {
    const n = sizeOf(curShape.slice(0, lead));
    const inner = sizeOf(curShape.slice(lead));
    const out = empty(backend, curShape.slice(lead));
    backend.reduce('sum', cur.storage, out.storage, 1, n, inner);
    cur = out;
    curShape = curShape.slice(lead);
  }
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1 && curShape[d] !== 1) {
      const outer = sizeOf(curShape.slice(0, d));
      const inner = sizeOf(curShape.slice(d + 1));
      const nextShape = [...curShape];
      nextShape[d] = 1;
      const out = empty(backend, nextShape);
      backend.reduce('sum', cur.storage, out.storage, outer, curShape[d], inner);
      if (cur !== g) cur.dispose();
      cur = out;
      curShape = nextShape;
    }
  }
  return cur;
}
