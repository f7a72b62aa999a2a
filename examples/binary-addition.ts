/**
 * Binary addition, the classic RNN toy: a small tanh RNN reads two numbers
 * bit by bit, least significant bit first (input [a_t, b_t] at step t), and
 * writes one bit of their sum at each step; it has to learn the carry. 8-bit
 * operands, 9 output bits. It trains on a sample of the 65,536 pairs and is
 * scored on every pair it never saw.
 *
 *   npx tsx examples/binary-addition.ts [--steps 600] [--train-pairs 2000] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, Linear, RNN, Rng } from '../src/index.js';
import { exampleArgs } from './example-args.js';

export interface BinaryAdditionOptions {
  steps?: number;
  trainPairs?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  log?: (s: string) => void;
}

export interface BinaryAdditionResult {
  /** Share of held-out pairs whose whole 9-bit sum is right. */
  accuracy: number;
  bitAccuracy: number;
  testPairs: number;
  trainPairs: number;
  steps: number;
  seconds: number;
}

const BITS = 8;
const T = BITS + 1;

/** Inputs [B, T, 2] (bit t of a and of b, LSB first; the last step is 0, 0) and target bits [B, T]. */
function encode(pairs: readonly [number, number][]): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(pairs.length * T * 2);
  const y = new Int32Array(pairs.length * T);
  pairs.forEach(([a, b], i) => {
    const s = a + b;
    for (let t = 0; t < T; t++) {
      x[(i * T + t) * 2] = (a >> t) & 1;
      x[(i * T + t) * 2 + 1] = (b >> t) & 1;
      y[i * T + t] = (s >> t) & 1;
    }
  });
  return { x, y };
}

export function binaryAddition(o: BinaryAdditionOptions = {}): BinaryAdditionResult {
  const { steps = 600, trainPairs = 2000, hidden = 16, batch = 64, lr = 0.01, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const all: [number, number][] = [];
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) all.push([a, b]);
  rng.shuffle(all);
  const train = all.slice(0, trainPairs);
  const test = all.slice(trainPairs);

  const rnn = new RNN({ inputSize: 2, hiddenSize: hidden, rng });
  const head = new Linear(hidden, 2, { rng });
  const params = [...rnn.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr });
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    const pairs = Array.from({ length: batch }, () => train[rng.int(train.length)]);
    const { x, y } = encode(pairs);
    const loss = r.tidy(() => {
      const { output } = rnn.forward(r.tensor(x, [batch, T, 2]));
      const l = r.crossEntropy(head.forward(output), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    });
    if (step % 100 === 0) log(`step ${step}: loss ${loss.toFixed(4)}`);
  }
  const seconds = (performance.now() - t0) / 1000;

  // score every held-out pair in one batch
  const { x, y } = encode(test);
  const pred = r.noGrad(() =>
    r.tidy(() =>
      head
        .forward(rnn.forward(r.tensor(x, [test.length, T, 2])).output)
        .argmax(-1)
        .toFloat32Array(),
    ),
  );
  let right = 0,
    bitsRight = 0;
  for (let i = 0; i < test.length; i++) {
    let ok = true;
    for (let t = 0; t < T; t++) {
      if (pred[i * T + t] === y[i * T + t]) bitsRight++;
      else ok = false;
    }
    if (ok) right++;
  }
  return { accuracy: right / test.length, bitAccuracy: bitsRight / (test.length * T), testPairs: test.length, trainPairs: train.length, steps, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('binary-addition', { numbers: { steps: ['count', 600], 'train-pairs': ['count', 2000], seed: ['number', 1] } });
  const res = binaryAddition({ steps: values.steps, trainPairs: values['train-pairs'], seed: values.seed, log: console.log });
  console.log(
    `binary addition: ${(100 * res.accuracy).toFixed(2)}% of ${res.testPairs.toLocaleString('en-US')} held-out 8-bit pairs exactly right ` +
      `(${(100 * res.bitAccuracy).toFixed(2)}% of bits), trained on ${res.trainPairs.toLocaleString('en-US')} pairs in ${res.steps} steps, ${res.seconds.toFixed(1)} s`,
  );
}
