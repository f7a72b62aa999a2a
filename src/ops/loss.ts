/** Losses: softmax cross-entropy from logits (class dim last), and mean squared error; both can skip padded positions. */
import { record } from '../autograd/graph.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { empty, uninitialized } from './util.js';
import { toIndices, type Indices } from './indexing.js';
import { div, mul, sub } from './arith.js';
import { square } from './unary.js';
import { mean, sum } from './reduce.js';

/** How a loss combines its per-element values: their mean, their sum, or none (the values, shaped like the targets). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (padding): no loss, no gradient, not counted in the mean. */
  ignoreIndex?: number;
  /** Default 'mean' (over the targets scored). */
  reduction?: Reduction;
  /**
   * Positions to score, shaped like the targets (1 = score, 0 = skip, e.g.
   * `lengthsMask(lengths, time)`): a 0 treats the target as ignoreIndex.
   */
  mask?: Tensor | ArrayLike<number>;
}

/**
 * Cross-entropy of `logits` [..., C] against integer `targets` [...]
 * (the class dimension is the last one, so [batch, time, vocab] logits take
 * [batch, time] targets directly). Fused: softmax and log-likelihood in one
 * kernel, gradient probs - onehot. With reduction 'mean' the sum is divided by
 * the number of targets not ignored (NaN if all are, as in PyTorch).
 */
export function crossEntropy(logits: Tensor, targets: Indices, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
  if (logits.rank < 1) throw new Error('crossEntropy: logits must have a class dimension');
  const cols = logits.shape[logits.rank - 1];
  const rowShape = logits.shape.slice(0, -1);
  const rows = logits.size / Math.max(cols, 1);
  const t = toIndices('crossEntropy', targets);
  if (opts.mask !== undefined) {
    const m = isTensor(opts.mask) ? opts.mask.data : opts.mask;
    if (m.length !== t.data.length) throw new Error(`crossEntropy: the mask has ${m.length} entries but there are ${t.data.length} targets`);
    for (let i = 0; i < m.length; i++) if (m[i] === 0) t.data[i] = ignoreIndex;
  }
  if (t.data.length !== rows || (t.shape.length > 0 && !sameShape(t.shape, rowShape) && t.shape.length !== 1)) {
    throw new Error(`crossEntropy: logits ${formatShape(logits.shape)} need targets of shape ${formatShape(rowShape)}, got ${formatShape(t.shape)}`);
  }
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const v = t.data[i];
    if (v === ignoreIndex) continue;
    if (v < 0 || v >= cols) throw new Error(`crossEntropy: target ${v} is out of range for ${cols} classes`);
    count++;
  }
  const backend = logits.backend;
  const losses = uninitialized(backend, rowShape);
  const probs = uninitialized(backend, logits.shape);
  backend.crossEntropy(logits.storage, t.data, losses.storage, probs.storage, rows, cols, ignoreIndex);

  let out: Tensor;
  if (reduction === 'none') {
    out = losses;
  } else {
    out = empty(backend, []);
    backend.reduce('sum', losses.storage, out.storage, 1, rows, 1);
    if (reduction === 'mean') backend.affine(out.storage, out.storage, 1, 1 / count, 0);
    losses.dispose();
  }
  return record(
    out,
    'crossEntropy',
    [logits],
    (gy) => {
      let gyRow: Tensor;
      if (reduction === 'none') {
        gyRow = gy;
      } else {
        gyRow = empty(backend, [rows]);
        const g = gy.item() * (reduction === 'mean' ? 1 / count : 1);
        backend.fill(gyRow.storage, g);
      }
      const gx = uninitialized(backend, logits.shape);
      backend.crossEntropyGrad(probs.storage, t.data, gyRow.storage, gx.storage, rows, cols, ignoreIndex);
      if (gyRow !== gy) gyRow.dispose();
      return [gx];
    },
    [probs],
  );
}

/** Options of `mseLoss`. */
export interface MseOptions {
  /** Default 'mean' (over the elements counted). */
  reduction?: Reduction;
  /**
   * 1 where the error counts, 0 where it does not (padding); broadcasts to the
   * input's shape ([batch, time, 1] or [batch, time] for [batch, time] inputs).
   * 'mean' then divides by the number of counted elements.
   */
  mask?: Tensor;
}

/** Mean squared error between same-shaped tensors, optionally over masked positions only. */
export function mseLoss(input: Tensor, target: Tensor, opts: MseOptions = {}): Tensor {
  const { reduction = 'mean', mask } = opts;
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new Error(`mseLoss: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(`mseLoss: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`);
  }
  const fits = (m: Tensor): boolean => m.rank <= input.rank && m.shape.every((d, i) => d === 1 || d === input.shape[input.rank - m.rank + i]);
  if (mask && !fits(mask)) {
    throw new Error(`mseLoss: the mask ${formatShape(mask.shape)} must broadcast to the input's shape ${formatShape(input.shape)}`);
  }
  let sq = square(sub(input, target));
  if (mask) sq = mul(sq, mask);
  if (reduction === 'none') return sq;
  if (reduction === 'sum') return sum(sq);
  if (!mask) return mean(sq);
  // each mask element stands for input.size / mask.size elements of the input
  let counted = 0;
  const m = mask.data;
  for (let i = 0; i < m.length; i++) counted += m[i];
  return div(sum(sq), counted * (input.size / mask.size));
}
