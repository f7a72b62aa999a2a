/**
 * Sequence-to-vector heads: one vector per sequence from a recurrent layer's
 * results, honouring each sequence's length. Built from differentiable ops
 * (indexSelect, narrow, concat), so gradients flow back to the chosen steps.
 */
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { indexSelect } from '../ops/indexing.js';
import { concat, narrow, reshape, squeeze } from '../ops/shape.js';
import { sum } from '../ops/reduce.js';
import { div, mul } from '../ops/arith.js';
import { tensor } from '../tensor/create.js';
import type { RecurrentBase, RecurrentState } from './rnn/layers.js';

function lengthsFor(op: string, lengths: readonly number[] | Int32Array | undefined, B: number, T: number): number[] {
  if (!lengths) return new Array<number>(B).fill(T);
  const ls = Array.from(lengths);
  if (ls.length !== B) throw new Error(`${op}: lengths has ${ls.length} entries but the batch has ${B} sequences`);
  for (const l of ls) if (!Number.isInteger(l) || l < 1 || l > T) throw new Error(`${op}: length ${l} must be a whole number from 1 to ${T}`);
  return ls;
}

/**
 * The output at each sequence's last valid step: output [batch, time, F]
 * (batch-first) -> [batch, F]. For a forward layer this is its final state;
 * without lengths it is the last step.
 */
export function lastValidStep(output: Tensor, lengths?: readonly number[] | Int32Array): Tensor {
  if (output.rank !== 3) throw new Error(`lastValidStep: output must be [batch, time, features], got ${formatShape(output.shape)}`);
  const [B, T, F] = output.shape;
  const ls = lengthsFor('lastValidStep', lengths, B, T);
  const rows = ls.map((l, b) => b * T + l - 1);
  return indexSelect(reshape(output, [B * T, F]), 0, rows);
}

/**
 * The last layer's final hidden state from a layer's `state.h`
 * [numLayers * directions, batch, hidden] -> [batch, directions * hidden]:
 * for a bidirectional layer the forward state (at each sequence's last valid
 * step) and the backward state (at step 0) concatenated, as PyTorch users do
 * with h_n[-2:] .
 */
export function finalHidden(layer: Pick<RecurrentBase, 'numLayers' | 'directions'>, state: RecurrentState | Tensor): Tensor {
  const h = isTensor(state) ? state : state.h;
  const D = layer.directions;
  if (h.rank !== 3 || h.shape[0] !== layer.numLayers * D) {
    throw new Error(`finalHidden: expected h of shape [${layer.numLayers * D}, batch, hidden], got ${formatShape(h.shape)}`);
  }
  const last = narrow(h, 0, (layer.numLayers - 1) * D, D); // [D, B, H]
  if (D === 1) return squeeze(last, 0);
  return concat([squeeze(narrow(last, 0, 0, 1), 0), squeeze(narrow(last, 0, 1, 1), 0)], 1);
}

/** The mean of each sequence's valid steps: output [batch, time, F] -> [batch, F]. */
export function meanOverValid(output: Tensor, lengths?: readonly number[] | Int32Array): Tensor {
  if (output.rank !== 3) throw new Error(`meanOverValid: output must be [batch, time, features], got ${formatShape(output.shape)}`);
  const [B, T] = output.shape;
  const ls = lengthsFor('meanOverValid', lengths, B, T);
  const m = new Float32Array(B * T);
  ls.forEach((l, b) => m.fill(1, b * T, b * T + l));
  const mask = tensor(m, [B, T, 1], { backend: output.backend });
  const count = tensor(ls, [B, 1], { backend: output.backend });
  return div(sum(mul(output, mask), 1), count);
}
