/**
 * LanguageModel: the language model, over characters or words. Embedding (or one-hot input, as
 * in min-char-rnn) -> a stack of RNN / LSTM / GRU layers -> a linear layer to
 * vocabulary logits. State-dict names: embedding.weight, rnn.weight_ih_l0, ...,
 * head.weight, head.bias (the rnn part uses PyTorch's names).
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor, zeros } from '../tensor/create.js';
import { globalRng, type Rng } from '../random/rng.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear } from '../nn/layers.js';
import { recurrentLayerOf, type RecurrentBase, type RecurrentState } from '../nn/rnn/layers.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';
import { dropout } from '../ops/dropout.js';
import { checkLMConfig, type LanguageModelConfig } from './config.js';

export { checkLMConfig, defaultLMConfig, type CellType, type LanguageModelConfig } from './config.js';

/**
 * The language model behind `recur train`, over characters or words:
 * embedding (or one-hot input) -> RNN / LSTM / GRU layers -> a linear head
 * to vocabulary logits. Train it with `trainLM`, sample with
 * `sampleText`, save with `encodeCheckpoint`.
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
  /** The recurrent stack (an `LSTM`, `GRU` or `RNN` with `layers` layers). */
  rnn: RecurrentBase;
  /** The output layer: hidden state to vocabulary logits. */
  head: Linear;
  private readonly rng: Rng;

  /** A freshly initialised model; `rng` draws the initial weights and the dropout masks (default the global generator). */
  constructor(config: LanguageModelConfig, opts: { rng?: Rng } = {}) {
    super();
    this.config = checkLMConfig({ ...config });
    const { vocabSize: V, model, layers, hidden, embed } = this.config;
    this.rng = opts.rng ?? globalRng;
    this.embedding = embed > 0 ? new Embedding(V, embed, { rng: this.rng }) : null;
    const o = { inputSize: embed > 0 ? embed : V, hiddenSize: hidden, numLayers: layers, dropout: this.config.dropout, rng: this.rng };
    this.rnn = recurrentLayerOf(model, o);
    this.head = new Linear(hidden, V, { rng: this.rng });
  }

  /** Change the dropout probability (between layers and before the head) for further training. */
  setDropout(p: number): void {
    checkLMConfig({ ...this.config, dropout: p });
    this.config.dropout = p;
    this.rnn.dropout = p;
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
    const { output, state: next } = this.rnn.forward(x, { state });
    const h = this.training && this.config.dropout > 0 ? dropout(output, this.config.dropout, { rng: this.rng }) : output;
    return { logits: this.head.forward(h), state: next };
  }
}
