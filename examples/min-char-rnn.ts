/**
 * min-char-rnn (Karpathy, 2015) on recur's engine: a vanilla tanh RNN written
 * from tensor ops, trained with Adagrad and value clipping on the bundled
 * Shakespeare, printing loss and samples as it learns. It is what `npm start`
 * runs until the `recur train` command arrives.
 *
 *   npx tsx examples/min-char-rnn.ts [--seconds 60] [--hidden 128] [--seq 25] [--batch 16] [--seed 1]
 *
 * Unlike the original (one stream, batch 1, learning rate 0.1) it trains `batch` parallel streams
 * of the text at once; the hidden state of each stream carries over from one
 * window to the next, detached (stateful truncated backpropagation through time).
 * Averaged over a batch, the gradient keeps its sign from step to step, so
 * Adagrad's steps add up faster than in the original: hence lr 0.02, not 0.1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as r from '../src/index.js';
import { Adagrad, Rng, clipGradValue, parameter, type Tensor } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    hidden: { type: 'string', default: '128' },
    seq: { type: 'string', default: '25' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string', default: fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)) },
  },
});
const num = (name: keyof typeof args): number => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`min-char-rnn: --${name} must be a positive number, got '${args[name]}'`);
    process.exit(2);
  }
  return v;
};
const seconds = num('seconds'), H = num('hidden'), T = num('seq'), B = num('batch'), lr = num('lr');
const rng = new Rng(num('seed'));

// ---- data: code points, vocabulary sorted by frequency ----
const text = readFileSync(args.data as string, 'utf8');
const chars = [...text];
const counts = new Map<string, number>();
for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
const vocab = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.codePointAt(0)! - b.codePointAt(0)!);
const V = vocab.length;
const index = new Map(vocab.map((c, i) => [c, i]));
const ids = Int32Array.from(chars, (c) => index.get(c)!);
console.log(`data: ${chars.length} characters, ${V} distinct; model: RNN hidden ${H}, batch ${B} x seq ${T}`);

// ---- parameters, laid out as in min-char-rnn ----
const init = (shape: number[]): Tensor => parameter(r.randn(shape, { rng, std: 0.01 }));
const Wxh = init([V, H]); // row v is Wxh·onehot(v): an embedding lookup
const Whh = init([H, H]);
const Why = init([H, V]);
const bh = parameter(r.zeros([H]));
const by = parameter(r.zeros([V]));
const params = [Wxh, Whh, Why, bh, by];
const opt = new Adagrad(params, { lr, eps: 1e-8 });

/** One step of the recurrence for a batch of character ids. */
const cell = (x: Int32Array, h: Tensor): Tensor => r.tanh(r.embedding(Wxh, x).add(h.matmul(Whh)).add(bh));

// ---- the stream laid out as B rows, read in windows of T ----
const rowLen = Math.floor((ids.length - 1) / B);
const column = (t: number): Int32Array => Int32Array.from({ length: B }, (_, b) => ids[b * rowLen + t]);

/** Sample n characters after `first`, starting from hidden state `h0` [1, H] (as min-char-rnn does). */
function sample(h0: Tensor, first: number, n: number, temperature = 0.8): string {
  return r.noGrad(() => r.tidy(() => {
    let h = h0;
    let x = first;
    let out = '';
    for (let i = 0; i < n; i++) {
      h = cell(Int32Array.of(x), h);
      const p = r.softmax(h.matmul(Why).add(by).div(temperature)).data;
      let u = rng.random();
      x = 0;
      while (x < V - 1 && (u -= p[x]) > 0) x++;
      out += vocab[x];
    }
    return out;
  }));
}

let h = r.zeros([B, H]).keep();
let pos = 0;
let smooth = Math.log(V);
const start = performance.now();
let step = 0;
let lastReport = start;
for (;;) {
  if (pos + T + 1 > rowLen) {
    pos = 0;
    h.dispose();
    h = r.zeros([B, H]).keep();
  }
  const loss = r.tidy(() => {
    let state = h;
    const logits: Tensor[] = [];
    const targets: number[] = [];
    for (let t = 0; t < T; t++) {
      state = cell(column(pos + t), state);
      logits.push(state.matmul(Why).add(by));
      targets.push(...column(pos + t + 1));
    }
    const l = r.crossEntropy(r.concat(logits, 0), targets);
    opt.zeroGrad();
    l.backward();
    clipGradValue(params, 5);
    opt.step();
    h.dispose();
    h = state.detach().keep();
    return l.item();
  });
  if (!Number.isFinite(loss)) {
    console.error(`min-char-rnn: the loss became ${loss} at step ${step}; try a smaller --lr`);
    process.exit(1);
  }
  pos += T;
  step++;
  smooth = 0.98 * smooth + 0.02 * loss;
  const now = performance.now();
  const elapsed = (now - start) / 1000;
  if (now - lastReport > 10000 || elapsed >= seconds) {
    lastReport = now;
    const cps = (step * B * T) / elapsed;
    console.log(`\nstep ${step}  loss ${smooth.toFixed(3)} nats/char (${(smooth / Math.LN2).toFixed(3)} bits)  ${Math.round(cps)} chars/s  ${elapsed.toFixed(0)} s`);
    // continue the first training stream from where it is, as min-char-rnn does
    const row0 = r.tidy(() => h.narrow(0, 0, 1));
    console.log('----\n' + sample(row0, ids[pos], 200) + '\n----');
    row0.dispose();
  }
  if (elapsed >= seconds) break;
}
