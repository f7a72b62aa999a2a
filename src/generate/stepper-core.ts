/**
 * Batch-1 inference for a language model, one token at a time, on plain backend
 * storages: a handful of kernel calls per step on buffers made once, no
 * tensors or graph. `LMStepper` (stepper.ts) runs it on a LanguageModel's
 * parameters; the embeddable sampler runs it on weights read straight from a
 * checkpoint, on the js backend. No tensor imports, so it bundles small.
 */
import type { Backend, Storage } from '../backend/backend.js';
import { isScanCell, recurrentLayerStep, scanLayerStep, type LayerCell, type LayerStepArgs } from '../ops/recurrent-step.js';

/** One recurrent layer's weights in PyTorch's layout: W_ih [G*H, in], W_hh [G*H, H] (none for a scan kind), biases [G*H]. */
export interface StepperLayer {
  weightIh: Storage;
  inputSize: number;
  weightHh: Storage | null;
  biasIh: Storage | null;
  biasHh: Storage | null;
}

export interface StepperWeights {
  backend: Backend;
  /** From the registry: layerCell(kind, nonlinearity) in nn/rnn/kinds.ts. */
  cell: LayerCell;
  vocabSize: number;
  hidden: number;
  /** 0: one-hot input. */
  embed: number;
  embedding: Storage | null;
  layers: StepperLayer[];
  headWeight: Storage;
  headBias: Storage | null;
}

function needHh(s: Storage | null): Storage {
  if (!s) throw new Error('StepperCore: a step-kind layer needs weight_hh');
  return s;
}

export class StepperCore {
  /** @internal The backend holding the buffers. */
  protected readonly bk: Backend;
  /** @internal Vocabulary size. */
  protected readonly V: number;
  /** @internal Hidden size. */
  protected readonly H: number;
  /** @internal Layers. */
  protected readonly L: number;
  private readonly G: number;
  private readonly x: Storage; // the embedded input
  /** @internal Each layer's h (ping-pong with hNext). */
  protected h: Storage[];
  private hNext: Storage[];
  /** @internal Each layer's c, for a kind with a cell state. */
  protected c: Storage[] | null;
  private cNext: Storage[] | null;
  private readonly gx: Storage;
  private readonly gh: Storage | null;
  private readonly act: Storage;
  private readonly logits: Storage;
  // one argument object per layer, made once; step() points its h/c views at this step's buffers
  private readonly stepArgs: LayerStepArgs[] | null;
  private disposed = false;

  constructor(private readonly w: StepperWeights) {
    const { vocabSize, hidden, cell } = w;
    const layers = w.layers.length;
    this.bk = w.backend;
    this.V = vocabSize;
    this.H = hidden;
    this.L = layers;
    this.G = cell.gates * hidden;
    const bk = this.bk;
    this.x = bk.alloc(Math.max(1, w.embed));
    this.h = Array.from({ length: layers }, () => bk.alloc(hidden));
    this.hNext = Array.from({ length: layers }, () => bk.alloc(hidden));
    this.c = cell.cellState ? Array.from({ length: layers }, () => bk.alloc(hidden)) : null;
    this.cNext = cell.cellState ? Array.from({ length: layers }, () => bk.alloc(hidden)) : null;
    this.gx = bk.alloc(this.G);
    this.gh = isScanCell(cell) || cell.foldsHh ? null : bk.alloc(this.G);
    // a scan step writes its (unused) output sequence of one here
    this.act = bk.alloc(Math.max(isScanCell(cell) ? hidden : 1, isScanCell(cell) ? 0 : cell.actBlocks * hidden));
    this.logits = bk.alloc(vocabSize);
    this.stepArgs = isScanCell(cell)
      ? null
      : w.layers.map((lw, l) => ({
          B: 1,
          H: hidden,
          whh: needHh(lw.weightHh),
          whhTransposed: false,
          biasHh: lw.biasHh,
          biasHhInGx: false,
          gx: { s: this.gx, off: 0 },
          gh: this.gh,
          hPrev: { s: this.h[l], off: 0 },
          cPrev: this.c ? { s: this.c[l], off: 0 } : null,
          hOut: { s: this.hNext[l], off: 0 },
          cOut: this.cNext ? { s: this.cNext[l], off: 0 } : null,
          act: { s: this.act, off: 0 },
          valid: null,
        }));
  }

  /** Start from zeros, or from a state given as [layers * H] arrays. */
  resetArrays(state?: { h: Float32Array; c?: Float32Array }): void {
    for (let l = 0; l < this.L; l++) {
      if (state) {
        this.bk.write(this.h[l], state.h.subarray(l * this.H, (l + 1) * this.H));
        if (this.c && state.c) this.bk.write(this.c[l], state.c.subarray(l * this.H, (l + 1) * this.H));
      } else {
        this.bk.fill(this.h[l], 0);
        if (this.c) this.bk.fill(this.c[l], 0);
      }
    }
  }

  /** Feed one token id; returns the next token's logits (a view, valid until the next call). */
  step(id: number): Float32Array {
    if (this.disposed) throw new Error('LMStepper: used after dispose()');
    if (!(Number.isInteger(id) && id >= 0 && id < this.V)) throw new Error(`LMStepper: id ${id} is outside the vocabulary of ${this.V}`);
    const { bk, H, G, w } = this;
    const mm = (a: Storage, b: Storage, c: Storage, n: number, k: number, accumulate: boolean, transB = true): void =>
      bk.matmul(a, b, c, { batch: 1, m: 1, n, k, transA: false, transB, strideA: 0, strideB: 0, strideC: 0, accumulate });
    const copy = (src: Storage, dst: Storage, n: number, srcOff = 0, srcStride = 1, accumulate = false): void =>
      bk.stridedCopy(src, srcOff, [srcStride], dst, 0, [1], [n], accumulate);

    let input: Storage | null = null;
    if (w.embedding) {
      copy(w.embedding, this.x, w.embed, id * w.embed);
      input = this.x;
    }
    for (let l = 0; l < this.L; l++) {
      const lw = w.layers[l];
      const I = lw.inputSize;
      // gx = b_ih + W_ih x; the shared step adds the recurrent part
      if (input) {
        if (lw.biasIh) copy(lw.biasIh, this.gx, G);
        mm(input, lw.weightIh, this.gx, G, I, !!lw.biasIh);
      } else {
        // one-hot input: W_ih x is column `id` of W_ih
        copy(lw.weightIh, this.gx, G, id, I);
        if (lw.biasIh) copy(lw.biasIh, this.gx, G, 0, 1, true);
      }
      const cell = w.cell;
      if (isScanCell(cell)) {
        scanLayerStep(bk, cell, H, { s: this.gx, off: 0 }, { s: this.h[l], off: 0 }, { s: this.hNext[l], off: 0 }, { s: this.act, off: 0 });
        [this.h[l], this.hNext[l]] = [this.hNext[l], this.h[l]];
        input = this.h[l];
        continue;
      }
      const args = this.stepArgs![l];
      args.hPrev.s = this.h[l];
      args.hOut.s = this.hNext[l];
      if (this.c && this.cNext) {
        args.cPrev!.s = this.c[l];
        args.cOut!.s = this.cNext[l];
      }
      recurrentLayerStep(bk, cell, args);
      [this.h[l], this.hNext[l]] = [this.hNext[l], this.h[l]];
      if (this.c && this.cNext) [this.c[l], this.cNext[l]] = [this.cNext[l], this.c[l]];
      input = this.h[l];
    }
    if (w.headBias) copy(w.headBias, this.logits, this.V);
    mm(input!, w.headWeight, this.logits, this.V, H, !!w.headBias);
    return bk.read(this.logits).subarray(0, this.V) as Float32Array;
  }

  /** The current state as [layers * H] arrays (copies). */
  stateArrays(): {
    /** Each layer's hidden state, layer after layer. */
    h: Float32Array;
    /** Each layer's cell state, for an LSTM. */
    c?: Float32Array;
  } {
    const cat = (bufs: Storage[]): Float32Array => {
      const out = new Float32Array(this.L * this.H);
      bufs.forEach((s, l) => out.set(this.bk.read(s).subarray(0, this.H), l * this.H));
      return out;
    };
    return this.c ? { h: cat(this.h), c: cat(this.c) } : { h: cat(this.h) };
  }

  /** Free the buffers (on the wasm backend they are not garbage-collected); the stepper cannot step afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of [this.x, ...this.h, ...this.hNext, ...(this.c ?? []), ...(this.cNext ?? []), this.gx, this.act, this.logits]) this.bk.free(s);
    if (this.gh) this.bk.free(this.gh);
  }
}
