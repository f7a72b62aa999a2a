/**
 * Language-model checkpoints: one .safetensors file. Tensors: the model's weights
 * under their state-dict names (PyTorch's for the recurrent part) and the
 * optimizer's state under `optim.<param index>.<slot>`. Metadata key `recur`:
 * JSON with the model config, the vocabulary and the tokenizer (kind 'char'
 * for plain characters, else the tokenizer's full description; files without
 * it are char models), the training options and progress (step, epoch, batch
 * position), the optimizer type, step and hyper-parameters, the RNG state and
 * the last validation loss, and a CRC-32 of every tensor's bytes; metadata key
 * `recur_crc32`: a CRC-32 of that JSON text (see checkpoint-meta.ts). Char
 * checkpoints stay version 1 (readable by older recur, which ignores the
 * checksums); word checkpoints, and char ones with special tokens, are
 * version 2; block models (config.blocks), whatever their tokenizer, are
 * version 3, which recur from before the block form refuses by its version;
 * LSTMs with TensorFlow's options (config.forgetBias, config.peepholes) are
 * version 4, which an older recur refuses rather than run without them.
 * No Node imports: the playground reads and writes the same bytes.
 */
import type { Tensor } from '../tensor/tensor.js';
import { LanguageModel } from './charlm.js';
import { usesLstmOptions } from './config.js';
import { savedSpec, type LMTokenizer } from '../text/tokenizers.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { RecurrentState } from '../nn/rnn/layers.js';
import { float32Bytes, writeSafetensorsF32 } from '../io/safetensors.js';
import { tensor } from '../tensor/create.js';
import { Rng } from '../random/rng.js';
import { crc32Hex } from '../io/crc32.js';
import { CHECKPOINT_FORMAT, checkpointMetadata, readCheckpointArrays, type CheckpointMeta, type TrainingProgress } from './checkpoint-meta.js';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpointMeta, type CheckpointMeta, type TrainingProgress } from './checkpoint-meta.js';

/** A decoded checkpoint: the model with its weights loaded, its tokenizer, and what a resumed run needs. */
export interface Checkpoint {
  /** The model, rebuilt from the file's config with its weights. */
  model: LanguageModel;
  /** The tokenizer: a CharTokenizer or a WordTokenizer. */
  vocab: LMTokenizer;
  /** Everything else the file says: config, training options and progress, random state, who wrote it. */
  meta: CheckpointMeta;
  /** Optimizer state ready for `optimizer.loadStateDict`, if the file has one. */
  optimizer: OptimizerStateDict | null;
  /** The hidden state carried between BPTT windows when the checkpoint was written, if saved. */
  state: RecurrentState | null;
}

/**
 * A model and its tokenizer as the bytes of one .safetensors file, with
 * checksums; `extra` adds what resuming needs. The file loads in PyTorch
 * (safetensors) and in `recur sample`, the playground and recur-rnn/sampler.
 *
 * @example
 * ```ts
 * writeFileSync('model.safetensors', encodeCheckpoint(model, vocab));
 * const { model: again, vocab: v } = decodeCheckpoint(readFileSync('model.safetensors'));
 * sampleText(again, v, { length: 100, seed: 1 });
 * ```
 */
export function encodeCheckpoint(
  model: LanguageModel,
  vocab: LMTokenizer,
  extra: {
    /** Training options to record (CLI names), so a resumed run uses them. */
    options?: Record<string, unknown>;
    /** How far training got. */
    progress?: Partial<TrainingProgress>;
    /** The optimizer's state (`optimizer.stateDict()`), to resume with the same moments. */
    optimizer?: OptimizerStateDict | null;
    /** The training generator's state, so a resumed run draws the same numbers. */
    rng?: CheckpointMeta['rng'];
    /** The hidden state carried between windows. */
    state?: RecurrentState | null;
    /** What wrote the file (default 'recur'), e.g. 'recur import-torch'. */
    createdBy?: string;
  } = {},
): Uint8Array {
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  if (extra.state) {
    tensors['state.h'] = extra.state.h;
    if (extra.state.c) tensors['state.c'] = extra.state.c;
  }
  if (extra.optimizer) for (const [k, t] of Object.entries(extra.optimizer.state)) tensors[`optim.${k}`] = t;
  // the checksums are of the bytes written, so each tensor is serialised once and both use the result
  const data = Object.entries(tensors).map(([k, t]): [string, readonly number[], Uint8Array] => [k, t.shape, float32Bytes(t)]);
  const spec = savedSpec(vocab);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: oldestVersionFor(model.config, spec !== null),
    config: model.config,
    vocab: [...vocab.tokens],
    tokenizer: spec ?? { kind: 'char' },
    options: extra.options ?? {},
    progress: { step: 0, epoch: 0, window: 0, lastValLoss: null, seconds: 0, ...extra.progress },
    optimizer: extra.optimizer ? { type: extra.optimizer.type, step: extra.optimizer.step, options: extra.optimizer.options } : null,
    rng: extra.rng ?? null,
    createdBy: extra.createdBy ?? 'recur',
    checksums: Object.fromEntries(data.map(([k, , b]) => [k, crc32Hex(b)])),
  };
  return writeSafetensorsF32(data, checkpointMetadata(meta));
}

/** The oldest checkpoint version that describes a model of this config, with or without a tokenizer description (see CHECKPOINT_VERSION). */
function oldestVersionFor(config: LanguageModel['config'], tokenizerDescribed: boolean): number {
  if (usesLstmOptions(config)) return 4;
  if (config.blocks) return 3;
  return tokenizerDescribed ? 2 : 1;
}

/**
 * Parse and check a checkpoint (readCheckpointArrays: checksums, shapes
 * against the config, no NaN or infinities), then build the model; errors are
 * one sentence that says what is wrong with the file.
 */
export function decodeCheckpoint(bytes: Uint8Array, name = 'the checkpoint'): Checkpoint {
  const { meta, vocab, arrays } = readCheckpointArrays(bytes, name);
  const tensors: Record<string, Tensor> = {};
  for (const [k, a] of Object.entries(arrays)) tensors[k] = tensor(a.data, a.shape);
  let model: LanguageModel;
  try {
    // a generator of its own for its dropout masks (the weights are the file's): trainLM continues it from meta.rng
    model = new LanguageModel(meta.config, { rng: new Rng(0) });
    const weights: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) if (!k.startsWith('optim.') && !k.startsWith('state.')) weights[k] = t;
    model.loadStateDict(weights);
  } catch (e) {
    throw new Error(`${name} does not match its own model description: ${(e as Error).message}`);
  }
  let optimizer: OptimizerStateDict | null = null;
  if (meta.optimizer) {
    const state: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith('optim.')) state[k.slice(6)] = t;
    optimizer = { type: meta.optimizer.type, step: meta.optimizer.step, options: meta.optimizer.options, state };
  }
  const state: RecurrentState | null = tensors['state.h'] ? { h: tensors['state.h'], c: tensors['state.c'] } : null;
  return { model, vocab, meta, optimizer, state };
}
