/**
 * The residual block of the block language model (LanguageModelConfig.blocks),
 * after Feng et al. 2024's language model: a pre-norm recurrent layer and a
 * pre-norm GELU feed-forward, each added back to the residual stream.
 * State-dict names: norm1.weight, cell.weight_ih_l0, ... (PyTorch's names for
 * the one-layer cell), norm2.weight, ffn.0.weight, ffn.0.bias, ffn.2.weight,
 * ffn.2.bias.
 */
import type { Tensor } from '../tensor/tensor.js';
import { globalRng, type Rng } from '../random/rng.js';
import { add } from '../ops/arith.js';
import { dropout } from '../ops/dropout.js';
import { Module } from '../nn/module.js';
import { GELU, Linear, RMSNorm, Sequential } from '../nn/layers.js';
import { recurrentLayerOf, type LstmLayerOptions, type RecurrentBase, type RecurrentState } from '../nn/rnn/layers.js';
import type { CellKind } from '../nn/rnn/kinds.js';
import { FFN_MULTIPLE } from './config.js';

/**
 * One residual block of width d, with a recurrent cell of any kind:
 *
 *     x = x + drop(cell(RMSNorm₁(x)))
 *     x = x + drop(FFN(RMSNorm₂(x))),  FFN = Linear(d, 4d) → GELU → Linear(4d, d)
 *
 * where the cell is a one-layer recurrent layer with input and hidden d.
 * `LanguageModel` stacks these when its config has `blocks: true`.
 *
 * @example
 * ```ts
 * const block = new RecurrentBlock('minlstm', 64);
 * const { output, state } = block.forward(randn([2, 10, 64])); // output [2, 10, 64], state.h [1, 2, 64]
 * ```
 */
export class RecurrentBlock extends Module {
  /** The norm before the cell. */
  norm1: RMSNorm;
  /** The recurrent layer (one layer, input and hidden d). */
  cell: RecurrentBase;
  /** The norm before the feed-forward. */
  norm2: RMSNorm;
  /** Linear(d, 4d), GELU, Linear(4d, d), as children '0', '1', '2'. */
  ffn: Sequential;
  /** Dropout on both residual branches, in training mode; may change between runs. */
  dropout: number;
  private readonly rng: Rng;

  constructor(
    /** The cell kind, from the registry. */
    kind: CellKind,
    /** The width d: the residual stream's, the cell's input and hidden size. */
    readonly width: number,
    opts: {
      /** Dropout on the residual branches (default 0). */
      dropout?: number;
      /** The generator for the initial weights and the dropout masks (default the global one). */
      rng?: Rng;
      /** An LSTM cell's peepholes and forget-gate offset. */
      lstm?: LstmLayerOptions;
    } = {},
  ) {
    super();
    this.rng = opts.rng ?? globalRng;
    this.dropout = opts.dropout ?? 0;
    this.norm1 = new RMSNorm(width);
    this.cell = recurrentLayerOf(kind, { inputSize: width, hiddenSize: width, rng: this.rng, ...opts.lstm });
    this.norm2 = new RMSNorm(width);
    const inner = FFN_MULTIPLE * width;
    this.ffn = new Sequential(new Linear(width, inner, { rng: this.rng }), new GELU(), new Linear(inner, width, { rng: this.rng }));
  }

  /** @internal The feed-forward's two Linear layers (the batch-1 stepper reads their weights). */
  get ffnLinears(): [Linear, Linear] {
    return [this.ffn.layers[0] as Linear, this.ffn.layers[2] as Linear];
  }

  /** x [batch, time, d] from `state` (h, and c for an LSTM, each [1, batch, d]; default zeros) to the block's output and the cell's final state. */
  forward(
    x: Tensor,
    state?: RecurrentState,
  ): {
    /** The residual stream after this block, [batch, time, d]. */
    output: Tensor;
    /** The cell's state after the last step ([1, batch, d]). */
    state: RecurrentState;
  } {
    const drop = (t: Tensor): Tensor => (this.training && this.dropout > 0 ? dropout(t, this.dropout, { rng: this.rng }) : t);
    const r = this.cell.forward(this.norm1.forward(x), { state });
    const mid = add(x, drop(r.output));
    return { output: add(mid, drop(this.ffn.forward(this.norm2.forward(mid)))), state: r.state };
  }
}
