/**
 * A recurrent layer's time loop written with a backend's primitives: one
 * recurrent GEMM and one fused step kernel per time step, forward, and the
 * same backward. It is the js backend's recurrentSequence and
 * recurrentSequenceGrad, the plain twin that the conformance suite compares
 * the wasm backend's one-call kernels against, and what the wasm backend
 * runs when splitting each step's GEMM over threads beats splitting the batch.
 */
import type { Backend, RecurrentKind, RecurrentSequenceArgs, RecurrentSequenceGradArgs, Storage, View } from './backend.js';

/** How a fused kind's buffers are laid out, as its step kernels read them (the registry, nn/rnn/kinds.ts, says the same for layers). */
export interface RecurrentLayout {
  /** Gate blocks of H per row of gx and gh (G = gates * H). */
  gates: number;
  /** Blocks of H per row that a step saves for its backward. */
  actBlocks: number;
  /** Carries a cell state c. */
  cellState: boolean;
  /** Keeps W_hh h + b_hh apart from gx (GRU's reset gate scales part of it). */
  separateGh: boolean;
}

export function recurrentLayout(kind: RecurrentKind): RecurrentLayout {
  const gates = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  return { gates, actBlocks: gates > 1 ? 4 : 0, cellState: kind === 'lstm', separateGh: kind === 'gru' };
}

const v = (s: Storage, off: number): View => ({ s, off });

function rowMask(valid: Uint8Array | null, k: number, B: number): Uint8Array | null {
  return valid ? valid.subarray(k * B, (k + 1) * B) : null;
}

export function recurrentSequenceLoop(bk: Backend, kind: RecurrentKind, a: RecurrentSequenceArgs): void {
  const { T, B, H } = a;
  const L = recurrentLayout(kind);
  const G = L.gates * H,
    A = L.actBlocks * H;
  // W_hh transposed once per sequence, so each step's GEMM reads its rows in place
  const whhT = bk.alloc(H * G);
  bk.stridedCopy(a.whh, 0, [1, H], whhT, 0, [G, 1], [H, G], false);
  const gh = L.separateGh ? bk.alloc(B * G) : null;
  for (let k = 0; k < T; k++) {
    const hPrev = v(a.hs, k * B * H);
    const gxk = v(a.gx, k * B * G);
    const mm = (dst: View, accumulate: boolean): void =>
      bk.matmul(a.hs, whhT, dst.s, {
        batch: 1,
        m: B,
        n: G,
        k: H,
        transA: false,
        transB: false,
        strideA: 0,
        strideB: 0,
        strideC: 0,
        accumulate,
        offsetA: hPrev.off,
        offsetB: 0,
        offsetC: dst.off,
      });
    if (gh) {
      if (a.biasHh) bk.stridedCopy(a.biasHh, 0, [0, 1], gh, 0, [G, 1], [B, G], false);
      mm(v(gh, 0), !!a.biasHh);
    } else mm(gxk, true);
    bk.recurrentStep(kind, {
      B,
      H,
      gx: gxk,
      gh: gh ? v(gh, 0) : null,
      hPrev,
      hOut: v(a.hs, (k + 1) * B * H),
      cPrev: a.cs ? v(a.cs, k * B * H) : null,
      cOut: a.cs ? v(a.cs, (k + 1) * B * H) : null,
      act: v(a.act, k * B * A),
      valid: rowMask(a.valid, k, B),
      peepholes: a.peepholes ?? null,
      forgetGateOffset: a.forgetGateOffset ?? 0,
    });
  }
  if (gh) bk.free(gh);
  bk.free(whhT);
}

export function recurrentSequenceGradLoop(bk: Backend, kind: RecurrentKind, a: RecurrentSequenceGradArgs): void {
  const { T, B, H } = a;
  const L = recurrentLayout(kind);
  const G = L.gates * H,
    A = L.actBlocks * H;
  const S = L.cellState ? 2 : 1;
  const pStride = [(T + S) * H, 1];
  let dh = bk.alloc(B * H),
    dhNext = bk.alloc(B * H);
  let dc = L.cellState ? bk.alloc(B * H) : null,
    dcNext = L.cellState ? bk.alloc(B * H) : null;
  bk.stridedCopy(a.gP, T * H, pStride, dh, 0, [H, 1], [B, H], false);
  if (dc) bk.stridedCopy(a.gP, (T + 1) * H, pStride, dc, 0, [H, 1], [B, H], false);
  for (let k = T - 1; k >= 0; k--) {
    const t = a.reverse ? T - 1 - k : k;
    const m = rowMask(a.valid, k, B);
    // the output y_t is h_t on valid rows (a constant zero elsewhere)
    if (!m) bk.stridedCopy(a.gP, t * H, pStride, dh, 0, [H, 1], [B, H], true);
    else for (let b = 0; b < B; b++) if (m[b]) bk.stridedCopy(a.gP, b * (T + S) * H + t * H, [1], dh, b * H, [1], [H], true);
    bk.recurrentStepGrad(kind, {
      B,
      H,
      act: v(a.act, k * B * A),
      hPrev: v(a.hs, k * B * H),
      hOut: v(a.hs, (k + 1) * B * H),
      cPrev: a.cs ? v(a.cs, k * B * H) : null,
      cOut: a.cs ? v(a.cs, (k + 1) * B * H) : null,
      dh: v(dh, 0),
      dc: dc ? v(dc, 0) : null,
      dGx: v(a.dGx, k * B * G),
      dGh: v(a.dGh, k * B * G),
      dhPrev: v(dhNext, 0),
      dcPrev: dcNext ? v(dcNext, 0) : null,
      valid: m,
      peepholes: a.peepholes ?? null,
      dPeepholes: a.dPeepholes ?? null,
    });
    // dL/dh_{k-1} += dGh_k · W_hh
    bk.matmul(a.dGh, a.whh, dhNext, {
      batch: 1,
      m: B,
      n: H,
      k: G,
      transA: false,
      transB: false,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      accumulate: true,
      offsetA: k * B * G,
      offsetB: 0,
      offsetC: 0,
    });
    [dh, dhNext] = [dhNext, dh];
    if (dc) [dc, dcNext] = [dcNext!, dc];
  }
  bk.stridedCopy(dh, 0, [1], a.dh0, 0, [1], [B * H], false);
  if (dc && a.dc0) bk.stridedCopy(dc, 0, [1], a.dc0, 0, [1], [B * H], false);
  for (const s of [dh, dhNext, ...(dc ? [dc, dcNext!] : [])]) bk.free(s);
}
