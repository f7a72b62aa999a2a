/**
 * Luong's global dot-product attention for encoder-decoders: each decoder
 * state (the query) scores every encoder output by a dot product, the scores
 * over each source's valid steps go through a softmax, and the context is the
 * weighted sum of the encoder outputs; `LuongAttention` then combines context
 * and query as tanh(W [context; query]). Built from differentiable ops
 * (batched matmul, softmax, concat), so training needs no special backward.
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/create.js';
import { formatShape } from '../tensor/shape.js';
import type { Rng } from '../random/rng.js';
import { add } from '../ops/arith.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/softmax.js';
import { concat, transpose } from '../ops/shape.js';
import { tanh } from '../ops/unary.js';
import { Module } from './module.js';
import { Linear } from './layers.js';

/**
 * context [B, To, H] and weights [B, To, Ti] for queries [B, To, H] over
 * keys (= values) [B, Ti, H]; source steps at or past lengths[b] get no weight.
 */
export function dotAttention(
  query: Tensor,
  keys: Tensor,
  lengths?: readonly number[],
): {
  /** The weighted sums of the keys, one per query [B, To, H]. */
  context: Tensor;
  /** Each query's weights over the source steps [B, To, Ti] (each row sums to 1): what to plot to see the alignment. */
  weights: Tensor;
} {
  if (query.rank !== 3 || keys.rank !== 3 || query.shape[0] !== keys.shape[0] || query.shape[2] !== keys.shape[2]) {
    throw new Error(
      `dotAttention: queries [B, To, H] and keys [B, Ti, H] must agree on B and H, got ${formatShape(query.shape)} and ${formatShape(keys.shape)}`,
    );
  }
  const B = query.shape[0];
  const Ti = keys.shape[1];
  let scores = matmul(query, transpose(keys, 1, 2)); // [B, To, Ti]
  if (lengths) {
    if (lengths.length !== B) throw new Error(`dotAttention: lengths has ${lengths.length} entries but the batch has ${B}`);
    const bias = new Float32Array(B * Ti);
    lengths.forEach((l, b) => {
      if (!(Number.isInteger(l) && l >= 1 && l <= Ti)) throw new Error(`dotAttention: length ${l} must be a whole number from 1 to ${Ti}`);
      bias.fill(-1e9, b * Ti + l, (b + 1) * Ti);
    });
    scores = add(scores, tensor(bias, [B, 1, Ti], { backend: query.backend }));
  }
  const weights = softmax(scores, -1);
  return { context: matmul(weights, keys), weights };
}

/** Attention plus Luong's combination layer: tanh(W [context; query]) [B, To, H]. */
export class LuongAttention extends Module {
  /** W: [context; query] (2 * hidden) to hidden. */
  combine: Linear;
  constructor(
    /** The size of the encoder outputs and decoder states. */
    readonly hiddenSize: number,
    opts: { rng?: Rng } = {},
  ) {
    super();
    this.combine = new Linear(2 * hiddenSize, hiddenSize, { rng: opts.rng });
  }
  /** Attend from decoder states `query` [B, To, H] over encoder outputs `keys` [B, Ti, H] (valid up to `lengths`). */
  forward(
    query: Tensor,
    keys: Tensor,
    lengths?: readonly number[],
  ): {
    /** The attentional states tanh(W [context; query]) [B, To, H], what the output layer reads. */
    output: Tensor;
    /** The attention weights [B, To, Ti]. */
    weights: Tensor;
  } {
    const { context, weights } = dotAttention(query, keys, lengths);
    return { output: tanh(this.combine.forward(concat([context, query], 2))), weights };
  }
}
