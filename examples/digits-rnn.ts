/**
 * Sequence classification, Hands-On ML style: each 8x8 digit image is read
 * row by row as a sequence of 8 steps with 8 features; an LSTM's final state
 * goes through a linear layer to 10 classes. Trained on four fifths of the
 * UCI digits, scored on the held-out fifth.
 *
 *   npx tsx examples/digits-rnn.ts [--epochs 30] [--hidden 64] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, LSTM, Linear, Rng, SequenceDataset, finalHidden } from '../src/index.js';
import { loadDigits, rowsOf, type Digit } from './digits-data.js';
import { exampleArgs } from './example-args.js';

export interface DigitsResult {
  testAccuracy: number;
  trainAccuracy: number;
  testSize: number;
  trainSize: number;
  epochs: number;
  seconds: number;
}

export function digitsRnn(o: { epochs?: number; hidden?: number; batch?: number; lr?: number; seed?: number; log?: (s: string) => void } = {}): DigitsResult {
  const { epochs = 30, hidden = 64, batch = 32, lr = 5e-3, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const [train, test] = new SequenceDataset(loadDigits()).split(0.2, seed);
  const lstm = new LSTM({ inputSize: 8, hiddenSize: hidden, rng });
  const head = new Linear(hidden, 10, { rng });
  const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr });
  const logits = (ds: readonly Digit[]): r.Tensor => {
    const { state } = lstm.forward(r.tensor(rowsOf(ds), [ds.length, 8, 8]));
    return head.forward(finalHidden(lstm, state));
  };
  const accuracy = (ds: SequenceDataset<Digit>): number =>
    r.noGrad(() =>
      r.tidy(() => {
        const pred = logits(ds.items).argmax(-1).data;
        let right = 0;
        ds.items.forEach((d, i) => {
          if (pred[i] === d.label) right++;
        });
        return right / ds.size;
      }),
    );
  const t0 = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let total = 0,
      n = 0;
    for (const b of train.batches(batch, { shuffle: true, rng })) {
      total +=
        r.tidy(() => {
          const l = r.crossEntropy(
            logits(b),
            b.map((d) => d.label),
          );
          opt.zeroGrad();
          l.backward();
          opt.step();
          return l.item();
        }) * b.length;
      n += b.length;
    }
    if (epoch % 5 === 0 || epoch === epochs) log(`epoch ${epoch}: train loss ${(total / n).toFixed(4)}, test accuracy ${(100 * accuracy(test)).toFixed(2)}%`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { testAccuracy: accuracy(test), trainAccuracy: accuracy(train), testSize: test.size, trainSize: train.size, epochs, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('digits-rnn', { numbers: { epochs: ['count', 30], hidden: ['count', 64], seed: ['number', 1] } });
  const res = digitsRnn({ ...values, log: console.log });
  console.log(
    `digits, rows as a sequence: test accuracy ${(100 * res.testAccuracy).toFixed(2)}% on ${res.testSize} held-out images (train ${(100 * res.trainAccuracy).toFixed(2)}% on ${res.trainSize}), ${res.epochs} epochs, ${res.seconds.toFixed(1)} s`,
  );
}
