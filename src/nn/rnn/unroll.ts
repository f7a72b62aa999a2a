/**
 * The sequence machinery shared by every cell, built-in or custom: run a cell
 * over the time axis of x [batch, time, features], forwards or backwards,
 * honouring per-sequence lengths. Past a sequence's end its state is frozen
 * and its output is zero, so the forward direction ends on the last valid
 * step and the reverse direction starts there (PyTorch's packed sequences).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { tensor, zeros } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import { narrow, squeeze, stack } from '../../ops/shape.js';
import { where } from '../../ops/where.js';

/** A recurrent cell: anything that maps (input at t, state) to the next state; state[0] is the output. */
export interface RecurrentCell {
  /** Size of state[0], the output at each step. */
  readonly hiddenSize: number;
  /** Zero state for a batch: [h] or [h, c], each [batch, hidden]. */
  initialState(batch: number): Tensor[];
  /** The next state from the input at one step, x [batch, features], and the current state. */
  step(x: Tensor, state: Tensor[]): Tensor[];
}

/** Options of `unroll`. */
export interface UnrollOptions {
  /** The state to start from (default `cell.initialState(batch)`). */
  state?: Tensor[];
  /** Each sequence's valid length (1..time); past it the state is frozen and the output zero. Default: all full length. */
  lengths?: readonly number[] | Int32Array;
  /** Run from each sequence's last valid step back to the first (the backward half of a bidirectional layer). */
  reverse?: boolean;
}

export function checkLengths(op: string, lengths: readonly number[] | Int32Array, batch: number, time: number): number[] {
  const l = Array.from(lengths);
  if (l.length !== batch) throw new Error(`${op}: lengths has ${l.length} entries but the batch has ${batch} sequences`);
  for (const v of l) {
    if (!Number.isInteger(v) || v < 1 || v > time) {
      throw new Error(`${op}: length ${v} is out of range: every length must be a whole number from 1 to ${time} (the time dimension)`);
    }
  }
  return l;
}

/**
 * Run `cell` over x [B, T, I]; returns all outputs [B, T, H] and the final
 * state. Any `RecurrentCell` works, so a cell written from tensor ops gets
 * lengths and reversal for free.
 *
 * @example
 * ```ts
 * const cell = new GRUCell({ inputSize: 3, hiddenSize: 8 });
 * const { output, state } = unroll(cell, randn([2, 5, 3]), { lengths: [5, 2] });
 * output.shape; // [2, 5, 8]; row 1 is zero after step 2, and state[0] holds its step-2 value
 * ```
 */
export function unroll(
  cell: RecurrentCell,
  x: Tensor,
  opts: UnrollOptions = {},
): {
  /** Every step's state[0], [B, T, H]. */
  output: Tensor;
  /** The state after each sequence's last valid step. */
  state: Tensor[];
} {
  if (x.rank !== 3) throw new Error(`unroll: input must be [batch, time, features], got ${formatShape(x.shape)}`);
  const [B, T] = x.shape;
  const lengths = opts.lengths ? checkLengths('unroll', opts.lengths, B, T) : null;
  let state = opts.state ?? cell.initialState(B);
  const outputs: Tensor[] = new Array(T);
  const zero = lengths ? zeros([B, cell.hiddenSize], { backend: x.backend }) : null;
  for (let k = 0; k < T; k++) {
    const t = opts.reverse ? T - 1 - k : k;
    const xt = squeeze(narrow(x, 1, t, 1), 1);
    const next = cell.step(xt, state);
    if (lengths) {
      const mask = tensor(
        lengths.map((len) => (t < len ? 1 : 0)),
        [B, 1],
        { backend: x.backend },
      );
      state = next.map((s, i) => where(mask, s, state[i]));
      outputs[t] = where(mask, next[0], zero!);
    } else {
      state = next;
      outputs[t] = next[0];
    }
  }
  return { output: stack(outputs, 1), state };
}
