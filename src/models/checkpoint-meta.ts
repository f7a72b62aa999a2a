/**
 * A checkpoint's `recur` metadata and the checks of a checkpoint file, with
 * no tensor imports: readCheckpointArrays is the one reader of checkpoint
 * bytes (the embeddable sampler uses it alone; checkpoint.ts builds the model
 * on top). Errors are one sentence that says what is wrong with the file.
 *
 * Integrity: the recur JSON records a CRC-32 of every tensor's bytes
 * (`checksums`), and the `recur_crc32` metadata key a CRC-32 of the recur
 * JSON's UTF-8 text, so a changed byte anywhere that matters is found before
 * anything is built. Files written before checksums have neither and are
 * read unverified.
 */
import { lmShapes, checkLMConfig, type LanguageModelConfig } from './config.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';
import { parseJsonLimited } from '../io/json-limits.js';
import { tokenizerFromSaved, type LMTokenizer, type TokenizerSpec } from '../text/tokenizers.js';
import type { RngState } from '../random/rng.js';
import { decodeSafetensorsEntry, readSafetensorsHeader, type RawTensor, type SafetensorsHeader, type SafetensorsMetadata } from '../io/safetensors-core.js';
import { crc32Hex } from '../io/crc32.js';

export const CHECKPOINT_FORMAT = 'recur-charlm';
/**
 * The newest version this recur reads (2: tokenizer descriptions, for words;
 * 3: the block form, config.blocks; 4: an LSTM's forgetBias and peepholes).
 * Each file is written with the oldest version that describes it, so plain
 * char checkpoints are still version 1, and a recur too old for blocks says
 * "upgrade" instead of misreading one (an older recur would ignore a
 * forgetBias it does not know, and sample from a different model).
 */
export const CHECKPOINT_VERSION = 4;

/** The largest checkpoint file recur reads: 2 GiB, Node's limit for reading a file at once and far above MAX_PARAMETERS' checkpoint. */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

/** A sentence if a file of this many bytes is too big to be a checkpoint, checked before reading it. */
export function checkpointSizeProblem(bytes: number, name = 'the checkpoint'): string | null {
  if (bytes <= MAX_CHECKPOINT_BYTES) return null;
  return `${name} is ${(bytes / 2 ** 30).toFixed(1)} GiB, more than the ${Math.round(MAX_CHECKPOINT_BYTES / 2 ** 30)} GiB a recur checkpoint can be; it is not a recur checkpoint`;
}

/** How far a training run got: where a resumed run continues. */
export interface TrainingProgress {
  /** Steps done. */
  step: number;
  /** The current epoch (from 0). */
  epoch: number;
  /** Next BPTT window within the epoch. */
  window: number;
  /** The last evaluation's validation loss, or null before the first. */
  lastValLoss: number | null;
  /** Seconds spent training so far (over all resumed runs). */
  seconds: number;
}

/** A checkpoint's `recur` metadata, as stored (JSON) in the file. */
export interface CheckpointMeta {
  /** Always 'recur-charlm' (the format's name from before word models; kept so older files and readers agree). */
  format: typeof CHECKPOINT_FORMAT;
  /** 1 for character models, 2 for word models (and char models with special tokens), 3 for block models, 4 for LSTMs with forgetBias or peepholes. */
  version: number;
  /** The model's description. */
  config: LanguageModelConfig;
  /** Token strings by id (characters for a char model). */
  vocab: string[];
  /** How text becomes ids; absent in files from before word models (char). */
  tokenizer?:
    | {
        /** A character model. */
        kind: 'char';
      }
    | TokenizerSpec;
  /** The training options used (CLI names), so a resumed run uses the same ones. */
  options: Record<string, unknown>;
  /** How far training got. */
  progress: TrainingProgress;
  /** The optimizer's kind, step count and hyper-parameters (its tensors are stored as `optim.*`), or null. */
  optimizer: {
    /** The optimizer's name ('Adam', ...). */
    type: string;
    /** Steps it took. */
    step: number;
    /** Its hyper-parameters. */
    options: Record<string, number | boolean>;
  } | null;
  /** The training generator's state (see `Rng.getState`), or null. */
  rng: {
    /** The generator's words. */
    s: RngState;
    /** The pending normal deviate. */
    spare: number | null;
  } | null;
  /** What wrote the file: 'recur', 'recur import-torch', ... */
  createdBy: string;
  /** CRC-32 of each tensor's bytes as stored (F32), by tensor name, as 8 hex digits; absent in files from before checksums. */
  checksums?: Record<string, string>;
}

/** The metadata key holding the CRC-32 of the recur JSON text (beside `recur`, since the JSON cannot hold its own checksum). */
export const METADATA_CHECKSUM_KEY = 'recur_crc32';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const isCrc = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{8}$/.test(v);

/** The safetensors metadata of a checkpoint: its recur JSON and that text's checksum. */
export function checkpointMetadata(meta: CheckpointMeta): SafetensorsMetadata {
  const recur = JSON.stringify(meta);
  return { recur, [METADATA_CHECKSUM_KEY]: crc32Hex(utf8(recur)) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** Every field a reader relies on, checked for type and range: what is wrong, in a few words, or null. */
function metaProblem(meta: Record<string, unknown>): string | null {
  if (!Number.isInteger(meta.version) || (meta.version as number) < 1) return `its version ${JSON.stringify(meta.version)} is not a whole number`;
  if (!Array.isArray(meta.vocab)) return 'its vocabulary is not a list';
  const p = meta.progress;
  if (!isObject(p)) return 'its training progress is missing';
  for (const k of ['step', 'epoch', 'window'] as const)
    if (!isCount(p[k])) return `its progress ${k} ${JSON.stringify(p[k])} is not a whole number of 0 or more`;
  if (!(typeof p.seconds === 'number' && p.seconds >= 0 && Number.isFinite(p.seconds)))
    return `its progress seconds ${JSON.stringify(p.seconds)} is not a time`;
  if (p.lastValLoss !== null && !(typeof p.lastValLoss === 'number' && Number.isFinite(p.lastValLoss)))
    return `its last validation loss ${JSON.stringify(p.lastValLoss)} is not a number`;
  if (meta.options !== undefined && !isObject(meta.options)) return 'its training options are not an object';
  const o = meta.optimizer;
  if (o !== null && o !== undefined) {
    if (!isObject(o) || typeof o.type !== 'string' || !isCount(o.step) || !isObject(o.options))
      return 'its optimizer description is not { type, step, options }';
    if (!Object.values(o.options).every((v) => typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))))
      return 'its optimizer options are not all numbers';
  }
  const c = meta.checksums;
  if (c !== undefined && !(isObject(c) && Object.values(c).every(isCrc))) return 'its tensor checksums are not 8 hex digits each';
  const r = meta.rng;
  if (r !== null && r !== undefined) {
    if (
      !isObject(r) ||
      !Array.isArray(r.s) ||
      r.s.length !== 4 ||
      !r.s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) ||
      r.s.every((w) => w === 0)
    ) {
      return 'its random-generator state is not four 32-bit words, not all zero';
    }
    if (r.spare !== null && r.spare !== undefined && !(typeof r.spare === 'number' && Number.isFinite(r.spare)))
      return 'its random-generator state is not four 32-bit words and a number';
  }
  return null;
}

/** Parse and check the metadata of a checkpoint (the model's weights are checked by whoever loads them). */
export function parseCheckpointMeta(metadata: SafetensorsMetadata, name = 'the checkpoint'): { meta: CheckpointMeta; vocab: LMTokenizer } {
  if (!metadata.recur) throw new Error(`${name} is a safetensors file but not a recur checkpoint (it has no 'recur' metadata)`);
  // before parsing: a changed byte can leave valid JSON that says something else (a step count, a loss)
  const crc = metadata[METADATA_CHECKSUM_KEY];
  if (crc !== undefined) {
    if (!isCrc(crc)) throw new Error(`${name} is damaged: its recur metadata checksum is not 8 hex digits`);
    if (crc32Hex(utf8(metadata.recur)) !== crc) throw new Error(`${name} is damaged: its recur metadata fails its checksum`);
  }
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
    const config = checkLMConfig(meta.config);
    vocab = tokenizerFromSaved(meta.vocab, meta.tokenizer);
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
export function checkCheckpointTensors(shapes: Record<string, readonly number[]>, config: LanguageModelConfig, name = 'the checkpoint'): void {
  const want = lmShapes(config);
  const weights = Object.values(want);
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  const mismatch = (msg: string): never => {
    throw new Error(`${name} does not match its own model description: ${msg}`);
  };
  for (const [key, shape] of Object.entries(want)) {
    const got = shapes[key];
    if (!got) mismatch(`'${key}' is missing`);
    if (got.join() !== shape.join()) mismatch(`'${key}' has shape ${fmt(got)}, not ${fmt(shape)}`);
  }
  const h = shapes['state.h'];
  const cell = CELL_KINDS[config.model];
  for (const [key, got] of Object.entries(shapes)) {
    if (key in want) continue;
    if (key === 'state.h' || key === 'state.c') {
      if (key === 'state.c' && !cell.cellState) mismatch(`'state.c' is a cell state, which ${cell.article} does not have`);
      if (key === 'state.c' && !h) mismatch("'state.c' is there without 'state.h'");
      const ok = got.length === 3 && got[0] === config.layers && got[1] >= 1 && got[2] === config.hidden && (key === 'state.h' || got[1] === h[1]);
      if (!ok)
        mismatch(`'${key}' has shape ${fmt(got)}, not [${config.layers}, batch, ${config.hidden}]${key === 'state.c' ? ` with the batch of 'state.h'` : ''}`);
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
  if (cell.cellState && h && !shapes['state.c']) mismatch(`'state.h' is there without the ${cell.name}'s 'state.c'`);
}

/**
 * Each tensor's bytes against the checksum the recur metadata records for
 * it: the same names on both sides, F32 data (what the checksums are of), the
 * same CRC-32. Data offsets moved in the header point a tensor at other bytes,
 * so they fail here too.
 */
function verifyChecksums(bytes: Uint8Array, header: SafetensorsHeader, checksums: Record<string, string>, name: string): void {
  const damaged = (msg: string): never => {
    throw new Error(`${name} is damaged: ${msg}`);
  };
  const stored = new Map(header.entries);
  for (const key of Object.keys(checksums)) if (!stored.has(key)) damaged(`it lists a checksum for tensor '${key}', which is missing`);
  for (const [key, e] of header.entries) {
    const want = checksums[key];
    if (want === undefined) damaged(`tensor '${key}' has no checksum`);
    if (e.dtype !== 'F32') damaged(`tensor '${key}' is stored as ${e.dtype}, but its checksum is of F32 data`);
    const [begin, end] = e.data_offsets;
    if (crc32Hex(bytes.subarray(header.dataStart + begin, header.dataStart + end)) !== want) damaged(`tensor '${key}' fails its checksum`);
  }
}

/** False if any value is NaN or infinite. */
function allFinite(a: Float32Array): boolean {
  // x - x is 0 for every finite x and NaN for NaN and both infinities
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false;
  return true;
}

/**
 * Read and check a checkpoint's bytes, the one path for every reader (the
 * CLI, the playground, the sampler): the safetensors header, the metadata's
 * checksum, the metadata, every tensor's shape against the config, every
 * tensor's checksum, and then each decoded tensor for NaN and infinities
 * (weights, carried state and optimizer moments alike: any of them would
 * poison training or sampling). Nothing is decoded until the header alone
 * has been checked, so a hostile file cannot make this allocate more than a
 * few times its own size.
 */
export function readCheckpointArrays(
  bytes: Uint8Array,
  name = 'the checkpoint',
  /** Which tensors to return (all by default); the others are still checked, then dropped, so a sampler holds only the weights. */
  keep: (key: string) => boolean = () => true,
): { meta: CheckpointMeta; vocab: LMTokenizer; arrays: Record<string, RawTensor> } {
  let header: SafetensorsHeader;
  try {
    header = readSafetensorsHeader(bytes);
  } catch (e) {
    throw new Error(`${name} is not a readable checkpoint: ${(e as Error).message.replace(/^readSafetensors: /, '')}`);
  }
  const { meta, vocab } = parseCheckpointMeta(header.metadata, name);
  checkCheckpointTensors(Object.fromEntries(header.entries.map(([k, e]) => [k, e.shape])), meta.config, name);
  if (meta.checksums) verifyChecksums(bytes, header, meta.checksums, name);
  const arrays: Record<string, RawTensor> = {};
  for (const [key, e] of header.entries) {
    const data = decodeSafetensorsEntry(bytes, e, header.dataStart);
    if (!allFinite(data)) throw new Error(`${name} is damaged: tensor '${key}' holds NaN or infinite values`);
    if (keep(key)) arrays[key] = { shape: e.shape, data };
  }
  return { meta, vocab, arrays };
}
