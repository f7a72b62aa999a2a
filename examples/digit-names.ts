/**
 * Vector-to-sequence: from a digit image's 64 pixels, generate the digit's
 * English name character by character ("seven" then <eos>). The image goes
 * through a linear layer and tanh to become the initial state of a GRU
 * decoder over characters; training uses teacher forcing (the decoder reads
 * <sos> + the true name and predicts the name + <eos>), generation is greedy.
 * Scored by exact match on the held-out fifth of the UCI digits.
 *
 *   npx tsx examples/digit-names.ts [--epochs 30] [--hidden 64] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, CharTokenizer, Embedding, GRU, Linear, Module, Rng, SequenceDataset, greedyDecode, padSequences, type Tensor } from '../src/index.js';
import { loadDigits, rowsOf, type Digit } from './digits-data.js';
import { exampleArgs } from './example-args.js';

export const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** Image features -> initial state; characters -> GRU -> next-character logits. */
class NameDecoder extends Module {
  init: Linear;
  embed: Embedding;
  gru: GRU;
  head: Linear;
  constructor(vocab: number, hidden: number, rng: Rng) {
    super();
    this.init = new Linear(64, hidden, { rng });
    this.embed = new Embedding(vocab, 16, { rng });
    this.gru = new GRU({ inputSize: 16, hiddenSize: hidden, rng });
    this.head = new Linear(hidden, vocab, { rng });
  }
  /** The decoder's initial state [1, B, hidden] from images. */
  start(images: readonly Digit[]): Tensor {
    return r.tanh(this.init.forward(r.tensor(rowsOf(images), [images.length, 64]))).unsqueeze(0);
  }
  /** Logits [B, T, vocab] for input ids [B, T] from state h, and the new state. */
  forward(ids: Int32Array, B: number, T: number, h: Tensor): { logits: Tensor; h: Tensor } {
    const { output, state } = this.gru.forward(this.embed.forward(r.tensor(ids, [B, T])), { state: { h } });
    return { logits: this.head.forward(output), h: state.h };
  }
}

export interface DigitNamesResult {
  exactMatch: number;
  testSize: number;
  examples: string[];
  epochs: number;
  seconds: number;
}

export function digitNames(
  o: { epochs?: number; hidden?: number; batch?: number; lr?: number; seed?: number; log?: (s: string) => void } = {},
): DigitNamesResult {
  const { epochs = 30, hidden = 64, batch = 32, lr = 5e-3, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const tok = CharTokenizer.fromTexts(NAMES, { specials: ['<pad>', '<sos>', '<eos>'] });
  const SOS = tok.id('<sos>'),
    EOS = tok.id('<eos>');
  const [train, test] = new SequenceDataset(loadDigits()).split(0.2, seed);
  const model = new NameDecoder(tok.size, hidden, rng);
  const opt = new Adam(model.parameters(), { lr });

  const generate = (images: readonly Digit[]): string[] =>
    r.noGrad(() =>
      r.tidy(() => {
        const rows = greedyDecode(
          (tokens, h: Tensor) => {
            const out = model.forward(tokens, tokens.length, 1, h);
            return { logits: out.logits.data, state: out.h };
          },
          model.start(images),
          { rows: images.length, bos: SOS, eos: EOS, maxLen: 8 },
        );
        return rows.map((ids) => tok.decode(ids, { skipSpecials: true }));
      }),
    );
  const exactMatch = (ds: SequenceDataset<Digit>): number => {
    const names = generate(ds.items);
    return names.filter((n, i) => n === NAMES[ds.items[i].label]).length / ds.size;
  };

  const t0 = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let total = 0,
      n = 0;
    for (const b of train.batches(batch, { shuffle: true, rng })) {
      // teacher forcing: read <sos> + name, predict name + <eos>; padding is skipped by the loss
      const names = b.map((d) => Array.from(tok.encode(NAMES[d.label])));
      const x = padSequences(
        names.map((ids) => [SOS, ...ids]),
        { dtype: 'int32', value: tok.id('<pad>') },
      );
      const y = padSequences(
        names.map((ids) => [...ids, EOS]),
        { dtype: 'int32', value: -100 },
      );
      const [B, T] = x.shape;
      total +=
        r.tidy(() => {
          const { logits } = model.forward(x.data, B, T, model.start(b));
          const l = r.crossEntropy(logits, r.tensor(y.data, [B, T]));
          opt.zeroGrad();
          l.backward();
          opt.step();
          return l.item();
        }) * B;
      n += B;
    }
    if (epoch % 5 === 0 || epoch === epochs)
      log(`epoch ${epoch}: loss ${(total / n).toFixed(4)} per character, held-out exact match ${(100 * exactMatch(test)).toFixed(2)}%`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const shown = test.items.slice(0, 8);
  const examples = generate(shown).map((s, i) => `${shown[i].label} -> "${s}"`);
  return { exactMatch: exactMatch(test), testSize: test.size, examples, epochs, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('digit-names', { numbers: { epochs: ['count', 30], hidden: ['count', 64], seed: ['number', 1] } });
  const res = digitNames({ ...values, log: console.log });
  console.log(`examples: ${res.examples.join(', ')}`);
  console.log(
    `digit names from images: exact match ${(100 * res.exactMatch).toFixed(2)}% on ${res.testSize} held-out images, ${res.epochs} epochs, ${res.seconds.toFixed(1)} s`,
  );
}
