/**
 * The training options the classic set-ups need: RMSprop (char-rnn), an
 * elementwise gradient clip and a loss summed over the window (min-char-rnn,
 * Grokking Deep Learning), and training on all of the text (--val-frac 0),
 * in the library and in `recur train`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpttBatcher, CharTokenizer, decodeCheckpoint, minTextLength, trainLM, OPTIMIZER_NAMES, type LanguageModel } from '../src/index.js';
import { cliSandbox, smallTrainOptions } from './helpers.js';

const text = 'the cat sat on the mat. '.repeat(80);
const vocab = CharTokenizer.fromTexts(text);
const config = { model: 'lstm' as const, layers: 1, hidden: 16, embed: 8, dropout: 0 };
const opts = smallTrainOptions;
const weights = (m: LanguageModel): Float32Array[] => m.parameters().map((p) => Float32Array.from(p.data));
const initial = async (): Promise<Float32Array[]> => weights((await trainLM({ text, vocab, config, options: opts({ steps: 1, lr: 1e-30 }) })).model);

describe('training options of the classic set-ups', () => {
  it('rmsprop trains with its decay as alpha, and the checkpoint says so', async () => {
    assert.deepEqual([...OPTIMIZER_NAMES], ['adam', 'adagrad', 'rmsprop', 'sgd']);
    const seen: number[] = [];
    let bytes: Uint8Array | null = null;
    const r = await trainLM(
      { text, vocab, config, options: opts({ optimizer: 'rmsprop', lr: 2e-3, rmspropDecay: 0.95, steps: 150 }) },
      { onStep: (s) => seen.push(s.loss), onCheckpoint: (b) => void (bytes = b) },
    );
    // the text's unigram entropy is about 2.2 nats: a model that only counted characters would stay there
    assert.ok(seen[seen.length - 1] < 1.2, `loss ${seen[0]} -> ${seen[seen.length - 1]}`);
    assert.ok(r.finalEval && r.finalEval.valLoss < 1.2);
    const ck = decodeCheckpoint(bytes!);
    assert.equal(ck.optimizer?.type, 'RMSprop');
    assert.equal(ck.optimizer?.options.alpha, 0.95);
    for (const bad of [1, -0.1, NaN]) {
      await assert.rejects(trainLM({ text, vocab, config, options: opts({ optimizer: 'rmsprop', rmspropDecay: bad, steps: 1 }) }), {
        message: `rmsprop decay must be at least 0 and below 1, got ${bad}`,
      });
    }
    await assert.rejects(trainLM({ text, vocab, config, options: opts({ optimizer: 'lbfgs' as 'sgd', steps: 1 }) }), {
      message: "optimizer must be one of adam, adagrad, rmsprop, sgd, got 'lbfgs'",
    });
  });

  it('clipValue bounds each gradient element: one SGD step at lr 1 moves no weight further than the clip', async () => {
    const w0 = await initial();
    const c = 1e-4;
    const r = await trainLM({ text, vocab, config, options: opts({ optimizer: 'sgd', momentum: 0, lr: 1, clip: 0, clipValue: c, steps: 1 }) });
    const w1 = weights(r.model);
    let most = 0;
    w0.forEach((a, i) => a.forEach((v, j) => (most = Math.max(most, Math.abs(w1[i][j] - v)))));
    // some elements hit the clip (the unclipped gradients are far larger), none passes it
    assert.ok(most <= c * (1 + 1e-3) && most > c * 0.99, `largest move ${most}`);
  });

  it('lossSum descends seq times the mean: one SGD step equals the mean-loss step at seq times the rate', async () => {
    const seq = 16;
    const base = { optimizer: 'sgd' as const, momentum: 0, clip: 0, steps: 1, seq };
    const summed = weights((await trainLM({ text, vocab, config, options: opts({ ...base, lr: 0.01, lossSum: true }) })).model);
    const scaled = weights((await trainLM({ text, vocab, config, options: opts({ ...base, lr: 0.01 * seq }) })).model);
    const plain = weights((await trainLM({ text, vocab, config, options: opts({ ...base, lr: 0.01 }) })).model);
    let diff = 0,
      moved = 0;
    summed.forEach((a, i) =>
      a.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - scaled[i][j]));
        moved = Math.max(moved, Math.abs(v - plain[i][j]));
      }),
    );
    assert.ok(diff < 1e-6, `summed vs scaled rate: ${diff}`);
    assert.ok(moved > 1e-3, `summed vs mean at the same rate: ${moved}`);
  });

  it('valFrac 0 trains on every token, evaluates nothing and still checkpoints', async () => {
    const o = opts({ valFrac: 0, epochs: 1, evalEvery: 5 });
    const ids = vocab.encode(text);
    const evals: number[] = [];
    const checkpoints: number[] = [];
    const r = await trainLM({ text, vocab, config, options: o }, { onEval: (e) => evals.push(e.step), onCheckpoint: (_b, p) => void checkpoints.push(p.step) });
    assert.equal(r.finalEval, null);
    assert.deepEqual(evals, []);
    // every window of the whole text, one epoch
    assert.equal(r.progress.step, BpttBatcher.layout(ids.length, o.batch, o.seq).windowsPerEpoch);
    assert.ok(checkpoints.length >= 2 && checkpoints[checkpoints.length - 1] === r.progress.step, `checkpoints at ${checkpoints}`);
    assert.equal(minTextLength({ batch: 4, seq: 16, valFrac: 0 }), 4 * 16 + 1);
    await assert.rejects(trainLM({ text, vocab, config, options: opts({ valFrac: 0.5, steps: 1 }) }), {
      message: 'val-frac must be at least 0 and below 0.5, got 0.5',
    });
  });
});

describe('recur train: --optimizer rmsprop, --clip-value, --loss-sum, --val-frac 0', () => {
  const { run, dir: sandbox } = cliSandbox('recur-train-options-');
  const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--sample-every', '0', '--quiet'];

  it('are stored in the checkpoint and kept on --resume; --val-frac 0 says there is no validation', () => {
    const args = ['--optimizer', 'rmsprop', '--lr', '0.002', '--rmsprop-decay', '0.9', '--clip-value', '5', '--loss-sum', '--val-frac', '0'];
    const t = run('train', 'small.txt', ...small, ...args, '--steps', '20', '--out', 'a.safetensors');
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /recur: done \(reached the steps limit\): 20 steps, .*no validation \(--val-frac 0: trained on all of the text\)/);
    assert.doesNotMatch(t.stdout, /val loss/);
    const ck = decodeCheckpoint(readFileSync(join(sandbox(), 'a.safetensors')));
    assert.equal(ck.optimizer?.type, 'RMSprop');
    assert.equal(ck.optimizer?.options.alpha, 0.9);
    for (const [k, v] of Object.entries({ optimizer: 'rmsprop', rmspropDecay: 0.9, clipValue: 5, lossSum: true, valFrac: 0 }))
      assert.equal(ck.meta.options[k], v, k);
    const r = run('train', 'small.txt', '--resume', 'a.safetensors', '--steps', '30', '--quiet', '--out', 'b.safetensors');
    assert.equal(r.status, 0, r.stderr);
    const ck2 = decodeCheckpoint(readFileSync(join(sandbox(), 'b.safetensors')));
    for (const [k, v] of Object.entries({ optimizer: 'rmsprop', rmspropDecay: 0.9, clipValue: 5, lossSum: true, valFrac: 0 }))
      assert.equal(ck2.meta.options[k], v, k);
    assert.equal(ck2.meta.progress.step, 30);
  });

  it('bad values are one sentence and exit 2', () => {
    for (const [flag, value, what] of [
      ['--rmsprop-decay', '1', 'a number of at least 0 and below 1'],
      ['--clip-value', '-1', 'a number of at least 0'],
      ['--val-frac', '0.5', 'a number of at least 0 and below 0.5'],
    ]) {
      const r = run('train', 'small.txt', ...small, flag, value);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`option '${flag} <x>' argument '${value}' is invalid\\. expected ${what}\\.`));
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
    }
    const o = run('train', 'small.txt', '--optimizer', 'lbfgs');
    assert.equal(o.status, 2);
    assert.match(o.stderr, /Allowed choices are adam, adagrad, rmsprop, sgd/);
  });
});
