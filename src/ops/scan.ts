/**
 * A whole minGRU / minLSTM layer (one direction) as one autograd op. Their
 * gates read only x_t, so the input projection of every step of every row
 * is one GEMM over [B*T, I] in the input's own batch-major layout, and what
 * is left of the recurrence is one fused scan kernel over [B, T, H]
 * (Backend.scan). The backward is one scan kernel back through time, then
 * one GEMM each for dx and dW_ih.
 *
 * The final h of a row is its output at its last step (t = length - 1, or 0
 * when reversed), so it is recorded as a pick of output rows: its gradient
 * joins the output's, and the scan's one graph node owns the outputs
 * [B, T, H] directly, with no packed tensor to copy in and out of.
 * (recurrentLayer packs [B, T + 1, H] instead, as an LSTM's final c is not
 * among its outputs.)
 */
import type { ScanKind } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { backendOf, empty } from './util.js';

export interface ScanLayerArgs {
  /** The backend kernel (from the registry: CELL_KINDS[kind].scan). */
  kind: ScanKind;
  /** Gate blocks of H stacked in W_ih (minGRU 2, minLSTM 3). */
  gates: number;
  /** [B, T, I], batch-major. */
  x: Tensor;
  /** [B, H] */
  h0: Tensor;
  /** [G*H, I] */
  weightIh: Tensor;
  /** [G*H], or null for none. */
  biasIh: Tensor | null;
  /** Valid length of each row (1..T), or null for all T. */
  lengths: readonly number[] | null;
  /** Run each row from its last valid step back to the first. */
  reverse: boolean;
}

export function scanLayer(a: ScanLayerArgs): { output: Tensor; h: Tensor } {
  const { kind, x, h0, weightIh, biasIh, reverse } = a;
  const inputs = [x, h0, weightIh, ...(biasIh ? [biasIh] : [])];
  const bk = backendOf('scanLayer', ...inputs);
  const [B, T, I] = x.shape;
  const H = h0.shape[1];
  const G = a.gates * H;
  if (weightIh.shape[0] !== G || weightIh.shape[1] !== I || (biasIh && biasIh.shape[0] !== G)) {
    throw new Error(`scanLayer: weights ${formatShape(weightIh.shape)} do not fit input ${I} and ${a.gates} gate blocks of hidden ${H}`);
  }
  if (a.lengths && (a.lengths.length !== B || a.lengths.some((n) => !Number.isInteger(n) || n < 1 || n > T))) {
    throw new Error(`scanLayer: lengths must be ${B} whole numbers from 1 to ${T}, got [${a.lengths.join(', ')}]`);
  }
  const lengths = a.lengths ? Int32Array.from(a.lengths) : null;
  const mm = (
    A_: Tensor['storage'],
    B_: Tensor['storage'],
    C_: Tensor['storage'],
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    acc: boolean,
  ): void => bk.matmul(A_, B_, C_, { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, strideC: 0, accumulate: acc });

  // gx and the outputs are what the backward needs (the gates are recomputed from gx): saved tensors, so tidy manages them
  const gxT = empty(bk, [B * T, G]);
  const output = empty(bk, [B, T, H]);
  const h = empty(bk, [B, H]);
  if (biasIh) bk.stridedCopy(biasIh.storage, 0, [0, 1], gxT.storage, 0, [G, 1], [B * T, G], false);
  mm(x.storage, weightIh.storage, gxT.storage, B * T, G, I, false, true, !!biasIh);
  bk.scan(kind, {
    B,
    T,
    H,
    gx: { s: gxT.storage, off: 0 },
    h0: { s: h0.storage, off: 0 },
    out: { s: output.storage, off: 0 },
    hT: { s: h.storage, off: 0 },
    lengths,
    reverse,
  });

  record(
    output,
    `${kind}Layer`,
    inputs,
    (gOut) => {
      // the final h's gradient has reached gOut through the pick below, so none is left for dhT
      const dhT = bk.alloc(B * H),
        dGx = bk.alloc(B * T * G);
      const gh0 = empty(bk, h0.shape);
      bk.scanGrad(kind, {
        B,
        T,
        H,
        gx: { s: gxT.storage, off: 0 },
        h0: { s: h0.storage, off: 0 },
        out: { s: output.storage, off: 0 },
        dOut: { s: gOut.storage, off: 0 },
        dhT: { s: dhT, off: 0 },
        dGx: { s: dGx, off: 0 },
        dh0: { s: gh0.storage, off: 0 },
        lengths,
        reverse,
      });
      let gx: Tensor | null = null;
      if (x.requiresGrad) {
        gx = empty(bk, x.shape);
        mm(dGx, weightIh.storage, gx.storage, B * T, I, G, false, false, false);
      }
      const gW = empty(bk, weightIh.shape);
      mm(dGx, x.storage, gW.storage, G, I, B * T, true, false, false);
      const grads: (Tensor | null)[] = [gx, gh0, gW];
      if (biasIh) {
        const gb = empty(bk, [G]);
        bk.reduce('sum', dGx, gb.storage, 1, B * T, G);
        grads.push(gb);
      }
      for (const s of [dhT, dGx]) bk.free(s);
      return grads;
    },
    [gxT, output],
  );
  if (!output.node) gxT.dispose();

  // h = the output rows (b, last step of b), which the kernel has also written to h
  const last = Int32Array.from({ length: B }, (_, b) => b * T + (reverse ? 0 : (lengths ? lengths[b] : T) - 1));
  record(h, `${kind}FinalH`, [output], (gy) => {
    const g = empty(bk, [B, T, H]);
    bk.scatterAdd(gy.storage, last, g.storage, 1, B * T, H);
    return [g];
  });
  return { output, h };
}
