/**
 * Variable-length sequences for the sequence tasks (classification,
 * forecasting, encoder-decoder): padding a list into one [batch, time(, features)]
 * block with each sequence's length, masks from lengths, and a data set of
 * items with seeded shuffling and batching. Separate from the char-level
 * text stream (bptt.ts). No Node imports.
 */
import { tensor, type CreateOptions } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../random/rng.js';

/** One sequence: numbers (one per step) or vectors (one per step, all the same size). */
export type Sequence = ArrayLike<number> | readonly ArrayLike<number>[];

/** How `padSequences` pads: the fill value, the length, which end to cut, the array type. */
export interface PadOptions {
  /** The value written past each sequence's end (default 0; -100 makes targets that crossEntropy ignores). */
  value?: number;
  /** Pad (and truncate) to this many steps (default: the longest sequence). */
  maxLen?: number;
  /** Which end to cut when a sequence is longer than maxLen: 'post' keeps the first maxLen steps (default), 'pre' the last. */
  truncate?: 'pre' | 'post';
  /** 'int32' returns an Int32Array (ids for embedding and crossEntropy); default 'float32'. */
  dtype?: 'float32' | 'int32';
}

/** Sequences padded into one block, with each one's length: ready for `tensor(data, shape)` and a layer's `lengths`. */
export interface PaddedBatch<A extends Float32Array | Int32Array = Float32Array | Int32Array> {
  /** Row-major [batch, time] or [batch, time, features]; steps past a sequence's length hold `value`. */
  data: A;
  /** [batch, time] for sequences of numbers, [batch, time, features] for sequences of vectors. */
  shape: number[];
  /** Steps kept of each sequence (after truncation), 1..time. */
  lengths: number[];
}

const isVectorSeq = (s: Sequence): s is readonly ArrayLike<number>[] => s.length > 0 && typeof (s as ArrayLike<unknown>)[0] === 'object';

/**
 * Pad sequences to one block, valid steps first (the layout the recurrent
 * layers' `lengths` expect). Every sequence needs at least one step.
 *
 * @example
 * ```ts
 * const { data, shape, lengths } = padSequences([[1, 2, 3], [4]]);
 * // data [1, 2, 3, 4, 0, 0], shape [2, 3], lengths [3, 1]
 * const { output } = new GRU({ inputSize: 1, hiddenSize: 8 }).forward(tensor(data, [...shape, 1]), { lengths });
 * ```
 */
export function padSequences(list: readonly Sequence[], opts: PadOptions & { dtype: 'int32' }): PaddedBatch<Int32Array>;
export function padSequences(list: readonly Sequence[], opts?: PadOptions & { dtype?: 'float32' }): PaddedBatch<Float32Array>;
export function padSequences(list: readonly Sequence[], opts?: PadOptions): PaddedBatch;
export function padSequences(list: readonly Sequence[], opts: PadOptions = {}): PaddedBatch {
  const { value = 0, truncate = 'post', dtype = 'float32' } = opts;
  if (list.length === 0) throw new Error('padSequences: the list of sequences is empty');
  if (truncate !== 'pre' && truncate !== 'post') throw new Error(`padSequences: truncate must be 'pre' or 'post', got '${truncate}'`);
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`padSequences: dtype must be 'float32' or 'int32', got '${dtype}'`);
  if (opts.maxLen !== undefined && !(Number.isInteger(opts.maxLen) && opts.maxLen >= 1)) {
    throw new Error(`padSequences: maxLen must be a whole number of at least 1, got ${opts.maxLen}`);
  }
  if (dtype === 'int32' && !Number.isInteger(value)) throw new Error(`padSequences: an int32 batch needs a whole-number padding value, got ${value}`);
  let features = 0;
  let longest = 0;
  list.forEach((s, i) => {
    if (s.length === 0) throw new Error(`padSequences: sequence ${i} is empty; every sequence needs at least one step`);
    const f = isVectorSeq(s) ? s[0].length : 0;
    if (i === 0) features = f;
    else if (f !== features) {
      throw new Error(
        `padSequences: sequence ${i} has ${f === 0 ? 'numbers' : `vectors of ${f}`} per step but sequence 0 has ${features === 0 ? 'numbers' : `vectors of ${features}`}`,
      );
    }
    longest = Math.max(longest, s.length);
  });
  const T = opts.maxLen ?? longest;
  const F = Math.max(features, 1);
  const B = list.length;
  const data = dtype === 'int32' ? new Int32Array(B * T * F) : new Float32Array(B * T * F);
  data.fill(value);
  const lengths: number[] = [];
  list.forEach((s, b) => {
    const n = Math.min(s.length, T);
    const start = truncate === 'pre' ? s.length - n : 0;
    lengths.push(n);
    for (let t = 0; t < n; t++) {
      const step = s[start + t];
      const off = (b * T + t) * F;
      if (features === 0) {
        data[off] = step as number;
      } else {
        const v = step as ArrayLike<number>;
        if (v.length !== features) throw new Error(`padSequences: step ${start + t} of sequence ${b} has ${v.length} features, expected ${features}`);
        for (let f = 0; f < F; f++) data[off + f] = v[f];
      }
    }
  });
  return { data, shape: features === 0 ? [B, T] : [B, T, F], lengths };
}

/** 1 where t < lengths[b], else 0, as a [batch, time] tensor (time defaults to the longest length). */
export function lengthsMask(lengths: readonly number[] | Int32Array, time?: number, opts: CreateOptions = {}): Tensor {
  const ls = Array.from(lengths);
  const T = time ?? Math.max(...ls);
  for (const l of ls) {
    if (!Number.isInteger(l) || l < 0 || l > T) throw new Error(`lengthsMask: length ${l} must be a whole number from 0 to ${T}`);
  }
  const m = new Float32Array(ls.length * T);
  ls.forEach((l, b) => m.fill(1, b * T, b * T + l));
  return tensor(m, [ls.length, T], opts);
}

/** How `SequenceDataset.batches` orders and cuts the items. */
export interface BatchOptions {
  /** Shuffle before batching with this generator (a new order each call), or with a fresh Rng(seed). */
  shuffle?: boolean;
  /** The generator that shuffles (it advances, so each epoch gets a new order). */
  rng?: Rng;
  /** Without `rng`: shuffle with a fresh generator from this seed (the same order every call). */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false: it is yielded). */
  dropLast?: boolean;
}

/** A list of examples (any type) with a seeded split, shuffling and batching. */
export class SequenceDataset<T> {
  /** The examples, in their original order. */
  readonly items: readonly T[];

  constructor(items: readonly T[]) {
    this.items = items;
  }

  /** How many examples there are. */
  get size(): number {
    return this.items.length;
  }

  /** Hold out `fraction` of the items (chosen at random with `seed`): [rest, heldOut]. */
  split(fraction: number, seed = 0): [SequenceDataset<T>, SequenceDataset<T>] {
    if (!(fraction > 0 && fraction < 1)) throw new Error(`SequenceDataset.split: fraction must be between 0 and 1, got ${fraction}`);
    const order = new Rng(seed).shuffle(Array.from({ length: this.size }, (_, i) => i));
    const nHeld = Math.round(this.size * fraction);
    if (nHeld === 0 || nHeld === this.size) throw new Error(`SequenceDataset.split: ${this.size} items are too few to hold out ${fraction} of them`);
    const held = order.slice(0, nHeld).sort((a, b) => a - b);
    const rest = order.slice(nHeld).sort((a, b) => a - b);
    return [new SequenceDataset(rest.map((i) => this.items[i])), new SequenceDataset(held.map((i) => this.items[i]))];
  }

  /** Number of batches `batches(batchSize, { dropLast })` yields. */
  numBatches(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  /** One pass over the items in batches of `batchSize` (the last one may be smaller unless dropLast). */
  *batches(batchSize: number, opts: BatchOptions = {}): Generator<T[]> {
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new Error(`SequenceDataset.batches: batchSize must be a whole number of at least 1, got ${batchSize}`);
    const order = Array.from({ length: this.size }, (_, i) => i);
    if (opts.shuffle) (opts.rng ?? new Rng(opts.seed ?? 0)).shuffle(order);
    const end = opts.dropLast ? this.numBatches(batchSize, true) * batchSize : this.size;
    for (let i = 0; i < end; i += batchSize) yield order.slice(i, Math.min(i + batchSize, end)).map((k) => this.items[k]);
  }
}
