/**
 * Sampling text from a CharLM (over characters or words): prime text,
 * temperature, top-k, top-p (nucleus), argmax, char-rnn's "argmax except
 * after a space", a seed, and a callback that receives each piece of text as
 * it is made. Builds no graph.
 */
import { CharStepper } from './stepper.js';
import { Rng } from '../random/rng.js';
import type { CharLM } from '../models/charlm.js';
import type { LMTokenizer } from '../text/tokenizers.js';

export interface PickOptions {
  /** Divide logits by this before the softmax (default 1); must be > 0. */
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. */
  topP?: number;
  /** Always take the most likely token. */
  argmax?: boolean;
}

export function checkPickOptions(o: PickOptions): void {
  if (o.temperature !== undefined && !(o.temperature > 0 && Number.isFinite(o.temperature))) {
    throw new Error(`temperature must be a positive number, got ${o.temperature}`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw new Error(`top-k must be a whole number of at least 1, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p must be above 0 and at most 1, got ${o.topP}`);
}

/** Choose a token from logits. Pure apart from the RNG draw, so it is easy to test. */
export function pickToken(logits: ArrayLike<number>, o: PickOptions, rng: Rng): number {
  const n = logits.length;
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
  if (o.argmax) return best;
  const temp = o.temperature ?? 1;
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i] = Math.exp((logits[i] - logits[best]) / temp);
  let order: number[] | null = null;
  if (o.topK !== undefined || o.topP !== undefined) {
    order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    let keep = Math.min(o.topK ?? n, n);
    if (o.topP !== undefined) {
      let acc = 0;
      for (let j = 0; j < keep; j++) {
        acc += p[order[j]] / sum;
        if (acc >= o.topP) {
          keep = j + 1;
          break;
        }
      }
    }
    const kept = new Set(order.slice(0, keep));
    sum = 0;
    for (let i = 0; i < n; i++) if (kept.has(i)) sum += p[i];
    else p[i] = 0;
  }
  let u = rng.random() * sum;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    u -= p[i];
    if (u < 0) return i;
  }
  // rounding left u a hair above zero: take the last token still allowed
  for (let i = n - 1; i >= 0; i--) if (p[i] > 0) return i;
  return best;
}

export interface SampleOptions extends PickOptions {
  /** Text to condition on (default: a newline if the vocabulary has one). */
  prime?: string;
  /** Tokens to generate: characters, or words for a word model (default 500). */
  length?: number;
  /** char-rnn's option: argmax, except sample the character after a space. */
  argmaxExceptAfterSpace?: boolean;
  seed?: number;
  rng?: Rng;
  /** Called with each generated character (or word with its spacing) as soon as it exists. */
  onChar?: (c: string) => void;
  /** Let a word model generate its unknown-word token (default: never). */
  allowUnknown?: boolean;
}

/** Generate text; returns only the generated part (not the prime). */
export function sampleText(model: CharLM, vocab: LMTokenizer, opts: SampleOptions = {}): string {
  checkPickOptions(opts);
  const length = opts.length ?? 500;
  if (!(Number.isInteger(length) && length >= 0)) throw new Error(`length must be a whole number, got ${length}`);
  const rng = opts.rng ?? new Rng(opts.seed ?? Date.now());
  const prime = opts.prime ?? (vocab.has('\n') ? '\n' : vocab.tokens[vocab.kind === 'word' ? vocab.specials.length : 0]);
  if (prime.length === 0) throw new Error('the prime text is empty: give at least one character, or leave --prime out');
  // a char Vocab names any character outside it; a word tokenizer reads unknown words as <unk>
  const primeIds = vocab.encode(prime);
  if (primeIds.length === 0) throw new Error('the prime text has no tokens (a word model needs a word, punctuation or a newline)');
  const decode = vocab.streamDecoder(primeIds);
  const banned = vocab.kind === 'word' && !opts.allowUnknown ? vocab.id(vocab.unknown) : -1;
  const wasTraining = model.training;
  model.eval();
  try {
    // one character at a time on preallocated buffers: no tensors, no graph
    const stepper = new CharStepper(model);
    try {
      let logits: Float32Array = new Float32Array(0);
      for (const id of primeIds) logits = stepper.step(id);
      let out = '';
      let prev = prime[prime.length - 1];
      for (let i = 0; i < length; i++) {
        const argmax = opts.argmax || (opts.argmaxExceptAfterSpace === true && prev !== ' ');
        if (banned >= 0) logits[banned] = -Infinity;
        const id = pickToken(logits, { ...opts, argmax }, rng);
        const c = decode(id);
        out += c;
        if (c.length > 0) prev = c[c.length - 1];
        opts.onChar?.(c);
        if (i === length - 1) break;
        logits = stepper.step(id);
      }
      return out;
    } finally {
      stepper.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
}
