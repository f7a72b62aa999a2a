/**
 * min-char-rnn (Karpathy, 2015) on recur's engine, with the original setup:
 * a vanilla tanh RNN written from tensor ops, hidden 100, one-hot input,
 * weights drawn as randn x 0.01, sequences of 25, Adagrad with learning rate
 * 0.1, gradients clipped to [-5, 5] element by element, the loss summed over
 * the 25 steps, the state reset when the data runs out, and the smoothed loss
 * (0.999 old + 0.001 new, starting from 25 ln V, the loss of a uniform guess)
 * printed every 100 iterations with a sample drawn from the current hidden
 * state. At the end it prints the smoothed loss after 1k, 10k and 100k
 * iterations (those reached).
 *
 *   npm run min-char-rnn -- [--iterations 5000] [--print-every 100] [--data file.txt] [--seed 1]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adagrad, CharTokenizer, Rng, clipGradValue, parameter, type Tensor } from '../src/index.js';
import { exampleArgs, readExampleText } from './example-args.js';

export interface MinCharRnnOptions {
  text: string;
  iterations: number;
  hidden?: number;
  seqLength?: number;
  lr?: number;
  seed?: number;
  /** Report every this many iterations (default 100, as the original; 0: only at the end). */
  reportEvery?: number;
  /** Called every `reportEvery` iterations, once that iteration's loss is in the smoothed loss (as the original prints), and at the end, with a sample. */
  report?: (iteration: number, smoothLoss: number, sample: string) => void;
  /** Record the smoothed loss once this many iterations are done. */
  milestones?: number[];
}

/** What the original prints at the start: the loss of a uniform guess over V characters for T steps, T ln V. */
export const uniformLoss = (vocabSize: number, seqLength: number): number => -Math.log(1 / vocabSize) * seqLength;

/**
 * `recentLoss`: the mean loss per character over the last 100 iterations
 * (the smoothed loss still carries 0.999^n of its start, so it cannot say
 * whether the model beats a unigram model after a short run).
 */
export function minCharRnn(o: MinCharRnnOptions): {
  /** The smoothed loss's start: T ln V. */
  startLoss: number;
  /** The loss of the first window, from the initial weights (near T ln V, as randn x 0.01 gives near-uniform predictions). */
  firstLoss: number;
  smoothLoss: number;
  recentLoss: number;
  vocabSize: number;
  /** The smoothed loss after each milestone's number of iterations. */
  milestones: { iteration: number; smoothLoss: number }[];
} {
  const H = o.hidden ?? 100,
    T = o.seqLength ?? 25,
    lr = o.lr ?? 0.1;
  const rng = new Rng(o.seed ?? 1);
  const vocab = CharTokenizer.fromTexts(o.text);
  const V = vocab.size;
  const data = vocab.encode(o.text);
  const init = (shape: number[]): Tensor => parameter(r.randn(shape, { rng, std: 0.01 }));
  const Wxh = init([V, H]); // Wxh · onehot(x) is row x: an embedding lookup
  const Whh = init([H, H]);
  const Why = init([H, V]);
  const bh = parameter(r.zeros([H]));
  const by = parameter(r.zeros([V]));
  const params = [Wxh, Whh, Why, bh, by];
  const opt = new Adagrad(params, { lr, eps: 1e-8 });
  const step = (x: number, h: Tensor): Tensor => r.tanh(r.embedding(Wxh, [x]).add(h.matmul(Whh)).add(bh));

  const sample = (h0: Tensor, seed: number, n: number): string =>
    r.noGrad(() =>
      r.tidy(() => {
        let h = h0,
          x = seed,
          out = '';
        for (let i = 0; i < n; i++) {
          h = step(x, h);
          x = r.pickToken(r.add(h.matmul(Why), by).data, {}, rng);
          out += vocab.tokens[x];
        }
        return out;
      }),
    );

  const startLoss = uniformLoss(V, T);
  let smoothLoss = startLoss;
  let firstLoss = NaN;
  const every = o.reportEvery ?? 100;
  const milestones: { iteration: number; smoothLoss: number }[] = [];
  let hprev = r.zeros([1, H]).keep();
  let p = 0;
  const recent: number[] = [];
  for (let n = 0; n < o.iterations; n++) {
    if (p + T + 1 >= data.length || n === 0) {
      hprev.dispose();
      hprev = r.zeros([1, H]).keep();
      p = 0;
    }
    const reporting = o.report !== undefined && every > 0 && n % every === 0;
    const text = reporting ? sample(hprev, data[p], 200) : '';
    const loss = r.tidy(() => {
      let h = hprev;
      const logits: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        h = step(data[p + t], h);
        logits.push(r.add(h.matmul(Why), by));
      }
      const l = r.crossEntropy(r.concat(logits, 0), Array.from(data.subarray(p + 1, p + T + 1)), { reduction: 'sum' });
      opt.zeroGrad();
      l.backward();
      clipGradValue(params, 5);
      opt.step();
      hprev.dispose();
      hprev = h.detach().keep();
      return l.item();
    });
    if (n === 0) firstLoss = loss;
    smoothLoss = smoothLoss * 0.999 + loss * 0.001;
    if (reporting) o.report!(n, smoothLoss, text);
    if (o.milestones?.includes(n + 1)) milestones.push({ iteration: n + 1, smoothLoss });
    recent.push(loss / T);
    if (recent.length > 100) recent.shift();
    p += T;
  }
  o.report?.(o.iterations, smoothLoss, sample(hprev, data[p], 200));
  return { startLoss, firstLoss, smoothLoss, recentLoss: recent.reduce((a, b) => a + b, 0) / recent.length, vocabSize: V, milestones };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = exampleArgs('min-char-rnn', {
    numbers: { iterations: ['count', 5000], 'print-every': ['whole', 100], seed: ['number', 1] },
    strings: { data: fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)) },
  });
  const text = readExampleText('min-char-rnn', a.data);
  const t0 = performance.now();
  const res = minCharRnn({
    text,
    iterations: a.iterations,
    seed: a.seed,
    reportEvery: a['print-every'],
    milestones: [1000, 10000, 100000],
    report: (n, loss, s) => console.log(`----\n${s}\n----\niter ${n}, loss: ${loss.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
  });
  console.log(
    `\nV = ${res.vocabSize}: the smoothed loss starts at 25 ln V = ${res.startLoss.toFixed(4)} ` +
      `(Karpathy's Kafka text, V = 80: 25 ln 80 = ${uniformLoss(80, 25).toFixed(2)}); the first window's loss from the initial weights: ${res.firstLoss.toFixed(4)}`,
  );
  for (const m of res.milestones) {
    console.log(`after ${m.iteration} iterations: smoothed loss ${m.smoothLoss.toFixed(3)} (${(m.smoothLoss / 25).toFixed(3)} nats/char)`);
  }
  console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
