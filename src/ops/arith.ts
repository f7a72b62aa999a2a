/** Elementwise arithmetic with NumPy broadcasting: add, sub, mul, div, neg, pow by a scalar. */
import type { BinaryOp } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, sameShape, stridesOf } from '../tensor/shape.js';
import { asTensor, backendOf, empty, sumTo } from './util.js';

/** Forward of a broadcasting binary op (no graph). */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const backend = backendOf(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(backend, shape);
  const sa = sameShape(a.shape, shape) ? stridesOf(shape) : broadcastStrides(a.shape, shape);
  const sb = sameShape(b.shape, shape) ? stridesOf(shape) : broadcastStrides(b.shape, shape);
  backend.binary(op, a.storage, sa, b.storage, sb, out.storage, shape);
  return out;
}

/** `x + y` elementwise; shapes broadcast as in NumPy, and a number acts as a scalar tensor. */
export function add(x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = operands(x, y);
  const out = binaryRaw('add', a, b);
  return record(out, 'add', [a, b], (gy) => [a.requiresGrad ? sumTo(gy, a.shape) : null, b.requiresGrad ? sumTo(gy, b.shape) : null]);
}

/** `x - y` elementwise, broadcasting (`sub(1, p)` is 1 - p). */
export function sub(x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = operands(x, y);
  const out = binaryRaw('sub', a, b);
  return record(out, 'sub', [a, b], (gy) => [a.requiresGrad ? sumTo(gy, a.shape) : null, b.requiresGrad ? negRaw(sumTo(gy, b.shape), gy) : null]);
}

/** `x * y` elementwise (not a matrix product: see `matmul`), broadcasting. */
export function mul(x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = operands(x, y);
  const out = binaryRaw('mul', a, b);
  return record(
    out,
    'mul',
    [a, b],
    (gy) => [a.requiresGrad ? reduceTemp(binaryRaw('mul', gy, b), a.shape) : null, b.requiresGrad ? reduceTemp(binaryRaw('mul', gy, a), b.shape) : null],
    [a, b],
  );
}

/** `x / y` elementwise, broadcasting. */
export function div(x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = operands(x, y);
  const out = binaryRaw('div', a, b);
  return record(
    out,
    'div',
    [a, b],
    (gy) => {
      const ga = a.requiresGrad ? reduceTemp(binaryRaw('div', gy, b), a.shape) : null;
      let gb: Tensor | null = null;
      if (b.requiresGrad) {
        // d(a/b)/db = -(a/b)/b = -out/b
        const q = binaryRaw('div', out, b);
        const t = binaryRaw('mul', gy, q);
        q.dispose();
        const r = reduceTemp(t, b.shape);
        gb = negRaw(r);
        r.dispose();
      }
      return [ga, gb];
    },
    [a, b, out],
  );
}

/** `-a` elementwise. */
export function neg(a: Tensor): Tensor {
  const out = negRaw(a);
  return record(out, 'neg', [a], (gy) => [negRaw(gy)]);
}

/** x ** p for a scalar exponent p. */
export function pow(a: Tensor, p: number): Tensor {
  if (!Number.isFinite(p)) throw new Error(`pow: exponent must be a finite number, got ${p}`);
  const backend = a.backend;
  const out = empty(backend, a.shape);
  backend.powScalar(a.storage, out.storage, a.size, p);
  return record(
    out,
    'pow',
    [a],
    (gy) => {
      const gx = empty(backend, a.shape);
      backend.powScalarGrad(a.storage, gy.storage, gx.storage, a.size, p);
      return [gx];
    },
    [a],
  );
}

/** x * scale + shift without a graph: a building block for backwards. */
export function affineRaw(a: Tensor, scale: number, shift = 0): Tensor {
  const out = empty(a.backend, a.shape);
  a.backend.affine(a.storage, out.storage, a.size, scale, shift);
  return out;
}

/** -x, disposing `tmp` if it is a temporary distinct from the caller's gradient. */
function negRaw(a: Tensor, keepAlive?: Tensor): Tensor {
  const out = empty(a.backend, a.shape);
  a.backend.unary('neg', a.storage, out.storage, a.size);
  if (keepAlive && a !== keepAlive) a.dispose();
  return out;
}

/** sumTo that frees the full-size temporary when it had to reduce. */
function reduceTemp(t: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(t, shape);
  if (r !== t) t.dispose();
  return r;
}

function operands(x: Tensor | number, y: Tensor | number): [Tensor, Tensor] {
  if (typeof x === 'number' && typeof y === 'number') {
    throw new Error('arithmetic: at least one operand must be a tensor');
  }
  const a = typeof x === 'number' ? asTensor(x, y as Tensor) : x;
  const b = typeof y === 'number' ? asTensor(y, a) : y;
  return [a, b];
}
