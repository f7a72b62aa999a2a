/**
 * y = x · Wᵀ + b with W in PyTorch's [out, in] layout. One op rather than
 * transpose + matmul + add, so no transposed copy of W is ever made: the
 * forward is the A·Bᵀ GEMM layout, the backward A·B (for x) and Aᵀ·B (for W).
 */
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape, stridesOf } from '../tensor/shape.js';
import { backendOf, uninitialized } from './util.js';

/** `x · weightᵀ + bias` for `x` [..., in], `weight` [out, in] and `bias` [out], as a `Linear` layer computes it. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const backend = bias ? backendOf('linear', x, weight, bias) : backendOf('linear', x, weight);
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: input ${formatShape(x.shape)} x weight ${formatShape(weight.shape)}: input features ${x.shape[x.rank - 1]} and ${inF} differ`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias ${formatShape(bias.shape)} does not match ${outF} output features`);
  }
  const rows = x.size / inF;
  const shape = [...x.shape.slice(0, -1), outF];
  const out = uninitialized(backend, shape);
  if (bias) {
    // start from the bias broadcast over rows, then accumulate the product into it
    backend.stridedCopy(bias.storage, 0, [0, 1], out.storage, 0, stridesOf([rows, outF]), [rows, outF], false);
  }
  backend.matmul(x.storage, weight.storage, out.storage, {
    batch: 1,
    m: rows,
    n: outF,
    k: inF,
    transA: false,
    transB: true,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    accumulate: !!bias,
  });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(
    out,
    'linear',
    inputs,
    (gy) => {
      let gx: Tensor | null = null,
        gw: Tensor | null = null,
        gb: Tensor | null = null;
      if (x.requiresGrad) {
        gx = uninitialized(backend, x.shape);
        backend.matmul(gy.storage, weight.storage, gx.storage, {
          batch: 1,
          m: rows,
          n: inF,
          k: outF,
          transA: false,
          transB: false,
          strideA: 0,
          strideB: 0,
          strideC: 0,
          accumulate: false,
        });
      }
      if (weight.requiresGrad) {
        gw = uninitialized(backend, weight.shape);
        backend.matmul(gy.storage, x.storage, gw.storage, {
          batch: 1,
          m: outF,
          n: inF,
          k: rows,
          transA: true,
          transB: false,
          strideA: 0,
          strideB: 0,
          strideC: 0,
          accumulate: false,
        });
      }
      if (bias && bias.requiresGrad) {
        gb = uninitialized(backend, bias.shape);
        backend.reduce('sum', gy.storage, gb.storage, 1, rows, outF);
      }
      return bias ? [gx, gw, gb] : [gx, gw];
    },
    [x, weight],
  );
}
