/**
 * Char-LM checkpoints: one .safetensors file. Tensors: the model's weights
 * under their state-dict names (PyTorch's for the recurrent part) and the
 * optimizer's state under `optim.<param index>.<slot>`. Metadata key `recur`:
 * JSON with the model config, the vocabulary, the training options and
 * progress (step, epoch, batch position), the optimizer type, step and
 * hyper-parameters, the RNG state and the last validation loss.
 * No Node imports: the playground reads and writes the same bytes.
 */
import type { Tensor } from '../tensor/tensor.js';
import { CharLM, checkCharLMConfig, type CharLMConfig } from '../models/charlm.js';
import { Vocab } from '../data/text.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { RngState } from '../random/rng.js';
import type { RecurrentState } from '../nn/rnn/layers.js';
import { readSafetensorsWithMetadata, writeSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'recur-charlm';
export const CHECKPOINT_VERSION = 1;

export interface TrainingProgress {
  step: number;
  epoch: number;
  /** Next BPTT window within the epoch. */
  window: number;
  lastValLoss: number | null;
  /** Seconds spent training so far (over all resumed runs). */
  seconds: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  config: CharLMConfig;
  vocab: string[];
  /** The training options used (CLI names), so a resumed run uses the same ones. */
  options: Record<string, unknown>;
  progress: TrainingProgress;
  optimizer: { type: string; step: number; options: Record<string, number | boolean> } | null;
  rng: { s: RngState; spare: number | null } | null;
  createdBy: string;
}

export interface Checkpoint {
  model: CharLM;
  vocab: Vocab;
  meta: CheckpointMeta;
  /** Optimizer state ready for `optimizer.loadStateDict`, if the file has one. */
  optimizer: OptimizerStateDict | null;
  /** The hidden state carried between BPTT windows when the checkpoint was written, if saved. */
  state: RecurrentState | null;
}

export function encodeCheckpoint(
  model: CharLM, vocab: Vocab,
  extra: {
    options?: Record<string, unknown>; progress?: Partial<TrainingProgress>; optimizer?: OptimizerStateDict | null;
    rng?: CheckpointMeta['rng']; state?: RecurrentState | null;
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
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: model.config,
    vocab: vocab.toJSON(),
    options: extra.options ?? {},
    progress: { step: 0, epoch: 0, window: 0, lastValLoss: null, seconds: 0, ...extra.progress },
    optimizer: extra.optimizer ? { type: extra.optimizer.type, step: extra.optimizer.step, options: extra.optimizer.options } : null,
    rng: extra.rng ?? null,
    createdBy: extra.createdBy ?? 'recur',
  };
  return writeSafetensors(tensors, { recur: JSON.stringify(meta) });
}

/** Parse and check a checkpoint; errors are one sentence that says what is wrong with the file. */
export function decodeCheckpoint(bytes: Uint8Array, name = 'the checkpoint'): Checkpoint {
  let tensors: Record<string, Tensor>;
  let metadata: Record<string, string>;
  try {
    ({ tensors, metadata } = readSafetensorsWithMetadata(bytes));
  } catch (e) {
    throw new Error(`${name} is not a readable checkpoint: ${(e as Error).message.replace(/^readSafetensors: /, '')}`);
  }
  if (!metadata.recur) throw new Error(`${name} is a safetensors file but not a recur checkpoint (it has no 'recur' metadata)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.recur);
  } catch {
    throw new Error(`${name} has corrupt recur metadata (not valid JSON)`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${name} is not a recur char-LM checkpoint (format '${meta.format}')`);
  if (meta.version > CHECKPOINT_VERSION) {
    throw new Error(`${name} was written by a newer recur (checkpoint version ${meta.version}); upgrade recur to read it`);
  }
  let vocab: Vocab;
  let model: CharLM;
  try {
    vocab = new Vocab(meta.vocab);
    const config = checkCharLMConfig(meta.config);
    if (config.vocabSize !== vocab.size) throw new Error(`the model expects ${config.vocabSize} characters but the vocabulary has ${vocab.size}`);
    model = new CharLM(config);
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
