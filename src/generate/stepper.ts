/**
 * Batch-1 inference for a CharLM, one character at a time, without tensors
 * or a graph: a handful of backend kernel calls per step on buffers made
 * once. This is what sampling runs; it computes exactly what
 * `CharLM.forward` computes for a batch of one (tested against it).
 */
import type { Backend, RecurrentKind, Storage } from '../backend/backend.js';
import type { CharLM } from '../models/charlm.js';
import type { RecurrentState } from '../nn/rnn/layers.js';
import { tensor } from '../tensor/create.js';

export class CharStepper {
  private readonly bk: Backend;
  private readonly V: number;
  private readonly H: number;
  private readonly L: number;
  private readonly G: number;
  private readonly kind: RecurrentKind;
  private readonly x: Storage; // the embedded input
  private h: Storage[]; // per layer, ping-pong with hNext
  private hNext: Storage[];
  private c: Storage[] | null;
  private cNext: Storage[] | null;
  private readonly gx: Storage;
  private readonly gh: Storage | null;
  private readonly act: Storage;
  private readonly logits: Storage;
  private disposed = false;

  constructor(private readonly model: CharLM) {
    const { vocabSize, hidden, layers, model: cell } = model.config;
    if (model.rnn.bidirectional) throw new Error('CharStepper: a bidirectional model cannot generate text');
    this.bk = model.head.weight.backend;
    this.V = vocabSize;
    this.H = hidden;
    this.L = layers;
    this.kind = model.rnn.kind;
    this.G = cell === 'lstm' ? 4 * hidden : cell === 'gru' ? 3 * hidden : hidden;
    const bk = this.bk;
    this.x = bk.alloc(Math.max(1, model.config.embed));
    this.h = Array.from({ length: layers }, () => bk.alloc(hidden));
    this.hNext = Array.from({ length: layers }, () => bk.alloc(hidden));
    this.c = cell === 'lstm' ? Array.from({ length: layers }, () => bk.alloc(hidden)) : null;
    this.cNext = cell === 'lstm' ? Array.from({ length: layers }, () => bk.alloc(hidden)) : null;
    this.gx = bk.alloc(this.G);
    this.gh = cell === 'gru' ? bk.alloc(this.G) : null;
    this.act = bk.alloc(4 * hidden);
    this.logits = bk.alloc(vocabSize);
  }

  /** Start from zeros, or from a model state ([layers, 1, H] tensors). */
  reset(state?: RecurrentState): void {
    for (let l = 0; l < this.L; l++) {
      if (state) {
        this.bk.write(this.h[l], state.h.data.subarray(l * this.H, (l + 1) * this.H));
        if (this.c && state.c) this.bk.write(this.c[l], state.c.data.subarray(l * this.H, (l + 1) * this.H));
      } else {
        this.bk.fill(this.h[l], 0);
        if (this.c) this.bk.fill(this.c[l], 0);
      }
    }
  }

  /** Feed one character; returns the next character's logits (a view, valid until the next call). */
  step(id: number): Float32Array {
    if (this.disposed) throw new Error('CharStepper: used after dispose()');
    if (!(Number.isInteger(id) && id >= 0 && id < this.V)) throw new Error(`CharStepper: id ${id} is outside the vocabulary of ${this.V}`);
    const { bk, H, G, model } = this;
    const mm = (a: Storage, b: Storage, c: Storage, n: number, k: number, accumulate: boolean, transB = true): void =>
      bk.matmul(a, b, c, { batch: 1, m: 1, n, k, transA: false, transB, strideA: 0, strideB: 0, strideC: 0, accumulate });
    const copy = (src: Storage, dst: Storage, n: number, srcOff = 0, srcStride = 1, accumulate = false): void =>
      bk.stridedCopy(src, srcOff, [srcStride], dst, 0, [1], [n], accumulate);

    let input: Storage | null = null;
    if (model.embedding) {
      copy(model.embedding.weight.storage, this.x, model.config.embed, id * model.config.embed);
      input = this.x;
    }
    for (let l = 0; l < this.L; l++) {
      const w = model.rnn.weights(l, 0);
      const I = w.weightIh.shape[1];
      // gx = b_ih + W_ih x (+ b_hh + W_hh h when the cell allows folding them in)
      if (input) {
        if (w.biasIh) copy(w.biasIh.storage, this.gx, G);
        mm(input, w.weightIh.storage, this.gx, G, I, !!w.biasIh);
      } else {
        // one-hot input: W_ih x is column `id` of W_ih
        copy(w.weightIh.storage, this.gx, G, id, I);
        if (w.biasIh) copy(w.biasIh.storage, this.gx, G, 0, 1, true);
      }
      let gh: Storage | null = null;
      if (this.gh) {
        gh = this.gh;
        if (w.biasHh) copy(w.biasHh.storage, gh, G);
        mm(this.h[l], w.weightHh.storage, gh, G, H, !!w.biasHh);
      } else {
        if (w.biasHh) copy(w.biasHh.storage, this.gx, G, 0, 1, true);
        mm(this.h[l], w.weightHh.storage, this.gx, G, H, true);
      }
      bk.recurrentStep(this.kind, {
        B: 1, H, gx: { s: this.gx, off: 0 }, gh: gh ? { s: gh, off: 0 } : null, hPrev: { s: this.h[l], off: 0 },
        cPrev: this.c ? { s: this.c[l], off: 0 } : null, hOut: { s: this.hNext[l], off: 0 },
        cOut: this.cNext ? { s: this.cNext[l], off: 0 } : null, act: { s: this.act, off: 0 }, valid: null,
      });
      [this.h[l], this.hNext[l]] = [this.hNext[l], this.h[l]];
      if (this.c && this.cNext) [this.c[l], this.cNext[l]] = [this.cNext[l], this.c[l]];
      input = this.h[l];
    }
    const head = model.head;
    if (head.bias) copy(head.bias.storage, this.logits, this.V);
    mm(input!, head.weight.storage, this.logits, this.V, H, !!head.bias);
    return bk.read(this.logits).subarray(0, this.V) as Float32Array;
  }

  /**
   * Layer `l`'s state after the last step, for looking at what cells do (the
   * playground's activation view): the cell state c for an LSTM, else h.
   * A copy the caller owns.
   */
  cellActivations(l: number): Float32Array {
    if (!(Number.isInteger(l) && l >= 0 && l < this.L)) throw new Error(`CharStepper: layer ${l} does not exist (the model has ${this.L})`);
    return Float32Array.from(this.bk.read((this.c ?? this.h)[l]).subarray(0, this.H));
  }

  /** The current state as [layers, 1, H] tensors (new tensors the caller owns). */
  state(): RecurrentState {
    const cat = (bufs: Storage[]): Float32Array => {
      const out = new Float32Array(this.L * this.H);
      bufs.forEach((s, l) => out.set(this.bk.read(s).subarray(0, this.H), l * this.H));
      return out;
    };
    const s: RecurrentState = { h: tensor(cat(this.h), [this.L, 1, this.H], { backend: this.bk }) };
    if (this.c) s.c = tensor(cat(this.c), [this.L, 1, this.H], { backend: this.bk });
    return s;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of [this.x, ...this.h, ...this.hNext, ...(this.c ?? []), ...(this.cNext ?? []), this.gx, this.act, this.logits]) this.bk.free(s);
    if (this.gh) this.bk.free(this.gh);
  }
}
