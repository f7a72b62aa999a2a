/**
 * A whole recurrent layer (one direction) as one autograd op, the way
 * torch-rnn and cuDNN do it: the input projection of every time step is one
 * GEMM, the time loop (a recurrent GEMM and a fused pointwise kernel per
 * step) is one backend call each way (Backend.recurrentSequence), and the
 * backward finishes the weight gradients with one GEMM each. Buffers are laid out in processing
 * order k (reversed time for the backward direction), so every step's data
 * is contiguous.
 *
 * The op returns one packed tensor [B, T + S, H] (outputs, then final h, then
 * final c for LSTM) so that a single graph node owns all results; the caller
 * takes views of it with narrow.
 */
import type { Backend, PeepholeStorages, Storage } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { backendOf, empty, uninitialized } from './util.js';
import { narrow, squeeze } from './shape.js';
import type { FusedCell } from './recurrent-step.js';

/** One layer direction's weights, PyTorch's layout: W_ih [G*H, I], W_hh [G*H, H], b_ih and b_hh [G*H] (null: no bias). */
export interface CellWeights {
  /** Input-to-hidden weights [G*H, I] (G gates' rows stacked in PyTorch's order). */
  weightIh: Tensor;
  /** Hidden-to-hidden weights [G*H, H]; null for the scan kinds (minGRU, minLSTM), whose gates read only x. */
  weightHh: Tensor | null;
  /** Input-side bias [G*H], or null for none. */
  biasIh: Tensor | null;
  /** Hidden-side bias [G*H], or null for none (GRU's reset gate scales it, so the two biases differ there). */
  biasHh: Tensor | null;
}

/** An LSTM's peephole weights, each [hidden]: how much the cell state feeds the input, forget and output gates. */
export interface Peepholes {
  /** Cell state to input gate. */
  weightCi: Tensor;
  /** Cell state to forget gate. */
  weightCf: Tensor;
  /** New cell state to output gate. */
  weightCo: Tensor;
}

/**
 * What an LSTM layer direction may add to its equations, after TensorFlow's
 * LSTM: peephole weights, and a constant added to the forget gate's
 * pre-activation (forget_bias; not trained, unlike the biases).
 */
export interface LstmExtras {
  peepholes: Peepholes | null;
  forgetGateOffset: number;
}

/** No peepholes, no offset: PyTorch's LSTM (and what every other kind has). */
export const NO_LSTM_EXTRAS: LstmExtras = { peepholes: null, forgetGateOffset: 0 };

/** Peephole weights by the gate they feed, as the kernels take them. */
export function peepholeTensors(p: Peepholes): { i: Tensor; f: Tensor; o: Tensor } {
  return { i: p.weightCi, f: p.weightCf, o: p.weightCo };
}

export interface RecurrentLayerArgs {
  /** From the registry: fusedCell(kind, nonlinearity) in nn/rnn/kinds.ts. */
  cell: FusedCell;
  /** [B, T, I] */
  x: Tensor;
  /** [B, H] */
  h0: Tensor;
  /** [B, H], for a kind with a cell state (LSTM) only */
  c0: Tensor | null;
  w: CellWeights;
  lengths: readonly number[] | null;
  reverse: boolean;
  /** An LSTM's peepholes and forget-gate offset (default none). */
  lstm?: LstmExtras;
}

/** Copy [B, T, I] (batch-major) into processing order [T, B, I] (reversed in time if `reverse`), or back. */
function toProcessingOrder(bk: Backend, src: Storage, dst: Storage, B: number, T: number, I: number, reverse: boolean, back: boolean): void {
  const major = [reverse ? -I : I, T * I, 1]; // (k, b, i) -> element of the [B, T, I] buffer
  const majorOff = reverse ? (T - 1) * I : 0;
  const proc = [B * I, I, 1];
  if (!back) bk.stridedCopy(src, majorOff, major, dst, 0, proc, [T, B, I], false);
  else bk.stridedCopy(src, 0, proc, dst, majorOff, major, [T, B, I], false);
}

/** A byte per (processing step, row): 1 while t < lengths[b]; null when every row is valid at every step. */
function validMask(lengths: readonly number[] | null, T: number, B: number, timeOf: (k: number) => number): Uint8Array | null {
  if (!lengths || lengths.every((n) => n >= T)) return null;
  const m = new Uint8Array(T * B);
  for (let k = 0; k < T; k++) for (let b = 0; b < B; b++) m[k * B + b] = timeOf(k) < lengths[b] ? 1 : 0;
  return m;
}

export function recurrentLayer(a: RecurrentLayerArgs): { output: Tensor; h: Tensor; c: Tensor | null } {
  const { cell, x, h0, c0, w, lengths, reverse } = a;
  const { kind, cellState } = cell;
  const weightHh = w.weightHh;
  if (!weightHh) throw new Error(`recurrentLayer: a '${kind}' layer needs W_hh`);
  const { peepholes, forgetGateOffset } = a.lstm ?? NO_LSTM_EXTRAS;
  if ((peepholes || forgetGateOffset !== 0) && !cellState) throw new Error(`recurrentLayer: a '${kind}' layer has no peepholes or forget-gate offset`);
  const peep = peepholes ? peepholeTensors(peepholes) : null;
  const params = [w.weightIh, weightHh, ...(w.biasIh ? [w.biasIh] : []), ...(w.biasHh ? [w.biasHh] : []), ...(peep ? [peep.i, peep.f, peep.o] : [])];
  const inputs = [x, h0, ...(c0 ? [c0] : []), ...params];
  const bk = backendOf('recurrentLayer', ...inputs);
  const [B, T, I] = x.shape;
  const H = h0.shape[1];
  const G = cell.gates * H;
  if (w.weightIh.shape[0] !== G || w.weightIh.shape[1] !== I || weightHh.shape[1] !== H) {
    throw new Error(`recurrentLayer: weights ${formatShape(w.weightIh.shape)} / ${formatShape(weightHh.shape)} do not fit input ${I} and hidden ${H}`);
  }
  if (cellState && !c0) throw new Error(`recurrentLayer: a '${kind}' layer needs an initial cell state`);
  if (peep && [peep.i, peep.f, peep.o].some((t) => t.size !== H)) throw new Error(`recurrentLayer: peephole weights must have ${H} entries each`);
  const peepS: PeepholeStorages | null = peep ? { i: peep.i.storage, f: peep.f.storage, o: peep.o.storage } : null;
  const A = cell.actBlocks * H;
  const S = cellState ? 2 : 1;
  const timeOf = (k: number): number => (reverse ? T - 1 - k : k);
  const mm = (
    A_: Storage,
    B_: Storage,
    C_: Storage,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
    offsetA = 0,
    offsetB = 0,
    offsetC = 0,
  ): void => bk.matmul(A_, B_, C_, { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, strideC: 0, accumulate, offsetA, offsetB, offsetC });

  // ---- forward ----
  // buffers the backward needs are tensors saved on the graph node, so tidy and dispose manage them
  const xkT = uninitialized(bk, [T * B, I]);
  const hsT = uninitialized(bk, [T + 1, B, H]);
  const csT = cellState ? uninitialized(bk, [T + 1, B, H]) : null;
  // a row's act past its end is never written, nor read by the backward
  const actT = uninitialized(bk, [Math.max(1, T * B * A)]);
  const xk = xkT.storage,
    hs = hsT.storage,
    cs = csT ? csT.storage : null,
    act = actT.storage;
  toProcessingOrder(bk, x.storage, xk, B, T, I, reverse, false);
  // b_hh goes into every row of gx once here (before W_ih x), not once per step
  const separateGh = !cell.foldsHh;
  const gx = bk.alloc(T * B * G, true);
  const biases = [w.biasIh, separateGh ? null : w.biasHh].filter((b): b is Tensor => b !== null);
  const rowBias = (bias: Storage): void => bk.stridedCopy(bias, 0, [0, 1], gx, 0, [G, 1], [T * B, G], false);
  if (biases.length === 2) {
    // summed first, so the [T*B, G] buffer is written once rather than written and then read back
    const sum = bk.alloc(G, true);
    bk.stridedCopy(biases[0].storage, 0, [1], sum, 0, [1], [G], false);
    bk.stridedCopy(biases[1].storage, 0, [1], sum, 0, [1], [G], true);
    rowBias(sum);
    bk.free(sum);
  } else if (biases.length === 1) rowBias(biases[0].storage);
  mm(xk, w.weightIh.storage, gx, T * B, G, I, false, true, biases.length > 0);
  bk.stridedCopy(h0.storage, 0, [1], hs, 0, [1], [B * H], false);
  if (cs) bk.stridedCopy(c0!.storage, 0, [1], cs, 0, [1], [B * H], false);
  const valid = validMask(lengths, T, B, timeOf);
  // the whole time loop in one backend call: the wasm backend runs each thread's batch rows through every step
  bk.recurrentSequence(kind, {
    T,
    B,
    H,
    gx,
    whh: weightHh.storage,
    biasHh: separateGh && w.biasHh ? w.biasHh.storage : null,
    hs,
    cs,
    act,
    valid,
    peepholes: peepS,
    forgetGateOffset,
  });
  bk.free(gx);

  const packed = uninitialized(bk, [B, T + S, H]);
  const pStride = [(T + S) * H, 1];
  // every step's h in one copy: (k, b, h) of hs[1..T] to (b, timeOf(k), h) of packed
  bk.stridedCopy(hs, B * H, [B * H, H, 1], packed.storage, reverse ? (T - 1) * H : 0, [reverse ? -H : H, (T + S) * H, 1], [T, B, H], false);
  if (valid) for (let k = 0; k < T; k++) for (let b = 0; b < B; b++) if (!valid[k * B + b]) bk.fill(packed.storage, 0, b * (T + S) * H + timeOf(k) * H, H);
  bk.stridedCopy(hs, T * B * H, [H, 1], packed.storage, T * H, pStride, [B, H], false);
  if (cs) bk.stridedCopy(cs, T * B * H, [H, 1], packed.storage, (T + 1) * H, pStride, [B, H], false);

  const savedTensors = [xkT, hsT, ...(csT ? [csT] : []), actT];
  const saved = { xk, hs, cs, act };
  record(
    packed,
    `${kind}Layer`,
    inputs,
    (gP) => {
      // ---- backward through time, in one backend call ----
      const dGx = bk.alloc(T * B * G, true);
      // a kind that folds gh into gx has dGh = dGx
      const dGh = separateGh ? bk.alloc(T * B * G, true) : dGx;
      // the kernel adds every step's and row's share into these
      const dPeep = peepS ? { i: empty(bk, [H]), f: empty(bk, [H]), o: empty(bk, [H]) } : null;
      const dPeepS: PeepholeStorages | null = dPeep ? { i: dPeep.i.storage, f: dPeep.f.storage, o: dPeep.o.storage } : null;
      const gh0 = uninitialized(bk, h0.shape);
      const gc0 = c0 ? uninitialized(bk, c0.shape) : null;
      bk.recurrentSequenceGrad(kind, {
        T,
        B,
        H,
        whh: weightHh.storage,
        hs: saved.hs,
        cs: saved.cs,
        act: saved.act,
        valid,
        gP: gP.storage,
        reverse,
        dGx,
        dGh,
        dh0: gh0.storage,
        dc0: gc0 ? gc0.storage : null,
        peepholes: peepS,
        dPeepholes: dPeepS,
      });
      const grads: (Tensor | null)[] = [];
      // x
      if (x.requiresGrad) {
        const dxk = bk.alloc(T * B * I, true);
        mm(dGx, w.weightIh.storage, dxk, T * B, I, G, false, false, false);
        const gxT = uninitialized(bk, x.shape);
        toProcessingOrder(bk, dxk, gxT.storage, B, T, I, reverse, true);
        bk.free(dxk);
        grads.push(gxT);
      } else grads.push(null);
      // h0, c0
      grads.push(gh0);
      if (gc0) grads.push(gc0);
      // weights: one GEMM each over all steps
      const gWih = uninitialized(bk, w.weightIh.shape);
      mm(dGx, saved.xk, gWih.storage, G, I, T * B, true, false, false);
      const gWhh = uninitialized(bk, weightHh.shape);
      mm(dGh, saved.hs, gWhh.storage, G, H, T * B, true, false, false);
      grads.push(gWih, gWhh);
      let gBiasIh: Tensor | null = null;
      if (w.biasIh) {
        gBiasIh = uninitialized(bk, [G]);
        bk.reduce('sum', dGx, gBiasIh.storage, 1, T * B, G);
        grads.push(gBiasIh);
      }
      if (w.biasHh) {
        const g = uninitialized(bk, [G]);
        // where gh is folded into gx the two bias gradients are one sum over the same buffer
        if (gBiasIh && dGh === dGx) bk.stridedCopy(gBiasIh.storage, 0, [1], g.storage, 0, [1], [G], false);
        else bk.reduce('sum', dGh, g.storage, 1, T * B, G);
        grads.push(g);
      }
      if (dPeep) grads.push(dPeep.i, dPeep.f, dPeep.o);
      for (const s of [dGx, ...(separateGh ? [dGh] : [])]) bk.free(s);
      return grads;
    },
    savedTensors,
  );
  // without a graph (noGrad, or nothing requires grad) nobody needs the saved buffers
  if (!packed.node) for (const t of savedTensors) t.dispose();
  const output = narrow(packed, 1, 0, T);
  const h = squeeze(narrow(packed, 1, T, 1), 1);
  const c = cellState ? squeeze(narrow(packed, 1, T + 1, 1), 1) : null;
  return { output, h, c };
}
