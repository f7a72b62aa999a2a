/**
 * A variable-length task that needs the lengths: is the sum of a sequence of
 * 1 to 50 random numbers (uniform in [-1, 1]) positive? Sequences are
 * batched in blocks of 50 steps and each one is followed by more random
 * numbers up to step 50 (what a reused buffer, or a window cut from a longer
 * stream, holds), so a model must stop at each sequence's end. With
 * `lengths` the LSTM does (its final state is at each sequence's last step);
 * the same model without them reads to step 50 and fails.
 *
 *   npx tsx examples/sum-sign.ts [--steps 1500] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, LSTM, Linear, Rng, finalHidden } from '../src/index.js';
import { exampleArgs } from './example-args.js';

const T = 50;

export interface SumSignBatch {
  /** [B, 50, 1]: each sequence, then filler numbers to step 50. */
  x: Float32Array;
  lengths: number[];
  /** 1 if the sum of the sequence's own numbers is positive, else 0. */
  labels: number[];
}

export function sumSignBatch(n: number, rng: Rng): SumSignBatch {
  const x = new Float32Array(n * T);
  const lengths: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + rng.int(T);
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const v = rng.uniform(-1, 1);
      x[i * T + t] = v;
      if (t < len) sum += v;
    }
    lengths.push(len);
    labels.push(sum > 0 ? 1 : 0);
  }
  return { x, lengths, labels };
}

export interface SumSignResult {
  accuracy: number;
  testSize: number;
  steps: number;
  seconds: number;
}

export function sumSign(o: {
  useLengths: boolean;
  steps?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  testSize?: number;
  log?: (s: string) => void;
}): SumSignResult {
  const { steps = 1500, hidden = 32, batch = 64, lr = 5e-3, seed = 1, testSize = 2000 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const lstm = new LSTM({ inputSize: 1, hiddenSize: hidden, rng });
  const head = new Linear(hidden, 2, { rng });
  const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr });
  const logits = (b: SumSignBatch): r.Tensor => {
    const { state } = lstm.forward(r.tensor(b.x, [b.labels.length, T, 1]), o.useLengths ? { lengths: b.lengths } : {});
    return head.forward(finalHidden(lstm, state));
  };
  const test = sumSignBatch(testSize, new Rng(seed + 1000));
  const accuracy = (): number =>
    r.noGrad(() =>
      r.tidy(() => {
        const pred = logits(test).argmax(-1).data;
        return test.labels.filter((y, i) => pred[i] === y).length / testSize;
      }),
    );
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    opt.lr = lr * Math.pow(0.1, (step - 1) / steps); // decays to a tenth over the run
    const b = sumSignBatch(batch, rng);
    const loss = r.tidy(() => {
      const l = r.crossEntropy(logits(b), b.labels);
      opt.zeroGrad();
      l.backward();
      r.clipGradNorm([...lstm.parameters(), ...head.parameters()], 5);
      opt.step();
      return l.item();
    });
    if (step % 250 === 0) log(`step ${step}: loss ${loss.toFixed(4)}, held-out accuracy ${(100 * accuracy()).toFixed(2)}%`);
  }
  return { accuracy: accuracy(), testSize, steps, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('sum-sign', { numbers: { steps: ['count', 1500], seed: ['number', 1] } });
  for (const useLengths of [true, false]) {
    console.log(useLengths ? 'with lengths:' : 'lengths ignored (the same model reads to step 50):');
    const res = sumSign({ useLengths, steps: values.steps, seed: values.seed, log: console.log });
    console.log(
      `sum sign, ${useLengths ? 'with lengths' : 'lengths ignored'}: accuracy ${(100 * res.accuracy).toFixed(2)}% on ${res.testSize} held-out sequences, ${res.steps} steps, ${res.seconds.toFixed(1)} s`,
    );
  }
}
