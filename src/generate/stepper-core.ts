/**
 * Batch-1 inference for a language model, one token at a time, on plain backend
 * storages: a handful of kernel calls per step on buffers made once, no
 * tensors or graph. `LMStepper` (stepper.ts) runs it on a LanguageModel's
 * parameters; the embeddable sampler runs it on weights read straight from a
 * checkpoint, on the js backend. No tensor imports, so it bundles small.
 * Both forms of the model: a plain stack, and residual blocks (RMSNorm, the
 * cell, the GELU feed-forward: the same storage-level forwards the ops run,
 * ops/norm-gelu-core.ts).
 */
import type { Backend, PeepholeStorages, Storage } from '../backend/backend.js';
import { isScanCell, recurrentLayerStep, scanLayerStep, type LayerCell, type LayerStepArgs } from '../ops/recurrent-step.js';
import { geluForward, rmsNormForward } from '../ops/norm-gelu-core.js';

/** One recurrent layer's weights in PyTorch's layout: W_ih [G*H, in], W_hh [G*H, H] (none for a scan kind), biases [G*H]. */
export interface StepperLayer {
  weightIh: Storage;
  inputSize: number;
  weightHh: Storage | null;
  biasIh: Storage | null;
  biasHh: Storage | null;
  /** An LSTM's peephole weights [H] each (absent or null: none). */
  peepholes?: PeepholeStorages | null;
  /** An LSTM's constant on the forget gate's pre-activation (absent: 0). */
  forgetGateOffset?: number;
}

/** One residual block's weights besides its cell (which is its entry in `StepperWeights.layers`), in PyTorch's layout. */
export interface StepperBlock {
  /** RMSNorm weight [d] before the cell. */
  norm1: Storage;
  /** RMSNorm weight [d] before the feed-forward. */
  norm2: Storage;
  /** The feed-forward's first Linear: [F, d] and [F]. */
  ffnInWeight: Storage;
  ffnInBias: Storage | null;
  /** Its second Linear: [d, F] and [d]. */
  ffnOutWeight: Storage;
  ffnOutBias: Storage | null;
}

/** The block form (LanguageModelConfig.blocks): a block per layer, the final norm, the feed-forward's width. */
export interface StepperBlocks {
  blocks: StepperBlock[];
  /** The final RMSNorm weight [d], before the head. */
  norm: Storage;
  /** F, the feed-forward's inner width. */
  ffnHidden: number;
  /** The RMSNorms' epsilon. */
  eps: number;
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
  /** The block form's norms and feed-forwards (layers are then the blocks' cells, input and hidden d = embed); absent or null for a plain stack. */
  blocks?: StepperBlocks | null;
}

/** The block form's buffers, made once. */
interface BlockBuffers {
  /** The normed residual stream [d]. */
  xn: Storage;
  /** 1/RMS [1]. */
  r: Storage;
  /** The feed-forward's inner activations before and after GELU, and GELU's tanh [F]. */
  u: Storage;
  ug: Storage;
  th: Storage;
  /** The feed-forward's output [d]. */
  f: Storage;
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
  private readonly x: Storage; // the embedded input; in the block form, the residual stream
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
  private readonly blockBufs: BlockBuffers | null;
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
    if (w.blocks) {
      if (!w.embedding || w.embed !== hidden) throw new Error('StepperCore: a block model needs an embedding as wide as its blocks');
      if (w.blocks.blocks.length !== layers) throw new Error(`StepperCore: ${w.blocks.blocks.length} blocks for ${layers} cells`);
      const F = w.blocks.ffnHidden;
      this.blockBufs = { xn: bk.alloc(hidden), r: bk.alloc(1), u: bk.alloc(F), ug: bk.alloc(F), th: bk.alloc(F), f: bk.alloc(hidden) };
    } else {
      this.blockBufs = null;
    }
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
          peepholes: lw.peepholes ?? null,
          forgetGateOffset: lw.forgetGateOffset ?? 0,
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
    const { bk, H, w } = this;
    let out: Storage;
    if (this.blockBufs) out = this.stepBlocks(id, this.blockBufs);
    else {
      let input: Storage | null = null;
      if (w.embedding) {
        this.copy(w.embedding, this.x, w.embed, id * w.embed);
        input = this.x;
      }
      for (let l = 0; l < this.L; l++) input = this.stepLayer(l, input, id);
      out = input!;
    }
    if (w.headBias) this.copy(w.headBias, this.logits, this.V);
    this.mm(out, w.headWeight, this.logits, this.V, H, !!w.headBias);
    return bk.read(this.logits).subarray(0, this.V) as Float32Array;
  }

  private mm(a: Storage, b: Storage, c: Storage, n: number, k: number, accumulate: boolean): void {
    this.bk.matmul(a, b, c, { batch: 1, m: 1, n, k, transA: false, transB: true, strideA: 0, strideB: 0, strideC: 0, accumulate });
  }

  private copy(src: Storage, dst: Storage, n: number, srcOff = 0, srcStride = 1, accumulate = false): void {
    this.bk.stridedCopy(src, srcOff, [srcStride], dst, 0, [1], [n], accumulate);
  }

  /** y = b + W x for a Linear's [n, k] weight. */
  private linear(x: Storage, weight: Storage, bias: Storage | null, y: Storage, n: number, k: number): void {
    if (bias) this.copy(bias, y, n);
    this.mm(x, weight, y, n, k, !!bias);
  }

  /** Layer l's cell on `input` (null: the one-hot vector of `id`); returns its new h. */
  private stepLayer(l: number, input: Storage | null, id: number): Storage {
    const { bk, H, G, w } = this;
    const lw = w.layers[l];
    const I = lw.inputSize;
    // gx = b_ih + W_ih x; the shared step adds the recurrent part
    if (input) this.linear(input, lw.weightIh, lw.biasIh, this.gx, G, I);
    else {
      // one-hot input: W_ih x is column `id` of W_ih
      this.copy(lw.weightIh, this.gx, G, id, I);
      if (lw.biasIh) this.copy(lw.biasIh, this.gx, G, 0, 1, true);
    }
    const cell = w.cell;
    if (isScanCell(cell)) {
      scanLayerStep(bk, cell, H, { s: this.gx, off: 0 }, { s: this.h[l], off: 0 }, { s: this.hNext[l], off: 0 }, { s: this.act, off: 0 });
      [this.h[l], this.hNext[l]] = [this.hNext[l], this.h[l]];
      return this.h[l];
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
    return this.h[l];
  }

  /** The block form: x = x + cell(RMSNorm(x)), x = x + FFN(RMSNorm(x)) per block, then the final RMSNorm; returns what the head reads. */
  private stepBlocks(id: number, b: BlockBuffers): Storage {
    const { bk, H, w } = this;
    const bw = w.blocks!;
    const F = bw.ffnHidden;
    const norm = (weight: Storage): void => rmsNormForward(bk, this.x, weight, b.xn, b.r, 1, H, bw.eps);
    this.copy(w.embedding!, this.x, H, id * H);
    for (let l = 0; l < this.L; l++) {
      const blk = bw.blocks[l];
      norm(blk.norm1);
      this.copy(this.stepLayer(l, b.xn, id), this.x, H, 0, 1, true);
      norm(blk.norm2);
      this.linear(b.xn, blk.ffnInWeight, blk.ffnInBias, b.u, F, H);
      geluForward(bk, b.u, b.ug, b.th, F);
      this.linear(b.ug, blk.ffnOutWeight, blk.ffnOutBias, b.f, H, F);
      this.copy(b.f, this.x, H, 0, 1, true);
    }
    norm(bw.norm);
    return b.xn;
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
    if (this.blockBufs) for (const s of Object.values(this.blockBufs)) this.bk.free(s);
    if (this.gh) this.bk.free(this.gh);
  }
}
