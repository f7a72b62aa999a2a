/**
 * Sampling text from a LanguageModel (over characters or words): prime text,
 * temperature, top-k, top-p (nucleus), argmax, char-rnn's "argmax except
 * after a space", a seed, and a callback that receives each piece of text as
 * it is made. Builds no graph.
 * The picking and the loop are in core.ts, shared with the embeddable sampler.
 */
import { LMStepper } from './stepper.js';
import { Rng } from '../random/rng.js';
import type { LanguageModel } from '../models/charlm.js';
import type { LMTokenizer } from '../text/tokenizers.js';
import { generateTokens, prepareGeneration, type GenerateOptions } from './core.js';

export { pickToken, checkPickOptions, type PickOptions, type GenerateOptions } from './core.js';

/** `sampleText`'s options: what to generate, how to pick, and where the randomness comes from. */
export interface SampleOptions extends GenerateOptions {
  /** Text to condition on (default: a newline if the vocabulary has one). */
  prime?: string;
  /** Seed a fresh generator, so the same seed gives the same text (default: from the clock). */
  seed?: number;
  /** Draw from this generator instead (it advances), overriding `seed`. */
  rng?: Rng;
  /** Called with each generated character (or word with its spacing) as soon as it exists. */
  onChar?: (c: string) => void;
}

/**
 * Generate text from a language model; returns only the generated part (not
 * the prime). Runs an `LMStepper` (no graph), in evaluation mode, restoring
 * the model's mode afterwards.
 *
 * @example
 * ```ts
 * const text = sampleText(model, vocab, { prime: 'ROMEO:', length: 200, temperature: 0.7, seed: 1 });
 * sampleText(model, vocab, { length: 50, onChar: (c) => process.stdout.write(c) }); // streamed as it is made
 * ```
 */
export function sampleText(model: LanguageModel, vocab: LMTokenizer, opts: SampleOptions = {}): string {
  const { length, prime, primeIds, decode, banned } = prepareGeneration(vocab, opts);
  const rng = opts.rng ?? new Rng(opts.seed ?? Date.now());
  const wasTraining = model.training;
  model.eval();
  try {
    // one token at a time on preallocated buffers: no tensors, no graph
    const stepper = new LMStepper(model);
    try {
      let out = '';
      for (const c of generateTokens((id) => stepper.step(id), decode, prime, primeIds, length, opts, rng, banned)) {
        out += c;
        opts.onChar?.(c);
      }
      return out;
    } finally {
      stepper.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
}
