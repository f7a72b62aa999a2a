/**
 * recur-rnn/sampler: a small, dependency-free ES module that loads a recur
 * checkpoint and streams text from it, for web pages (and Node). Bundled by
 * `npm run build` into one file, dist/sampler/recur-sampler.js.
 *
 * It imports only what sampling needs: the safetensors reader, the checkpoint
 * metadata checks, the js backend's kernels, the batch-1 stepper and the
 * sampling code (pick + loop) that `recur sample` runs, so with the same
 * checkpoint, options and seed it gives the same text as `recur sample`.
 * No tensors, no autograd, no WebAssembly binaries, no Node modules.
 *
 * @example
 * ```ts
 * import { loadSampler } from 'recur-rnn/sampler';
 * const sampler = await loadSampler('shakespeare.safetensors');
 * for await (const c of sampler.stream({ prime: 'ROMEO:', length: 200, seed: 1 })) el.textContent += c;
 * ```
 *
 * @module recur-rnn/sampler
 */
import { createJsBackend } from '../backend/js/index.js';
import type { Backend, Storage } from '../backend/backend.js';
import { checkpointSizeProblem, readCheckpointArrays, type CheckpointMeta } from '../models/checkpoint-meta.js';
import { blockParamNames, FFN_MULTIPLE, FINAL_NORM, lmShapes, type LanguageModelConfig } from '../models/config.js';
import { StepperCore, type StepperLayer, type StepperWeights } from '../generate/stepper-core.js';
import { RMS_NORM_EPS } from '../ops/norm-gelu-core.js';
import { CELL_KINDS, layerCell, peepholeParamNames } from '../nn/rnn/kinds.js';
import { generateTokens, prepareGeneration, sampleDefaults, type GenerateOptions } from '../generate/core.js';
import { Rng } from '../random/rng.js';
import type { LMTokenizer } from '../text/tokenizers.js';

/** What to generate and how: the same options as `recur sample`. */
export interface SamplerOptions extends GenerateOptions {
  /** Text to condition on (default: a newline if the vocabulary has one). Not part of the output. */
  prime?: string;
  /** Random seed (default: from the clock, as `recur sample`). */
  seed?: number;
  /** Called with each generated character (or word with its spacing) as soon as it exists. */
  onChar?: (c: string) => void;
}

/** `recur sample`'s defaults (the same object), so that the same options give the same text. */
export const SAMPLE_DEFAULTS = sampleDefaults;

/** Layer l of a recurrent stack whose names start with `prefix` ('rnn.', or 'blocks.{i}.cell.' with l = 0). */
function stepperLayer(store: Record<string, Storage>, config: LanguageModelConfig, prefix: string, l: number, inputSize: number): StepperLayer {
  const n = CELL_KINDS[config.model].params(l);
  // lmShapes (from the registry) says which of PyTorch's four names this kind has: a scan kind has no W_hh, b_hh
  const get = (key: string): Storage | null => store[prefix + key] ?? null;
  const p = peepholeParamNames(l);
  return {
    weightIh: store[prefix + n.weightIh],
    inputSize,
    weightHh: get(n.weightHh),
    biasIh: get(n.biasIh),
    biasHh: get(n.biasHh),
    peepholes: config.peepholes ? { i: store[prefix + p.i], f: store[prefix + p.f], o: store[prefix + p.o] } : null,
    forgetGateOffset: config.forgetBias ?? 0,
  };
}

/** A checkpoint's parameters (already checked against lmShapes) as the stepper's weights, in either form. */
function stepperWeights(config: LanguageModelConfig, store: Record<string, Storage>, backend: Backend): StepperWeights {
  const { model, layers, hidden, embed, vocabSize } = config;
  const common = {
    backend,
    // checkpoints hold tanh RNNs only (LanguageModel builds no other), so the default nonlinearity
    cell: layerCell(model),
    vocabSize,
    hidden,
    embed,
    embedding: store['embedding.weight'] ?? null,
    headWeight: store['head.weight'],
    headBias: store['head.bias'] ?? null,
  };
  if (!config.blocks) {
    return { ...common, layers: Array.from({ length: layers }, (_, l) => stepperLayer(store, config, 'rnn.', l, l === 0 ? embed || vocabSize : hidden)) };
  }
  const names = Array.from({ length: layers }, (_, i) => blockParamNames(i));
  return {
    ...common,
    layers: names.map((n) => stepperLayer(store, config, n.cell, 0, hidden)),
    blocks: {
      blocks: names.map((n) => ({
        norm1: store[n.norm1],
        norm2: store[n.norm2],
        ffnInWeight: store[n.ffnInWeight],
        ffnInBias: store[n.ffnInBias] ?? null,
        ffnOutWeight: store[n.ffnOutWeight],
        ffnOutBias: store[n.ffnOutBias] ?? null,
      })),
      norm: store[FINAL_NORM],
      ffnHidden: FFN_MULTIPLE * hidden,
      eps: RMS_NORM_EPS,
    },
  };
}

/**
 * A checkpoint loaded for generating text, with nothing else of the library:
 * for a web page that only shows a trained model. It checks the file as
 * strictly as `recur sample` does, and computes on the js backend.
 */
export class Sampler {
  /** The model's description: cell type, layers, hidden and embedding sizes, vocabulary size. */
  readonly config: LanguageModelConfig;
  /** The tokens the model knows, in id order: characters (or words, punctuation and spacing for a word model). */
  readonly chars: readonly string[];
  /** The checkpoint's recur metadata (training progress, options, ...). */
  readonly meta: CheckpointMeta;
  private readonly stepper: StepperCore;
  private readonly vocab: LMTokenizer;

  /** Parse and check a checkpoint's bytes; errors are one sentence about the file. */
  constructor(bytes: Uint8Array | ArrayBuffer, name = 'the checkpoint') {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const tooBig = checkpointSizeProblem(u8.length, name);
    if (tooBig) throw new Error(tooBig);
    // the CLI's and the playground's checks (checksums, shapes, no NaN), so every reader refuses the same files
    const { meta, vocab, arrays } = readCheckpointArrays(u8, name, (key) => !key.startsWith('optim.') && !key.startsWith('state.'));
    const config = meta.config;
    const bk = createJsBackend('f32');
    const store: Record<string, Storage> = {};
    for (const key of Object.keys(lmShapes(config))) store[key] = bk.fromValues(arrays[key].data);
    this.config = config;
    this.chars = vocab.tokens;
    this.vocab = vocab;
    this.meta = meta;
    this.stepper = new StepperCore(stepperWeights(config, store, bk));
  }

  /** Characters (or words) one by one as they are made (synchronous); each call starts from a fresh state. */
  *generate(opts: SamplerOptions = {}): Generator<string, void, undefined> {
    const o = { ...SAMPLE_DEFAULTS, ...opts };
    const { length, prime, primeIds, decode, banned } = prepareGeneration(this.vocab, o);
    const rng = new Rng(o.seed ?? Date.now() % 2 ** 31);
    this.stepper.resetArrays();
    for (const c of generateTokens((id) => this.stepper.step(id), decode, prime, primeIds, length, o, rng, banned)) {
      o.onChar?.(c);
      yield c;
    }
  }

  /** The whole text at once (the generated part, without the prime). */
  sample(opts: SamplerOptions = {}): string {
    let out = '';
    for (const c of this.generate(opts)) out += c;
    return out;
  }

  /**
   * Characters as an async stream that yields to the event loop every ~15 ms
   * of work, so a page stays responsive and shows the text as it grows:
   * `for await (const c of sampler.stream({ seed: 1 })) el.textContent += c`.
   */
  async *stream(opts: SamplerOptions = {}): AsyncGenerator<string, void, undefined> {
    let t = Date.now();
    for (const c of this.generate(opts)) {
      yield c;
      if (Date.now() - t > 15) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        t = Date.now();
      }
    }
  }
}

/** A Sampler from a checkpoint's bytes, or from a URL (fetched). */
export async function loadSampler(source: Uint8Array | ArrayBuffer | string | URL): Promise<Sampler> {
  if (typeof source === 'string' || source instanceof URL) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`cannot fetch ${source}: HTTP ${res.status}`);
    const tooBig = checkpointSizeProblem(Number(res.headers.get('content-length') ?? 0), `'${source}'`);
    if (tooBig) throw new Error(tooBig);
    return new Sampler(await res.arrayBuffer(), `'${source}'`);
  }
  return new Sampler(source);
}
