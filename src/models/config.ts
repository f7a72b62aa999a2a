/**
 * A LanguageModel's description and the shapes of its weights, with no tensor
 * imports: the embeddable sampler checks checkpoints with this alone.
 */
import { CELL_KINDS, cellKindChoices, isCellKind, layerParamShapes, type CellKind } from '../nn/rnn/kinds.js';

/** A LanguageModel's recurrent cell: a kind from the registry (nn/rnn/kinds.ts). */
export type CellType = CellKind;

/** A `LanguageModel`'s description: what checkpoints store as `config`, and all it takes to rebuild the model's shapes. */
export interface LanguageModelConfig {
  /** The number of tokens (the tokenizer's size). */
  vocabSize: number;
  /** The recurrent cell, a kind from the registry: 'lstm', 'gru', 'rnn', 'mingru' or 'minlstm'. */
  model: CellType;
  /** Recurrent layers stacked; with `blocks`, residual blocks. */
  layers: number;
  /** Hidden size of each layer; with `blocks`, the model's width d. */
  hidden: number;
  /** Embedding size; 0 feeds one-hot vectors (min-char-rnn). With `blocks` it must equal `hidden`. */
  embed: number;
  /**
   * Dropout probability in training (from 0, below 1): between layers and
   * before the head, or with `blocks` on each block's two residual branches.
   */
  dropout: number;
  /**
   * The residual block form (default false, and false in checkpoints from
   * before it): `layers` blocks of width `hidden`, each
   * x + cell(RMSNorm(x)) then x + FFN(RMSNorm(x)) with a GELU feed-forward
   * of FFN_MULTIPLE x hidden, a final RMSNorm before the head. For when
   * depth matters, as in Feng et al. 2024's language model.
   */
  blocks?: boolean;
  /**
   * LSTM only: a constant added to every forget gate's pre-activation,
   * f = σ(W_f x + U_f h + b_f + forgetBias), on top of the trained biases:
   * TensorFlow's BasicLSTMCell `forget_bias` (which defaults to 1). Not
   * trained and not a weight. Absent (as in checkpoints from before it) means 0.
   * The layers get it as `forgetGateOffset`; `LSTMOptions.forgetBias` is
   * something else, the trainable biases' initial value.
   */
  forgetBias?: number;
  /**
   * LSTM only: peephole weights in every layer (TensorFlow's use_peepholes:
   * c_{t-1} feeds gates i and f, c_t gate o), `weight_ci_l{k}`,
   * `weight_cf_l{k}`, `weight_co_l{k}` [hidden]. Absent means false.
   */
  peepholes?: boolean;
}

/**
 * The model defaults (the CLI's and the playground's too): with
 * defaultTrainOptions, the best character model found for ten minutes of
 * training on two cores (`npm run bench:quality`; the runs are in
 * docs/benchmarks.md, "Time to quality"). 2 x 320 and 3 x 192 did worse in
 * the same time, and 2 x 128 (the default until then) reached 1.528.
 */
export const defaultLMConfig: Omit<LanguageModelConfig, 'vocabSize'> = { model: 'lstm', layers: 2, hidden: 256, embed: 64, dropout: 0.2, blocks: false };

/** A block model's feed-forward is this many times its width (Linear(d, 4d), GELU, Linear(4d, d)), as in Transformers and Feng et al. 2024. */
export const FFN_MULTIPLE = 4;

/**
 * The largest model recur builds: 2^27 parameters (512 MiB of float32
 * weights; with gradients and Adam's two moments that fills the wasm
 * backend's 2 GiB heap, and its checkpoint stays under MAX_CHECKPOINT_BYTES).
 * A config read from a file is checked against this before anything is
 * allocated, so a checkpoint claiming hidden size 10^9 is a sentence, not an
 * out-of-memory crash.
 */
export const MAX_PARAMETERS = 2 ** 27;
/** Per-size caps, so the parameter count below is computed from sane numbers. */
export const CONFIG_LIMITS = { vocabSize: 2 ** 24, layers: 1024, hidden: 2 ** 16, embed: 2 ** 16 } as const;

/** How many parameters a LanguageModel of this description has (the sum of lmShapes). */
export function lmParameterCount(c: LanguageModelConfig): number {
  let n = 0;
  for (const shape of Object.values(lmShapes(c))) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * `c` itself if it describes a model recur can build, else an Error whose
 * message is one sentence naming the first bad field; also refuses models
 * over MAX_PARAMETERS (2^27), before anything is allocated.
 */
export function checkLMConfig(c: LanguageModelConfig): LanguageModelConfig {
  if (typeof c !== 'object' || c === null) throw new Error('the model description is missing');
  const int = (k: keyof typeof CONFIG_LIMITS, min: number): void => {
    const v = c[k] as number;
    const max = CONFIG_LIMITS[k];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${k} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
  };
  if (!isCellKind(c.model)) throw new Error(`model must be ${cellKindChoices()}, got '${c.model}'`);
  int('vocabSize', 1);
  int('layers', 1);
  int('hidden', 1);
  int('embed', 0);
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) throw new Error(`dropout must be at least 0 and below 1, got ${c.dropout}`);
  if (c.blocks !== undefined && typeof c.blocks !== 'boolean') throw new Error(`blocks must be true or false, got ${JSON.stringify(c.blocks)}`);
  checkLstmOptions(c);
  // the residual stream is the embedding itself, so the two widths are one
  if (c.blocks && c.embed !== c.hidden)
    throw new Error(`a block model's embedding is as wide as the model: embed must equal hidden (${c.hidden}), got ${c.embed}`);
  const n = lmParameterCount(c);
  if (n > MAX_PARAMETERS) {
    throw new Error(
      `a ${describeStack(c)} with vocabulary ${c.vocabSize}${c.blocks ? '' : ` and embedding ${c.embed}`} has ` +
        `${n.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} recur builds`,
    );
  }
  return c;
}

/** The LSTM options' fields, checked: a number and a boolean if present, and set only for a kind that takes them. */
function checkLstmOptions(c: LanguageModelConfig): void {
  if (c.forgetBias !== undefined && !(typeof c.forgetBias === 'number' && Number.isFinite(c.forgetBias))) {
    throw new Error(`forgetBias must be a number, got ${JSON.stringify(c.forgetBias)}`);
  }
  if (c.peepholes !== undefined && typeof c.peepholes !== 'boolean') throw new Error(`peepholes must be true or false, got ${JSON.stringify(c.peepholes)}`);
  const spec = CELL_KINDS[c.model];
  if (spec.tfOptions) return;
  if ((c.forgetBias ?? 0) !== 0) throw new Error(`forgetBias (a constant on an LSTM's forget gate) is for LSTM models, not ${spec.article}`);
  if (c.peepholes) throw new Error(`peepholes (from an LSTM's cell state) are for LSTM models, not ${spec.article}`);
}

/** Whether a config uses the LSTM options (a non-zero forgetBias, or peepholes): checkpoints of such models need a recur that knows them. */
export function usesLstmOptions(c: Pick<LanguageModelConfig, 'forgetBias' | 'peepholes'>): boolean {
  return (c.forgetBias ?? 0) !== 0 || c.peepholes === true;
}

/** The recurrent part in a few words: "2 x 128 MinGRU", "2 x 128 LSTM (peepholes, forget bias 1)", or "4 blocks x 256 MinLSTM (RMSNorm, GELU FFN 1024)". */
function describeStack(c: Omit<LanguageModelConfig, 'vocabSize'>): string {
  const name = CELL_KINDS[c.model].name;
  const lstm = [...(c.peepholes ? ['peepholes'] : []), ...((c.forgetBias ?? 0) !== 0 ? [`forget bias ${c.forgetBias}`] : [])].join(', ');
  if (!c.blocks) return `${c.layers} x ${c.hidden} ${name}${lstm ? ` (${lstm})` : ''}`;
  const parts = [lstm, `RMSNorm, GELU FFN ${FFN_MULTIPLE * c.hidden}`].filter((p) => p !== '').join('; ');
  return `${c.layers} block${c.layers === 1 ? '' : 's'} x ${c.hidden} ${name} (${parts})`;
}

/**
 * A model's architecture as messages and `recur info` print it:
 * "2 x 128 MinGRU, embedding 64", "1 x 256 RNN, one-hot input",
 * "2 x 128 LSTM (peepholes, forget bias 1), embedding 64", or for the
 * block form "4 blocks x 256 MinLSTM (RMSNorm, GELU FFN 1024)" (whose
 * embedding is as wide as its blocks).
 */
export function describeArchitecture(c: Omit<LanguageModelConfig, 'vocabSize'>): string {
  if (c.blocks) return describeStack(c);
  return `${describeStack(c)}, ${c.embed === 0 ? 'one-hot input' : `embedding ${c.embed}`}`;
}

/**
 * Block i's state-dict names (RecurrentBlock's children under `blocks.{i}.`):
 * `cell` is the prefix of the one-layer cell's PyTorch names (layer 0 of the registry's params).
 */
export function blockParamNames(i: number): {
  norm1: string;
  cell: string;
  norm2: string;
  ffnInWeight: string;
  ffnInBias: string;
  ffnOutWeight: string;
  ffnOutBias: string;
} {
  const p = `blocks.${i}.`;
  return {
    norm1: `${p}norm1.weight`,
    cell: `${p}cell.`,
    norm2: `${p}norm2.weight`,
    ffnInWeight: `${p}ffn.0.weight`,
    ffnInBias: `${p}ffn.0.bias`,
    ffnOutWeight: `${p}ffn.2.weight`,
    ffnOutBias: `${p}ffn.2.bias`,
  };
}

/** The block form's final RMSNorm weight, before the head. */
export const FINAL_NORM = 'norm.weight';

/** Every weight of a LanguageModel by state-dict name, with its shape (the order LanguageModel.stateDict() uses). */
export function lmShapes(c: LanguageModelConfig): Record<string, number[]> {
  const { vocabSize: V, layers, hidden: H, embed: E } = c;
  const shapes: Record<string, number[]> = {};
  if (E > 0) shapes['embedding.weight'] = [V, E];
  if (c.blocks) {
    const F = FFN_MULTIPLE * H;
    for (let i = 0; i < layers; i++) {
      const n = blockParamNames(i);
      shapes[n.norm1] = [H];
      for (const [name, shape] of Object.entries(layerParamShapes(c.model, 0, H, H, { peepholes: c.peepholes }))) shapes[n.cell + name] = shape;
      shapes[n.norm2] = [H];
      shapes[n.ffnInWeight] = [F, H];
      shapes[n.ffnInBias] = [F];
      shapes[n.ffnOutWeight] = [H, F];
      shapes[n.ffnOutBias] = [H];
    }
    shapes[FINAL_NORM] = [H];
  } else {
    for (let l = 0; l < layers; l++) {
      const input = l === 0 ? (E > 0 ? E : V) : H;
      for (const [name, shape] of Object.entries(layerParamShapes(c.model, l, input, H, { peepholes: c.peepholes }))) shapes[`rnn.${name}`] = shape;
    }
  }
  shapes['head.weight'] = [V, H];
  shapes['head.bias'] = [V];
  return shapes;
}
