/**
 * LanguageModel: the language model, over characters or words. Embedding (or one-hot input, as
 * in min-char-rnn) -> a stack of recurrent layers -> a linear layer to
 * vocabulary logits. State-dict names: embedding.weight, rnn.weight_ih_l0, ...,
 * head.weight, head.bias (the rnn part uses PyTorch's names). The block form
 * (config.blocks) has residual blocks instead of the stack (blocks.ts):
 * embedding.weight, blocks.{i}.*, norm.weight, head.weight, head.bias.
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor, zeros } from '../tensor/create.js';
import { globalRng, type Rng } from '../random/rng.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear, RMSNorm } from '../nn/layers.js';
import { recurrentLayerOf, type LstmLayerOptions, type RecurrentBase, type RecurrentState } from '../nn/rnn/layers.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';
import { dropout } from '../ops/dropout.js';
import { concat, narrow } from '../ops/shape.js';
import { checkLMConfig, type LanguageModelConfig } from './config.js';
import { RecurrentBlock } from './blocks.js';

export { checkLMConfig, defaultLMConfig, describeArchitecture, type CellType, type LanguageModelConfig } from './config.js';

/**
 * The language model behind `recur train`, over characters or words:
 * embedding (or one-hot input) -> recurrent layers of any kind (LSTM, GRU,
 * RNN, MinGRU, MinLSTM) -> a linear head to vocabulary logits; or, with
 * `blocks: true`, embedding -> residual blocks (`RecurrentBlock`) -> RMSNorm
 * -> head. Train it with `trainLM`, sample with `sampleText`, save with
 * `encodeCheckpoint`.
 *
 * @example
 * ```ts
 * const vocab = CharTokenizer.fromTexts(text);
 * const model = new LanguageModel({ ...defaultLMConfig, vocabSize: vocab.size });
 * const { model: trained } = await trainLM({ text, vocab, config: defaultLMConfig, options: { ...defaultTrainOptions, steps: 500 } });
 * ```
 */
export class LanguageModel extends Module {
  /** The description it was built from (checked; a copy, so later changes to the caller's object do not reach it). */
  readonly config: LanguageModelConfig;
  /** The token embedding [vocabSize, embed], or null when the model reads one-hot vectors (embed 0). */
  embedding: Embedding | null;
  /** The recurrent stack (an `LSTM`, `GRU`, `RNN`, `MinGRU` or `MinLSTM` with `layers` layers); null in the block form. */
  rnn: RecurrentBase | null;
  /** The residual blocks of the block form (`config.blocks`), in order; null for a plain stack. */
  blocks: RecurrentBlock[] | null;
  /** The block form's final RMSNorm, before the head; null for a plain stack. */
  norm: RMSNorm | null;
  /** The output layer: hidden state to vocabulary logits. */
  head: Linear;
  /**
   * @internal The generator it was built with, which draws its dropout
   * masks; a resumed training run continues it from the checkpoint's state.
   */
  readonly rng: Rng;

  /** A freshly initialised model; `rng` draws the initial weights and the dropout masks (default the global generator). */
  constructor(config: LanguageModelConfig, opts: { rng?: Rng } = {}) {
    super();
    // kept as given: a config from before the block form has no `blocks`, and is a plain stack
    this.config = checkLMConfig({ ...config });
    const { vocabSize: V, model, layers, hidden, embed, dropout: p } = this.config;
    this.rng = opts.rng ?? globalRng;
    this.embedding = embed > 0 ? new Embedding(V, embed, { rng: this.rng }) : null;
    const lstm = lstmLayerOptions(this.config);
    if (this.config.blocks) {
      this.rnn = null;
      this.blocks = Array.from({ length: layers }, () => new RecurrentBlock(model, hidden, { dropout: p, rng: this.rng, lstm }));
      this.norm = new RMSNorm(hidden);
    } else {
      this.rnn = recurrentLayerOf(model, { inputSize: embed > 0 ? embed : V, hiddenSize: hidden, numLayers: layers, dropout: p, rng: this.rng, ...lstm });
      this.blocks = null;
      this.norm = null;
    }
    this.head = new Linear(hidden, V, { rng: this.rng });
  }

  /** Change the dropout probability (between layers and before the head, or on the blocks' residual branches) for further training. */
  setDropout(p: number): void {
    checkLMConfig({ ...this.config, dropout: p });
    this.config.dropout = p;
    if (this.rnn) this.rnn.dropout = p;
    for (const b of this.blocks ?? []) b.dropout = p;
  }

  /** A zero state for `batch` sequences. */
  initialState(batch: number): RecurrentState {
    const { layers, hidden } = this.config;
    const backend = this.head.weight.backend;
    const s: RecurrentState = { h: zeros([layers, batch, hidden], { backend }) };
    if (CELL_KINDS[this.config.model].cellState) s.c = zeros([layers, batch, hidden], { backend });
    return s;
  }

  /** Logits [B, T, V] for ids laid out [B, T] (batch-major), and the final state. */
  forward(
    ids: ArrayLike<number>,
    batch: number,
    time: number,
    state?: RecurrentState,
  ): {
    /** Unnormalised scores [batch, time, vocabSize] for the token after each input. */
    logits: Tensor;
    /** The state after the last step, to carry into the next window. */
    state: RecurrentState;
  } {
    const V = this.config.vocabSize;
    if (ids.length !== batch * time) throw new Error(`LanguageModel: ${ids.length} ids do not fill [${batch}, ${time}]`);
    let x: Tensor;
    if (this.embedding) {
      x = this.embedding.forward(tensor(ids, [batch, time], { backend: this.head.weight.backend }));
    } else {
      const oneHot = new Float32Array(batch * time * V);
      for (let i = 0; i < ids.length; i++) oneHot[i * V + ids[i]] = 1;
      x = tensor(oneHot, [batch, time, V], { backend: this.head.weight.backend });
    }
    if (this.blocks) return this.forwardBlocks(x, state);
    const { output, state: next } = this.rnn!.forward(x, { state });
    const h = this.training && this.config.dropout > 0 ? dropout(output, this.config.dropout, { rng: this.rng }) : output;
    return { logits: this.head.forward(h), state: next };
  }

  /** The block form: block i reads and writes row i of the state. */
  private forwardBlocks(x: Tensor, state: RecurrentState | undefined): { logits: Tensor; state: RecurrentState } {
    const hs: Tensor[] = [],
      cs: Tensor[] = [];
    this.blocks!.forEach((block, i) => {
      const given = state ? { h: narrow(state.h, 0, i, 1), c: state.c ? narrow(state.c, 0, i, 1) : undefined } : undefined;
      const r = block.forward(x, given);
      x = r.output;
      hs.push(r.state.h);
      if (r.state.c) cs.push(r.state.c);
    });
    const next: RecurrentState = { h: concat(hs, 0) };
    if (cs.length > 0) next.c = concat(cs, 0);
    return { logits: this.head.forward(this.norm!.forward(x)), state: next };
  }
}

/** The config's LSTM options as the layers take them: forgetBias is the layers' forgetGateOffset (LSTMOptions.forgetBias is an initial value, not this). */
function lstmLayerOptions(c: LanguageModelConfig): LstmLayerOptions {
  return { peepholes: c.peepholes ?? false, forgetGateOffset: c.forgetBias ?? 0 };
}
