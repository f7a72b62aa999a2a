/**
 * Hands-On Machine Learning (Géron, 1st edition), chapter 14, "Training a
 * Sequence Classifier" and "Multi-layer LSTM": images read row by row, one
 * row per time step; the final state goes through a dense layer to 10
 * classes; Adam with learning rate 0.001, batches of 150. The book trains
 * on MNIST (28 rows of 28 pixels, 55,000 training images) and reports test
 * accuracy 0.9744 for a basic RNN of 150 tanh units after 100 epochs and
 * 0.9871 for 3 stacked LSTMs of 150 units after 10 epochs.
 *
 * MNIST is not bundled with recur, so this runs the same models on the
 * bundled UCI digits (8 rows of 8 pixels, 1,797 images, 4/5 to train and
 * 1/5 held out; examples/digits-data.ts) with the book's settings. The
 * data set is 38 times smaller, so the same epochs are far fewer updates:
 * the LSTM's 10 epochs are 100 updates here and 3,660 in the book. So the
 * LSTM also runs a second time for 100 epochs, the basic RNN's 1,000
 * updates (`--lstm-long-epochs`, 0 to skip it).
 *
 *   npx tsx examples/handson-digits.ts [--rnn-epochs 100] [--lstm-epochs 10] [--lstm-long-epochs 100] [--hidden 150] [--batch 150] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, LSTM, Linear, RNN, Rng, SequenceDataset, finalHidden, type RecurrentBase } from '../src/index.js';
import { loadDigits, rowsOf, type Digit } from './digits-data.js';
import { exampleArgs } from './example-args.js';

/** The book's figures (the notebook's last epoch) and what its epochs were in updates on MNIST's 55,000 training images. */
export const BOOK = {
  rnn: { accuracy: 0.9744, epochs: 100, updates: 100 * Math.floor(55000 / 150) },
  lstm: { accuracy: 0.9871, epochs: 10, updates: 10 * Math.floor(55000 / 150) },
};

export interface ClassifierResult {
  testAccuracy: number;
  trainAccuracy: number;
  epochs: number;
  updates: number;
  seconds: number;
}

export interface HandsonDigitsResult {
  rnn: ClassifierResult;
  lstm: ClassifierResult;
  /** The same LSTM trained for `lstmLongEpochs`, or null when that is 0. */
  lstmLong: ClassifierResult | null;
  trainSize: number;
  testSize: number;
}

export interface HandsonDigitsOptions {
  rnnEpochs?: number;
  lstmEpochs?: number;
  lstmLongEpochs?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  log?: (s: string) => void;
}

/** A recurrent layer read to its final state, then a dense layer to the 10 digits. */
interface Classifier {
  layer: RecurrentBase;
  head: Linear;
}

function logitsOf(m: Classifier, ds: readonly Digit[]): r.Tensor {
  const { state } = m.layer.forward(r.tensor(rowsOf(ds), [ds.length, 8, 8]));
  return m.head.forward(finalHidden(m.layer, state));
}

function accuracy(m: Classifier, ds: SequenceDataset<Digit>): number {
  return r.noGrad(() =>
    r.tidy(() => {
      const pred = logitsOf(m, ds.items).argmax(-1).data;
      return ds.items.filter((d, i) => pred[i] === d.label).length / ds.size;
    }),
  );
}

function train(
  m: Classifier,
  data: { train: SequenceDataset<Digit>; test: SequenceDataset<Digit> },
  o: { epochs: number; batch: number; lr: number; rng: Rng; name: string; log: (s: string) => void },
): ClassifierResult {
  const opt = new Adam([...m.layer.parameters(), ...m.head.parameters()], { lr: o.lr });
  const t0 = performance.now();
  let updates = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (const b of data.train.batches(o.batch, { shuffle: true, rng: o.rng })) {
      r.tidy(() => {
        const loss = r.crossEntropy(
          logitsOf(m, b),
          b.map((d) => d.label),
        );
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
      updates++;
    }
    // the book prints every epoch; a tenth of the run is enough to see the curve
    if (epoch % Math.max(1, Math.round(o.epochs / 10)) === 0 || epoch === o.epochs) {
      o.log(`${o.name} epoch ${epoch}: test accuracy ${accuracy(m, data.test).toFixed(4)}`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { testAccuracy: accuracy(m, data.test), trainAccuracy: accuracy(m, data.train), epochs: o.epochs, updates, seconds };
}

export function handsonDigits(o: HandsonDigitsOptions = {}): HandsonDigitsResult {
  const { rnnEpochs = BOOK.rnn.epochs, lstmEpochs = BOOK.lstm.epochs, lstmLongEpochs = 100, hidden = 150, batch = 150, lr = 0.001, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const [trainSet, testSet] = new SequenceDataset(loadDigits()).split(0.2, seed);
  const data = { train: trainSet, test: testSet };
  const rng = new Rng(seed);
  const basic: Classifier = { layer: new RNN({ inputSize: 8, hiddenSize: hidden, rng }), head: new Linear(hidden, 10, { rng }) };
  const rnn = train(basic, data, { epochs: rnnEpochs, batch, lr, rng, name: 'basic RNN', log });
  // TensorFlow's BasicLSTMCell adds 1 to the forget gate's bias, which starts at zero; forgetBias: 1 starts recur's there
  const stacked = (): Classifier => ({
    layer: new LSTM({ inputSize: 8, hiddenSize: hidden, numLayers: 3, forgetBias: 1, rng }),
    head: new Linear(hidden, 10, { rng }),
  });
  const lstm = train(stacked(), data, { epochs: lstmEpochs, batch, lr, rng, name: '3-layer LSTM', log });
  const lstmLong = lstmLongEpochs > 0 ? train(stacked(), data, { epochs: lstmLongEpochs, batch, lr, rng, name: '3-layer LSTM, longer', log }) : null;
  return { rnn, lstm, lstmLong, trainSize: trainSet.size, testSize: testSet.size };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('handson-digits', {
    numbers: {
      'rnn-epochs': ['count', BOOK.rnn.epochs],
      'lstm-epochs': ['count', BOOK.lstm.epochs],
      // 0: skip the longer run
      'lstm-long-epochs': ['whole', 100],
      hidden: ['count', 150],
      batch: ['count', 150],
      seed: ['number', 1],
    },
  });
  const res = handsonDigits({
    rnnEpochs: values['rnn-epochs'],
    lstmEpochs: values['lstm-epochs'],
    lstmLongEpochs: values['lstm-long-epochs'],
    hidden: values.hidden,
    batch: values.batch,
    seed: values.seed,
    log: console.log,
  });
  console.log(
    `\nMNIST is not bundled: these are the UCI 8x8 digits (8 steps of 8 pixels; ${res.trainSize} training images, ${res.testSize} held out), not the book's 28x28 MNIST.`,
  );
  const line = (name: string, ours: ClassifierResult, book: (typeof BOOK)['rnn']): string =>
    `${name.padEnd(28)} ours ${ours.testAccuracy.toFixed(4)} (${ours.epochs} epochs = ${ours.updates} updates, ${ours.seconds.toFixed(1)} s; train ${ours.trainAccuracy.toFixed(4)})` +
    `   book ${book.accuracy.toFixed(4)} (${book.epochs} epochs = ${book.updates} updates, MNIST)`;
  console.log('test accuracy:');
  console.log(line(`basic RNN, ${values.hidden} tanh units`, res.rnn, BOOK.rnn));
  console.log(line(`3-layer LSTM, ${values.hidden} units`, res.lstm, BOOK.lstm));
  if (res.lstmLong) console.log(line('  the same, trained longer', res.lstmLong, BOOK.lstm));
}
