/**
 * min-char-rnn (Karpathy, 2015) on recur's engine, with the original setup:
 * a vanilla tanh RNN written from tensor ops, hidden 100, one-hot input,
 * sequences of 25, Adagrad with learning rate 0.1, gradients clipped to
 * [-5, 5], the loss summed over the 25 steps, and the smoothed loss printed
 * every 100 iterations with a sample drawn from the current hidden state.
 *
 *   npm run min-char-rnn -- [--iterations 5000] [--data file.txt] [--seed 1]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adagrad, CharTokenizer, Rng, clipGradValue, parameter, type Tensor } from '../src/index.js';

export interface MinCharRnnOptions {
  text: string;
  iterations: number;
  hidden?: number;
  seqLength?: number;
  lr?: number;
  seed?: number;
  /** Called every 100 iterations (and at the end) with the smoothed loss and a sample. */
  report?: (iteration: number, smoothLoss: number, sample: string) => void;
}

/**
 * `recentLoss`: the mean loss per character over the last 100 iterations
 * (the smoothed loss still carries 0.999^n of its start, so it cannot say
 * whether the model beats a unigram model after a short run).
 */
export function minCharRnn(o: MinCharRnnOptions): { startLoss: number; smoothLoss: number; recentLoss: number } {
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

  const startLoss = -Math.log(1 / V) * T;
  let smoothLoss = startLoss;
  let hprev = r.zeros([1, H]).keep();
  let p = 0;
  const recent: number[] = [];
  for (let n = 0; n < o.iterations; n++) {
    if (p + T + 1 >= data.length || n === 0) {
      hprev.dispose();
      hprev = r.zeros([1, H]).keep();
      p = 0;
    }
    if (n % 100 === 0 && o.report) o.report(n, smoothLoss, sample(hprev, data[p], 200));
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
    smoothLoss = smoothLoss * 0.999 + loss * 0.001;
    recent.push(loss / T);
    if (recent.length > 100) recent.shift();
    p += T;
  }
  o.report?.(o.iterations, smoothLoss, sample(hprev, data[p], 200));
  return { startLoss, smoothLoss, recentLoss: recent.reduce((a, b) => a + b, 0) / recent.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '1' },
      data: { type: 'string', default: fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)) },
    },
  });
  const iterations = Number(values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) {
    console.error(`min-char-rnn: --iterations must be a whole number of at least 1, got '${values.iterations}'`);
    process.exit(2);
  }
  const text = readFileSync(values.data as string, 'utf8');
  const t0 = performance.now();
  minCharRnn({
    text,
    iterations,
    seed: Number(values.seed),
    report: (n, loss, s) => console.log(`----\n${s}\n----\niter ${n}, loss: ${loss.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
  });
}
