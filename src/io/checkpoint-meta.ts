/**
 * A checkpoint's `recur` metadata: its types and checks, with no tensor
 * imports (the embeddable sampler reads checkpoints with this alone;
 * checkpoint.ts builds the model on top). Errors are one sentence that says
 * what is wrong with the file.
 */
import { charLMShapes, checkCharLMConfig, type CharLMConfig } from '../models/config.js';
import { parseJsonLimited } from './json-limits.js';
import { Vocab } from '../data/text.js';
import { tokenizerFromSpec, type LMTokenizer, type TokenizerSpec, type WordTokenizer } from '../text/tokenizers.js';
import type { RngState } from '../random/rng.js';
import type { SafetensorsMetadata } from './safetensors-core.js';

export const CHECKPOINT_FORMAT = 'recur-charlm';
/** The newest version this recur reads (2: word tokenizers). Char checkpoints are still written as version 1. */
export const CHECKPOINT_VERSION = 2;

/** The largest checkpoint file recur reads: 2 GiB, Node's limit for reading a file at once and far above MAX_PARAMETERS' checkpoint. */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

/** A sentence if a file of this many bytes is too big to be a checkpoint, checked before reading it. */
export function checkpointSizeProblem(bytes: number, name = 'the checkpoint'): string | null {
  if (bytes <= MAX_CHECKPOINT_BYTES) return null;
  return `${name} is ${(bytes / 2 ** 30).toFixed(1)} GiB, more than the ${Math.round(MAX_CHECKPOINT_BYTES / 2 ** 30)} GiB a recur checkpoint can be; it is not a recur checkpoint`;
}

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** Every field a reader relies on, checked for type and range: what is wrong, in a few words, or null. */
function metaProblem(meta: Record<string, unknown>): string | null {
  if (!Number.isInteger(meta.version) || (meta.version as number) < 1) return `its version ${JSON.stringify(meta.version)} is not a whole number`;
  if (!Array.isArray(meta.vocab)) return 'its vocabulary is not a list';
  const p = meta.progress;
  if (!isObject(p)) return 'its training progress is missing';
  for (const k of ['step', 'epoch', 'window'] as const) if (!isCount(p[k])) return `its progress ${k} ${JSON.stringify(p[k])} is not a whole number of 0 or more`;
  if (!(typeof p.seconds === 'number' && p.seconds >= 0 && Number.isFinite(p.seconds))) return `its progress seconds ${JSON.stringify(p.seconds)} is not a time`;
  if (p.lastValLoss !== null && !(typeof p.lastValLoss === 'number' && Number.isFinite(p.lastValLoss))) return `its last validation loss ${JSON.stringify(p.lastValLoss)} is not a number`;
  if (meta.options !== undefined && !isObject(meta.options)) return 'its training options are not an object';
  const o = meta.optimizer;
  if (o !== null && o !== undefined) {
    if (!isObject(o) || typeof o.type !== 'string' || !isCount(o.step) || !isObject(o.options)) return 'its optimizer description is not { type, step, options }';
    if (!Object.values(o.options).every((v) => typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) return 'its optimizer options are not all numbers';
  }
  const r = meta.rng;
  if (r !== null && r !== undefined) {
    if (!isObject(r) || !Array.isArray(r.s) || r.s.length !== 4 || !r.s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) || r.s.every((w) => w === 0)) {
      return 'its random-generator state is not four 32-bit words, not all zero';
    }
    if (r.spare !== null && r.spare !== undefined && !(typeof r.spare === 'number' && Number.isFinite(r.spare))) return 'its random-generator state is not four 32-bit words and a number';
  }
  return null;
}

/** Parse and check the metadata of a checkpoint (the model's weights are checked by whoever loads them). */
export function parseCheckpointMeta(metadata: SafetensorsMetadata, name = 'the checkpoint'): { meta: CheckpointMeta; vocab: LMTokenizer } {
  if (!metadata.recur) throw new Error(`${name} is a safetensors file but not a recur checkpoint (it has no 'recur' metadata)`);
  let raw: unknown;
  try {
    raw = parseJsonLimited(metadata.recur, 'its recur metadata');
  } catch (e) {
    throw new Error(`${name} has corrupt recur metadata (${(e as Error).message.replace(/^its recur metadata /, '')})`);
  }
  if (!isObject(raw)) throw new Error(`${name} has corrupt recur metadata (not a JSON object)`);
  if (raw.format !== CHECKPOINT_FORMAT) throw new Error(`${name} is not a recur char-LM checkpoint (format '${raw.format}')`);
  if ((raw.version as number) > CHECKPOINT_VERSION) {
    throw new Error(`${name} was written by a newer recur (checkpoint version ${raw.version}); upgrade recur to read it`);
  }
  const problem = metaProblem(raw);
  if (problem) throw new Error(`${name} has corrupt recur metadata: ${problem}`);
  const meta = raw as unknown as CheckpointMeta;
  let vocab: LMTokenizer;
  try {
    // the config first: its caps keep everything after this from allocating for a hostile size
    const config = checkCharLMConfig(meta.config);
    const kind = meta.tokenizer?.kind ?? 'char';
    if (kind === 'word') vocab = tokenizerFromSpec(meta.tokenizer as TokenizerSpec) as WordTokenizer;
    else if (kind === 'char') vocab = new Vocab(meta.vocab);
    else throw new Error(`its tokenizer kind '${kind}' is unknown`);
    if (config.vocabSize !== vocab.size) throw new Error(`the model expects ${config.vocabSize} tokens but the vocabulary has ${vocab.size}`);
  } catch (e) {
    throw new Error(`${name} does not match its own model description: ${(e as Error).message}`);
  }
  return { meta, vocab };
}

/**
 * The tensors a checkpoint of this config may hold, checked from the header
 * alone (before anything is decoded or a model is built): every weight with
 * the shape the config gives it, the carried state `state.h` (and `state.c`
 * for an LSTM) as [layers, batch, hidden], optimizer slots `optim.<i>.<slot>`
 * shaped like weight i, and nothing else.
 */
export function checkCheckpointTensors(shapes: Record<string, readonly number[]>, config: CharLMConfig, name = 'the checkpoint'): void {
  const want = charLMShapes(config);
  const weights = Object.values(want);
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  const mismatch = (msg: string): never => { throw new Error(`${name} does not match its own model description: ${msg}`); };
  for (const [key, shape] of Object.entries(want)) {
    const got = shapes[key];
    if (!got) mismatch(`'${key}' is missing`);
    if (got.join() !== shape.join()) mismatch(`'${key}' has shape ${fmt(got)}, not ${fmt(shape)}`);
  }
  const h = shapes['state.h'];
  for (const [key, got] of Object.entries(shapes)) {
    if (key in want) continue;
    if (key === 'state.h' || key === 'state.c') {
      if (key === 'state.c' && config.model !== 'lstm') mismatch(`'state.c' is a cell state, which a${config.model === 'rnn' ? 'n RNN' : ' GRU'} does not have`);
      if (key === 'state.c' && !h) mismatch("'state.c' is there without 'state.h'");
      const ok = got.length === 3 && got[0] === config.layers && got[1] >= 1 && got[2] === config.hidden && (key === 'state.h' || got[1] === h[1]);
      if (!ok) mismatch(`'${key}' has shape ${fmt(got)}, not [${config.layers}, batch, ${config.hidden}]${key === 'state.c' ? ` with the batch of 'state.h'` : ''}`);
      continue;
    }
    const m = /^optim\.(\d+)\.\w+$/.exec(key);
    if (m) {
      const p = weights[Number(m[1])];
      if (!p) mismatch(`'${key}' belongs to none of the model's ${weights.length} weights`);
      if (got.join() !== p.join()) mismatch(`'${key}' has shape ${fmt(got)}, but weight ${m[1]} is ${fmt(p)}`);
      continue;
    }
    mismatch(`'${key}' is not a tensor of this model`);
  }
  if (config.model === 'lstm' && h && !shapes['state.c']) mismatch("'state.h' is there without the LSTM's 'state.c'");
}
