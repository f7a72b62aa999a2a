/** The classic examples and the reproductions of classic experiments run and learn (short runs of the same code the scripts run). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { minCharRnn, uniformLoss } from '../examples/min-char-rnn.js';
import { charRnnTf } from '../examples/char-rnn-tf.js';
import { grokkingLstm } from '../examples/grokking-lstm.js';
import { grokkingInit, tensorflowInit } from '../examples/classic-init.js';
import { shakespeareLstm } from '../examples/shakespeare-lstm.js';
import * as r from '../src/index.js';
import { CELL_KIND_NAMES, Rng } from '../src/index.js';
import { handsonUnrolled, lengthProblems } from '../examples/handson-unrolled.js';
import { handsonDigits } from '../examples/handson-digits.js';
import { creative, creativeChart, nextBatch, predict, seriesModel, trainSeries } from '../examples/handson-series.js';
import { gradientChart, gradientNorms, recallBatch, recallModel, vanishingGradients } from '../examples/vanishing-gradients.js';

const shakespeare = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');

/** The best a model that ignores context can do on `text`: the entropy of its character frequencies, in nats. */
function unigramEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) entropy -= (n / text.length) * Math.log(n / text.length);
  return entropy;
}

it("min-char-rnn: within 1,000 iterations the loss falls below what any unigram model can reach (0.9 x the text's character entropy)", (t) => {
  const text = shakespeare.slice(0, 100000);
  const reports: number[] = [];
  const { recentLoss } = minCharRnn({ text, iterations: 1000, report: (_n, l) => reports.push(l) });
  assert.equal(reports.length, 11); // every 100 iterations and at the end
  const entropy = unigramEntropy(text);
  t.diagnostic(`mean loss over the last 100 iterations ${recentLoss.toFixed(3)} nats/char; unigram entropy ${entropy.toFixed(3)}`);
  assert.ok(recentLoss < 0.9 * entropy, `loss ${recentLoss} vs unigram entropy ${entropy}`);
});

it('shakespeare-lstm: SGD with lr decay learns (validation loss below 2.9 nats/char after 2 epochs of a 20k-character excerpt) and samples every epoch', async () => {
  const logs: string[] = [];
  const res = await shakespeareLstm({ text: shakespeare.slice(0, 20000), epochs: 2, hidden: 64, log: (s) => logs.push(s) });
  assert.equal(logs.filter((l) => l.startsWith('epoch ')).length, 2);
  assert.match(logs[1], /learning rate now 0\.9801/);
  assert.ok(res.progress.lastValLoss! < 2.9, `val loss ${res.progress.lastValLoss}`);
});

// --- reproductions of classic experiments (docs/reproductions.md), at small settings ---

it("Hands-On ML's RNN unrolled by hand: Y0 = tanh(X0·Wx + b) and Y1 = tanh(Y0·Wy + X1·Wx + b) agree with the RNN layer within 1e-6", () => {
  const res = handsonUnrolled();
  assert.ok(res.maxDifference <= 1e-6, `max difference ${res.maxDifference}`);
  // not vacuous: the outputs are far from zero and differ between instances and steps
  assert.ok(
    res.byHand.y1.flat().some((v) => Math.abs(v) > 0.1),
    'Y1 is not all near zero',
  );
  assert.notDeepEqual(res.layer.y0, res.layer.y1);
});

it("Hands-On ML's sequence_length [2, 1, 2, 2]: instance 1's output at t = 1 is exactly zero and its final state is its output at t = 0; a wrong state is caught", () => {
  const res = handsonUnrolled();
  assert.deepEqual(res.withLengths.outputs[1][1], [0, 0, 0, 0, 0]);
  assert.deepEqual(res.withLengths.states[1], res.withLengths.outputs[1][0]);
  assert.deepEqual(res.withLengths.states[0], res.withLengths.outputs[0][1]);
  assert.deepEqual(lengthProblems(res), []);
  // the check itself can fail: a final state taken at the padded step is reported
  const broken = structuredClone(res);
  broken.withLengths.states[1] = res.layer.y1[1];
  assert.match(lengthProblems(broken).join('; '), /instance 1's final state/);
});

it('Hands-On ML digits row by row (UCI 8x8 for MNIST), 150 units, Adam 0.001: after 10 epochs the basic RNN and 5 epochs the 3-layer LSTM beat chance (10%) by far', () => {
  const res = handsonDigits({ rnnEpochs: 10, lstmEpochs: 5, lstmLongEpochs: 0 });
  assert.equal(res.testSize, 359);
  assert.equal(res.rnn.updates, 100);
  assert.ok(res.rnn.testAccuracy > 0.7, `basic RNN ${res.rnn.testAccuracy}`);
  assert.ok(res.lstm.testAccuracy > 0.3, `3-layer LSTM ${res.lstm.testAccuracy}`);
});

it("Hands-On ML's time series: OutputProjectionWrapper and the stacked dense layer compute the same outputs from the same weights", () => {
  const m = seriesModel(16, new Rng(3));
  const b = nextBatch(4, new Rng(4));
  const [wrapper, stacked] = r.noGrad(() => (['wrapper', 'stacked'] as const).map((p) => predict(m, r.tensor(b.x, [4, 20, 1]), p).toFloat32Array()));
  assert.equal(wrapper.length, 80);
  for (let i = 0; i < wrapper.length; i++) assert.ok(Math.abs(wrapper[i] - stacked[i]) < 1e-5, `step ${i}: ${wrapper[i]} vs ${stacked[i]}`);
});

it("Hands-On ML's time series (300 of the 1,500 iterations): the batch MSE falls by 20x from the start and a fresh-window MSE is far below the series' variance; the creative RNN writes 300 finite values and a plot", () => {
  const run = trainSeries('stacked', { iterations: 300 });
  assert.equal(run.printed.length, 3);
  const first = run.printed[0].mse,
    last = run.printed[2].mse;
  assert.ok(last < first / 20, `MSE ${first} -> ${last}`);
  // the variance of the series' values over [0, 30] is about 25
  assert.ok(run.heldOut < 1, `held-out MSE ${run.heldOut}`);
  const c = creative(run.model);
  for (const s of [c.fromZeros, c.fromSeries]) {
    assert.equal(s.length, 300);
    assert.ok(s.every(Number.isFinite));
  }
  assert.deepEqual(c.fromZeros.slice(0, 20), new Array(20).fill(0));
  const svg = creativeChart(c);
  assert.equal(svg.match(/<polyline /g)?.length, 3);
});

it("vanishing gradients: the per-step probe gradients ∂L/∂h(T−k) (and an LSTM's ∂L/∂c(T−k)) equal the gradients with respect to the initial state of a run over the last k steps, for every cell kind", () => {
  const lag = 6,
    n = 5;
  for (const kind of CELL_KIND_NAMES) {
    const m = recallModel(kind, { hidden: 8, keepBias: 3, rng: new Rng(5) });
    const batch = recallBatch(n, lag, new Rng(6));
    const norms = gradientNorms(m, lag, batch);
    assert.equal(norms.h.length, lag + 1);
    assert.equal(norms.c !== null, kind === 'lstm');
    for (const k of [1, 3, lag]) {
      const direct = gradientFromSuffix(m, batch, lag, k);
      const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-4 * b;
      assert.ok(close(norms.h[k], direct.h), `${kind} k=${k}: h probe ${norms.h[k]} vs direct ${direct.h}`);
      if (norms.c) assert.ok(close(norms.c[k], direct.c!), `${kind} k=${k}: c probe ${norms.c[k]} vs direct ${direct.c}`);
    }
  }
});

/** The gradient norms the other way: run the whole layer to T-k, then from leaves holding that state over the last k steps. */
function gradientFromSuffix(m: ReturnType<typeof recallModel>, batch: ReturnType<typeof recallBatch>, lag: number, k: number): { h: number; c: number | null } {
  const n = batch.targets.length,
    T = lag + 1,
    H = m.layer.hiddenSize;
  const meanNorm = (g: Float32Array): number => {
    let total = 0;
    for (let i = 0; i < n; i++) total += Math.hypot(...g.subarray(i * H, (i + 1) * H));
    return total / n;
  };
  const norms = r.tidy(() => {
    const x = r.tensor(batch.x, [n, T, 8]);
    const prefix = r.noGrad(() => m.layer.forward(r.narrow(x, 1, 0, T - k)).state);
    const h = prefix.h.detach().requiresGrad_();
    const c = prefix.c?.detach().requiresGrad_();
    const { state } = m.layer.forward(r.narrow(x, 1, T - k, k), { state: { h, c } });
    r.crossEntropy(m.head.forward(r.squeeze(state.h, 0)), batch.targets, { reduction: 'sum' }).backward();
    return { h: meanNorm(h.grad!.data), c: c ? meanNorm(c.grad!.data) : null };
  });
  for (const p of [...m.layer.parameters(), ...m.head.parameters()]) p.zeroGrad();
  return norms;
}

it('vanishing gradients at initialisation (L = 50): the RNN gradient 50 steps back falls below 1e-6 of its size 1 step back; with the keep bias the LSTM, GRU, minGRU and minLSTM keep more than 1e-3', () => {
  const lag = 50;
  const batch = recallBatch(16, lag, new Rng(7));
  for (const kind of CELL_KIND_NAMES) {
    const norms = gradientNorms(recallModel(kind, { hidden: 16, keepBias: 3, rng: new Rng(8) }), lag, batch);
    const ratio = norms.h[50] / norms.h[1];
    if (kind === 'rnn') assert.ok(ratio < 1e-6, `rnn: ${ratio}`);
    else assert.ok(ratio > 1e-3, `${kind}: ${ratio}`);
  }
});

it('vanishing gradients, the memory task (small: 16 units, 300 steps): every cell recalls after 10 distractors; after 50 the gated cells still do and the plain RNN is at chance; the chart has a line per state before and after training', () => {
  const res = vanishingGradients({ lags: [10, 50], steps: 300, hidden: 16, testSize: 500, gradBatch: 8 });
  assert.deepEqual(
    res.cells.map((c) => c.kind),
    CELL_KIND_NAMES,
  );
  for (const c of res.cells) {
    assert.ok(c.accuracy[0] > 0.8, `${c.kind} at L = 10: ${c.accuracy[0]}`);
    if (c.kind === 'rnn') assert.ok(c.accuracy[1] < 0.4, `rnn at L = 50: ${c.accuracy[1]}`);
    else assert.ok(c.accuracy[1] > 0.9, `${c.kind} at L = 50: ${c.accuracy[1]}`);
    assert.equal(c.norms.trained.h.length, 51);
  }
  const svg = gradientChart(res);
  // h of each of the 5 kinds and the LSTM's c, after training and at initialisation
  assert.equal(svg.match(/<polyline /g)?.length, 12);
  assert.match(svg, />1e-?\d+</);
});

it('min-char-rnn starts where the original does: the smoothed loss at 25 ln V exactly, the first window within 0.05 of it; the milestones record the smoothed loss as it falls', () => {
  const text = shakespeare.slice(0, 20000);
  const res = minCharRnn({ text, iterations: 300, milestones: [100, 300] });
  assert.equal(res.startLoss, 25 * Math.log(res.vocabSize));
  assert.equal(res.startLoss, uniformLoss(res.vocabSize, 25));
  assert.ok(Math.abs(res.firstLoss - res.startLoss) < 0.05, `first loss ${res.firstLoss} vs ${res.startLoss}`);
  assert.deepEqual(
    res.milestones.map((m) => m.iteration),
    [100, 300],
  );
  // the first updates overshoot (Adagrad's early steps are its largest), so only the later milestone is below the start
  assert.ok(res.milestones[1].smoothLoss < res.milestones[0].smoothLoss && res.milestones[1].smoothLoss < res.startLoss, JSON.stringify(res.milestones));
});

it("TensorFlow's initialisation (char-rnn's): Glorot-uniform bounds per variable, an LSTM layer's kernel counting both its inputs, the LSTM biases zero", () => {
  const model = new r.LanguageModel({ ...r.defaultLMConfig, model: 'lstm', layers: 2, hidden: 32, embed: 24, vocabSize: 40 });
  tensorflowInit(model, new Rng(3));
  const bound: Record<string, number> = {
    'embedding.weight': Math.sqrt(6 / (40 + 24)),
    'rnn.weight_ih_l0': Math.sqrt(6 / (24 + 32 + 128)),
    'rnn.weight_hh_l0': Math.sqrt(6 / (24 + 32 + 128)),
    'rnn.weight_ih_l1': Math.sqrt(6 / (32 + 32 + 128)),
    'rnn.weight_hh_l1': Math.sqrt(6 / (32 + 32 + 128)),
    'head.weight': Math.sqrt(6 / (32 + 40)),
    'head.bias': Math.sqrt(6 / 80),
  };
  for (const [name, t] of model.namedParameters()) {
    const big = Math.max(...Array.from(t.data, Math.abs));
    if (name.startsWith('rnn.bias')) assert.equal(big, 0, name);
    else assert.ok(big <= bound[name] && big > 0.9 * bound[name], `${name}: largest ${big}, bound ${bound[name]}`);
  }
});

it('char-rnn in TensorFlow (small: 2 x 32 LSTM, 2 epochs of 30k characters): one loss per batch, the last batches below 0.85 x the unigram entropy, three sampling modes, and a validation figure only from the held-out run', async () => {
  const text = shakespeare.slice(0, 30000);
  const o = { text, layers: 2, hidden: 32, embed: 32, batch: 10, seq: 25, lr: 0.01, sampleLength: 300 };
  const run = await charRnnTf(o);
  assert.equal(run.losses.length, 2 * r.BpttBatcher.layout(text.length, 10, 25).windowsPerEpoch);
  const last = run.losses.slice(-7).reduce((a, b) => a + b, 0) / 7;
  const entropy = unigramEntropy(text);
  assert.ok(last < 0.85 * entropy, `last batches ${last} vs unigram entropy ${entropy}`);
  assert.equal(run.finalEval, null);
  for (const s of Object.values(run.samples)) assert.equal(s.length, 300);
  assert.notEqual(run.samples.weighted, run.samples.argmax);
  // argmax from " " is one path; sampling after each space leaves it at the first space it writes
  assert.notEqual(run.samples['argmax except after a space'], run.samples.argmax);
  const held = await charRnnTf({ ...o, valFrac: 0.1, sampleLength: 0 });
  assert.ok(held.finalEval && held.finalEval.valLoss < entropy, `validation ${held.finalEval?.valLoss}`);
  assert.equal(held.samples.argmax, '');
});

it("Grokking's chapter 14 LSTM (small: 64 units, 3 epochs of 20k characters): the zeroed output layer makes the first window's perplexity V exactly; the running perplexity falls below the unigram model's", async () => {
  const text = shakespeare.slice(0, 20000);
  const epochs: number[] = [];
  const run = await grokkingLstm({ text, epochs: 3, hidden: 64, embed: 64, onEpoch: (e) => epochs.push(e) });
  assert.equal(run.windowsPerEpoch, 49);
  assert.deepEqual(epochs, [0, 1, 2]);
  assert.deepEqual(
    run.perplexity.map((p) => p.length),
    [49, 49, 49],
  );
  assert.ok(Math.abs(run.perplexity[0][0] / run.vocabSize - 1) < 1e-5, `first perplexity ${run.perplexity[0][0]}, V = ${run.vocabSize}`);
  const unigram = Math.exp(unigramEntropy(text));
  assert.ok(run.perplexity[2][48] < unigram, `perplexity ${run.perplexity[2][48]} vs unigram ${unigram}`);
  assert.equal(run.sample.length, 70);
  // the check can fail: the initialisation is what makes the first perplexity V
  const model = new r.LanguageModel({ ...r.defaultLMConfig, model: 'lstm', layers: 1, hidden: 8, embed: 8, vocabSize: 5 });
  grokkingInit(model, new Rng(1));
  assert.ok(model.namedParameters().every(([n, t]) => !n.startsWith('head.') || t.data.every((v) => v === 0)));
});

it('the example scripts answer a bad option with one sentence and exit 2, before any training', () => {
  const script = (name: string): string => fileURLToPath(new URL(`../examples/${name}.ts`, import.meta.url));
  const cases: [string, string[], RegExp][] = [
    ['grokking-lstm', ['--epochs', '0'], /^grokking-lstm: --epochs must be a whole number of at least 1, got '0'$/],
    ['char-rnn-tf', ['--seed', 'abc'], /^char-rnn-tf: --seed must be a number, got 'abc'$/],
    ['min-char-rnn', ['--iterations', '2.5'], /^min-char-rnn: --iterations must be a whole number of at least 1, got '2.5'$/],
    ['grokking-lstm', ['--lr', '-1'], /^grokking-lstm: --lr must be a number above 0, got '-1'$/],
    ['dates', ['--bogus'], /^dates: Unknown option '--bogus'.*; the options are --steps, --hidden, --beam, --seed, --attention$/],
  ];
  for (const [name, args, message] of cases) {
    const res = spawnSync(process.execPath, ['--import', 'tsx', script(name), ...args], { encoding: 'utf8' });
    assert.equal(res.status, 2, `${name} ${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr.trim(), message);
    assert.equal(res.stdout, '');
  }
});
