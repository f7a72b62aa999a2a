/**
 * Matrix products: 2-D x 2-D, batched 3-D x 3-D (a batch of 1 broadcasts),
 * and 3-D x 2-D (a shared weight, folded into one big 2-D product).
 * The backward uses the transposed layouts A·Bᵀ and Aᵀ·B directly instead of
 * materialising transposes.
 */
import type { Backend } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { backendOf, sumTo, uninitialized } from './util.js';

interface Plan {
  batch: number;
  m: number;
  k: number;
  n: number;
  aBatched: boolean;
  bBatched: boolean;
  outShape: number[];
}

function plan(a: Tensor, b: Tensor): Plan {
  const op = 'matmul';
  const as = a.shape,
    bs = b.shape;
  if (as.length < 2 || as.length > 3 || bs.length < 2 || bs.length > 3) {
    throw new Error(`${op}: ${formatShape(as)} x ${formatShape(bs)}: both operands must be 2-D or 3-D`);
  }
  const m = as[as.length - 2],
    k = as[as.length - 1];
  const k2 = bs[bs.length - 2],
    n = bs[bs.length - 1];
  if (k !== k2) {
    throw new Error(`${op}: ${formatShape(as)} x ${formatShape(bs)}: inner dimensions ${k} and ${k2} differ`);
  }
  const ba = as.length === 3 ? as[0] : 1;
  const bb = bs.length === 3 ? bs[0] : 1;
  if (as.length === 3 && bs.length === 3 && ba !== bb && ba !== 1 && bb !== 1) {
    throw new Error(`${op}: ${formatShape(as)} x ${formatShape(bs)}: batch dimensions ${ba} and ${bb} differ`);
  }
  const batch = Math.max(ba, bb);
  const outShape = as.length === 2 && bs.length === 2 ? [m, n] : [batch, m, n];
  return { batch, m, k, n, aBatched: as.length === 3 && ba === batch, bBatched: bs.length === 3 && bb === batch, outShape };
}

function gemm(
  backend: Backend,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
): void {
  backend.matmul(a.storage, b.storage, c.storage, {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    strideA,
    strideB,
    strideC: m * n,
    accumulate: false,
  });
}

/**
 * Matrix product: [m, k] x [k, n] -> [m, n], or batched [B, m, k] x [B, k, n]
 * -> [B, m, n] where either side may be 2-D (shared by the batch) or have a
 * batch of 1.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const backend = backendOf('matmul', a, b);
  const p = plan(a, b);
  const { m, k, n } = p;
  // [B, m, k] x [k, n]: one product with M = B*m
  if (a.rank === 3 && b.rank === 2) {
    const rows = a.shape[0] * m;
    const out = uninitialized(backend, [a.shape[0], m, n]);
    gemm(backend, a, b, out, 1, rows, n, k, false, false, 0, 0);
    return record(
      out,
      'matmul',
      [a, b],
      (gy) => {
        let ga: Tensor | null = null,
          gb: Tensor | null = null;
        if (a.requiresGrad) {
          ga = uninitialized(backend, a.shape);
          gemm(backend, gy, b, ga, 1, rows, k, n, false, true, 0, 0); // gy · Bᵀ
        }
        if (b.requiresGrad) {
          gb = uninitialized(backend, b.shape);
          gemm(backend, a, gy, gb, 1, k, n, rows, true, false, 0, 0); // Aᵀ · gy
        }
        return [ga, gb];
      },
      [a, b],
    );
  }
  const { batch } = p;
  const sA = p.aBatched ? m * k : 0;
  const sB = p.bBatched ? k * n : 0;
  const out = uninitialized(backend, p.outShape);
  gemm(backend, a, b, out, batch, m, n, k, false, false, sA, sB);
  return record(
    out,
    'matmul',
    [a, b],
    (gy) => {
      let ga: Tensor | null = null,
        gb: Tensor | null = null;
      if (a.requiresGrad) {
        // per-batch gy · Bᵀ, then sum over the batch if A was broadcast
        const full = uninitialized(backend, batch > 1 && !p.aBatched ? [batch, m, k] : a.shape);
        gemm(backend, gy, b, full, batch, m, k, n, false, true, m * n, sB);
        ga = sameShape(full.shape, a.shape) ? full : reduceBatch(full, a.shape);
      }
      if (b.requiresGrad) {
        const full = uninitialized(backend, batch > 1 && !p.bBatched ? [batch, k, n] : b.shape);
        gemm(backend, a, gy, full, batch, k, n, m, true, false, sA, m * n);
        gb = sameShape(full.shape, b.shape) ? full : reduceBatch(full, b.shape);
      }
      return [ga, gb];
    },
    [a, b],
  );
}

function reduceBatch(full: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(full, shape);
  if (r !== full) full.dispose();
  return r;
}
