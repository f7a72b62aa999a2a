/**
 * The sampling logic itself, with no model or tensor imports: choosing a
 * token from logits (temperature, top-k, top-p, argmax) and the generation
 * loop (prime, pick, feed back, char-rnn's "argmax except after a space"),
 * over characters or words (a word tokenizer's spacing is rebuilt as the
 * words come). `sampleText` (and so `recur sample`) and the embeddable
 * sampler both run exactly this code, so the same seed gives the same text in
 * both.
 */
import type { Rng } from '../random/rng.js';
import type { LMTokenizer } from '../text/tokenizers.js';
import type { TokenIds } from '../data/text.js';

/** How `pickToken` chooses among the logits: temperature, truncation (top-k, top-p), or the most likely. */
export interface PickOptions {
  /** Divide logits by this before the softmax (default 1); must be > 0. */
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. */
  topP?: number;
  /** Always take the most likely token. */
  argmax?: boolean;
  /** A token never to pick (a word model's <unk>); -1 or absent: none. */
  banned?: number;
}

export function checkPickOptions(o: PickOptions): void {
  if (o.temperature !== undefined && !(o.temperature > 0 && Number.isFinite(o.temperature))) {
    throw new Error(`temperature must be a positive number, got ${o.temperature}`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw new Error(`top-k must be a whole number of at least 1, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`top-p must be above 0 and at most 1, got ${o.topP}`);
}

/** Choose a token id from logits, as sampling does at each step. Pure apart from the RNG draw, so it is easy to test. */
export function pickToken(logits: ArrayLike<number>, o: PickOptions, rng: Rng): number {
  const n = logits.length;
  const banned = o.banned ?? -1;
  let best = banned === 0 && n > 1 ? 1 : 0;
  for (let i = best + 1; i < n; i++) if (i !== banned && logits[i] > logits[best]) best = i;
  if (o.argmax) return best;
  const temp = o.temperature ?? 1;
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) if (i !== banned) sum += p[i] = Math.exp((logits[i] - logits[best]) / temp);
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
    for (let i = 0; i < n; i++)
      if (kept.has(i)) sum += p[i];
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

/** How much and how hot `recur sample`, the playground and recur/sampler generate unless told otherwise. */
export const sampleDefaults: {
  /** Tokens to generate. */
  readonly length: number;
  /** The logits' divisor: below 1 sharper, more predictable text. */
  readonly temperature: number;
} = { length: 500, temperature: 0.8 };

/** What to generate and how to pick each token. */
export interface GenerateOptions extends PickOptions {
  /** Tokens to generate: characters, or words for a word model (default 500). */
  length?: number;
  /** char-rnn's option: argmax, except sample the character after a space. */
  argmaxExceptAfterSpace?: boolean;
  /** Let a model generate its unknown token, a word model's <unk> (default: never). */
  allowUnknown?: boolean;
}

export interface PreparedGeneration {
  length: number;
  prime: string;
  primeIds: TokenIds;
  /** Turns each generated id into its text (a word model's with its spacing), continuing after the prime. */
  decode: (id: number) => string;
  /** A token never to generate (a word model's <unk>), or -1. */
  banned: number;
}

/**
 * Check the options and settle the prime: the given text (every character
 * known, unless the tokenizer has an unknown token, as a word model's <unk>),
 * or a newline (else the first ordinary token).
 */
export function prepareGeneration(vocab: LMTokenizer, opts: GenerateOptions & { prime?: string }): PreparedGeneration {
  checkPickOptions(opts);
  const length = opts.length ?? 500;
  if (!(Number.isInteger(length) && length >= 0)) throw new Error(`length must be a whole number, got ${length}`);
  const prime = opts.prime ?? (vocab.has('\n') ? '\n' : (vocab.tokens.find((t) => !vocab.specials.includes(t)) ?? ''));
  if (prime.length === 0) throw new Error('the prime text is empty: give at least one character, or leave --prime out');
  const primeIds = vocab.encode(prime); // without an unknown token, a character outside the vocabulary is an error naming it
  if (primeIds.length === 0) throw new Error('the prime text has no tokens (a word model needs a word, punctuation or a newline)');
  const banned = vocab.unknown !== null && !opts.allowUnknown ? vocab.id(vocab.unknown) : -1;
  return { length, prime, primeIds, decode: vocab.streamDecoder(primeIds), banned };
}

/**
 * The generation loop: feed the prime through `step` (one token in, the next
 * token's logits out), then pick a token, yield its text, and feed it back,
 * `length` times. The last token is not fed back. `banned` (if >= 0) is never
 * picked.
 */
export function* generateTokens(
  step: (id: number) => ArrayLike<number>,
  decode: (id: number) => string,
  prime: string,
  primeIds: ArrayLike<number>,
  length: number,
  opts: GenerateOptions,
  rng: Rng,
  banned = -1,
): Generator<string, void, undefined> {
  let logits: ArrayLike<number> = [];
  for (let i = 0; i < primeIds.length; i++) logits = step(primeIds[i]);
  let prev = prime[prime.length - 1];
  for (let i = 0; i < length; i++) {
    const argmax = opts.argmax || (opts.argmaxExceptAfterSpace === true && prev !== ' ');
    const id = pickToken(logits, { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, argmax, banned }, rng);
    const c = decode(id);
    if (c.length > 0) prev = c[c.length - 1];
    yield c;
    if (i === length - 1) break;
    logits = step(id);
  }
}
