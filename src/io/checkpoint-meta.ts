/**
 * A checkpoint's `recur` metadata: its types and checks, with no tensor
 * imports (the embeddable sampler reads checkpoints with this alone;
 * checkpoint.ts builds the model on top). Errors are one sentence that says
 * what is wrong with the file.
 */
import { checkCharLMConfig, type CharLMConfig } from '../models/config.js';
import { Vocab } from '../data/text.js';
import { tokenizerFromSpec, type LMTokenizer, type TokenizerSpec, type WordTokenizer } from '../text/tokenizers.js';
import type { RngState } from '../random/rng.js';
import type { SafetensorsMetadata } from './safetensors-core.js';

export const CHECKPOINT_FORMAT = 'recur-charlm';
/** The newest version this recur reads (2: word tokenizers). Char checkpoints are still written as version 1. */
export const CHECKPOINT_VERSION = 2;

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
  /** Token strings by id (characters for a char model). */
  vocab: string[];
  /** How text becomes ids; absent in files from before word models (char). */
  tokenizer?: { kind: 'char' } | TokenizerSpec;
  /** The training options used (CLI names), so a resumed run uses the same ones. */
  options: Record<string, unknown>;
  progress: TrainingProgress;
  optimizer: { type: string; step: number; options: Record<string, number | boolean> } | null;
  rng: { s: RngState; spare: number | null } | null;
  createdBy: string;
}

/** Parse and check the metadata of a checkpoint (the model's weights are checked by whoever loads them). */
export function parseCheckpointMeta(metadata: SafetensorsMetadata, name = 'the checkpoint'): { meta: CheckpointMeta; vocab: LMTokenizer } {
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
  let vocab: LMTokenizer;
  try {
    const kind = meta.tokenizer?.kind ?? 'char';
    if (kind === 'word') vocab = tokenizerFromSpec(meta.tokenizer as TokenizerSpec) as WordTokenizer;
    else if (kind === 'char') vocab = new Vocab(meta.vocab);
    else throw new Error(`its tokenizer kind '${kind}' is unknown`);
    const config = checkCharLMConfig(meta.config);
    if (config.vocabSize !== vocab.size) throw new Error(`the model expects ${config.vocabSize} tokens but the vocabulary has ${vocab.size}`);
  } catch (e) {
    throw new Error(`${name} does not match its own model description: ${(e as Error).message}`);
  }
  return { meta, vocab };
}
