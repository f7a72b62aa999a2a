/**
 * A LanguageModel's description and the shapes of its weights, with no tensor
 * imports: the embeddable sampler checks checkpoints with this alone.
 */
import { cellKindChoices, isCellKind, layerParamShapes, type CellKind } from '../nn/rnn/kinds.js';

/** A LanguageModel's recurrent cell: a kind from the registry (nn/rnn/kinds.ts). */
export type CellType = CellKind;

/** A `LanguageModel`'s description: what checkpoints store as `config`, and all it takes to rebuild the model's shapes. */
export interface LanguageModelConfig {
  /** The number of tokens (the tokenizer's size). */
  vocabSize: number;
  /** The recurrent cell: 'lstm', 'gru' or 'rnn'. */
  model: CellType;
  /** Recurrent layers stacked. */
  layers: number;
  /** Hidden size of each layer. */
  hidden: number;
  /** Embedding size; 0 feeds one-hot vectors (min-char-rnn). */
  embed: number;
  /** Dropout probability between layers and before the head, in training (from 0, below 1). */
  dropout: number;
}

/** The model defaults (the CLI's and the playground's too); dropout 0.1 was measured with defaultTrainOptions. */
export const defaultLMConfig: Omit<LanguageModelConfig, 'vocabSize'> = { model: 'lstm', layers: 2, hidden: 128, embed: 64, dropout: 0.1 };

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
  const n = lmParameterCount(c);
  if (n > MAX_PARAMETERS) {
    throw new Error(
      `a ${c.layers} x ${c.hidden} ${c.model.toUpperCase()} with vocabulary ${c.vocabSize} and embedding ${c.embed} has ` +
        `${n.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} recur builds`,
    );
  }
  return c;
}

/** Every weight of a LanguageModel by state-dict name, with its shape (the order LanguageModel.stateDict() uses). */
export function lmShapes(c: LanguageModelConfig): Record<string, number[]> {
  const { vocabSize: V, layers, hidden: H, embed: E } = c;
  const shapes: Record<string, number[]> = {};
  if (E > 0) shapes['embedding.weight'] = [V, E];
  for (let l = 0; l < layers; l++) {
    for (const [name, shape] of Object.entries(layerParamShapes(c.model, l, l === 0 ? (E > 0 ? E : V) : H, H))) shapes[`rnn.${name}`] = shape;
  }
  shapes['head.weight'] = [V, H];
  shapes['head.bias'] = [V];
  return shapes;
}
