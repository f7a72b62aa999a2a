/**
 * One recurrent layer step on plain storages, shared by the training op
 * (recurrent.ts, a whole batch per step) and the batch-1 stepper
 * (generate/stepper-core.ts). It imports no tensors, so the embeddable
 * sampler bundles it without the autograd.
 */
import type { Backend, PeepholeStorages, RecurrentKind, ScanKind, Storage, View } from '../backend/backend.js';

/**
 * What a storage-level step needs to know of a cell kind. The registry
 * (nn/rnn/kinds.ts) makes these; this layer cannot import it, so it names
 * only the fields it reads.
 */
export interface FusedCell {
  /** The backend kernel. */
  kind: RecurrentKind;
  /** Gate blocks of H stacked in W_ih / W_hh. */
  gates: number;
  /** Blocks of H per batch row the kernel saves for its backward (0: none). */
  actBlocks: number;
  /** Carries a cell state c besides h. */
  cellState: boolean;
  /**
   * The gates are gx + gh, so b_hh and W_hh h may be added straight into gx;
   * false when the kernel needs gh on its own (GRU scales W_hn h + b_hn by r).
   */
  foldsHh: boolean;
}

/** What the batch-1 stepper needs of a scan kind (minGRU, minLSTM): its kernel and gate blocks. */
export interface ScanCell {
  scan: ScanKind;
  /** Gate blocks of H stacked in W_ih. */
  gates: number;
  cellState: false;
}

/** A layer's cell as the stepper runs it: a fused step, or a scan of length one. */
export type LayerCell = FusedCell | ScanCell;

export function isScanCell(c: LayerCell): c is ScanCell {
  return 'scan' in c;
}

/** One step of a scan layer for a batch of one: h' from gx = W_ih x + b_ih and h (hT may not alias hPrev). */
export function scanLayerStep(bk: Backend, cell: ScanCell, H: number, gx: View, hPrev: View, hOut: View, scratch: View): void {
  bk.scan(cell.scan, { B: 1, T: 1, H, gx, h0: hPrev, out: scratch, hT: hOut, lengths: null, reverse: false });
}

export interface LayerStepArgs {
  B: number;
  H: number;
  /** W_hh [G*H, H], or its transpose [H, G*H] when `whhTransposed`. */
  whh: Storage;
  whhTransposed: boolean;
  biasHh: Storage | null;
  /** b_hh is already in every row of gx (the caller added it once for the whole sequence). */
  biasHhInGx: boolean;
  /** [B, G*H] holding W_ih x + b_ih; gets W_hh h (+ b_hh) too when the cell folds them in. */
  gx: View;
  /** [B, G*H] scratch for W_hh h + b_hh when the cell keeps it apart; else unused. */
  gh: Storage | null;
  hPrev: View;
  hOut: View;
  cPrev: View | null;
  cOut: View | null;
  act: View;
  valid: Uint8Array | null;
  /** An LSTM's peepholes, or null. */
  peepholes: PeepholeStorages | null;
  /** An LSTM's constant on the forget gate's pre-activation (0: none). */
  forgetGateOffset: number;
}

/** The recurrent GEMM, b_hh, and the fused pointwise kernel of one step. */
export function recurrentLayerStep(bk: Backend, cell: FusedCell, a: LayerStepArgs): void {
  // no closures or per-call objects beyond the kernels' own arguments: the
  // batch-1 stepper calls this once per layer per character (~10 us each)
  let gh: View | null = null;
  if (cell.foldsHh) {
    if (a.biasHh && !a.biasHhInGx) rowBias(bk, cell, a, a.gx, true);
    recurrentMm(bk, cell, a, a.gx, true);
  } else {
    if (!a.gh) throw new Error(`recurrentLayerStep: a '${cell.kind}' step needs a gh buffer`);
    gh = { s: a.gh, off: 0 };
    if (a.biasHh) rowBias(bk, cell, a, gh, false);
    recurrentMm(bk, cell, a, gh, !!a.biasHh);
  }
  bk.recurrentStep(cell.kind, {
    B: a.B,
    H: a.H,
    gx: a.gx,
    gh,
    hPrev: a.hPrev,
    hOut: a.hOut,
    cPrev: a.cPrev,
    cOut: a.cOut,
    act: a.act,
    valid: a.valid,
    peepholes: a.peepholes,
    forgetGateOffset: a.forgetGateOffset,
  });
}

/** dst (+)= hPrev W_hh^T. */
function recurrentMm(bk: Backend, cell: FusedCell, a: LayerStepArgs, dst: View, accumulate: boolean): void {
  bk.matmul(a.hPrev.s, a.whh, dst.s, {
    batch: 1,
    m: a.B,
    n: cell.gates * a.H,
    k: a.H,
    transA: false,
    transB: !a.whhTransposed,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    accumulate,
    offsetA: a.hPrev.off,
    offsetB: 0,
    offsetC: dst.off,
  });
}

/** b_hh into (or onto) every row of dst. */
function rowBias(bk: Backend, cell: FusedCell, a: LayerStepArgs, dst: View, accumulate: boolean): void {
  const G = cell.gates * a.H;
  bk.stridedCopy(a.biasHh!, 0, [0, 1], dst.s, dst.off, [G, 1], [a.B, G], accumulate);
}
