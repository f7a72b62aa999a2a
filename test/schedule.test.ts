/**
 * The learning-rate schedules trainLM follows (src/train/schedule.ts):
 * exponential decay per epoch, warm-up then cosine decay over the run, in the
 * library, across a resume, and as `recur train` flags.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpttBatcher, CharTokenizer, decodeCheckpoint, trainLM, SCHEDULE_NAMES, type TrainOptions } from '../src/index.js';
import { cosineNeedsAnEnd, learningRate, runFraction } from '../src/train/schedule.js';
import { cliSandbox, smallTrainOptions as opts } from './helpers.js';

const text = 'the cat sat on the mat. '.repeat(80);
const vocab = CharTokenizer.fromTexts(text);
const config = { model: 'lstm' as const, layers: 1, hidden: 16, embed: 8, dropout: 0 };
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} against ${b}`);

/** The rate of every step of a trainLM run, as onStep reports it. */
async function ratesOf(o: TrainOptions, resume?: Parameters<typeof trainLM>[0]['resume']): Promise<number[]> {
  const lrs: number[] = [];
  await trainLM({ text, vocab, config: resume ? undefined : config, options: o, resume }, { onStep: (s) => lrs.push(s.lr) });
  return lrs;
}

describe('learning-rate schedules', () => {
  const base = { lr: 0.01, lrDecay: 0.5, lrMin: 0.001, warmup: 0, steps: 0, epochs: 0, seconds: 0 };

  it('the closed forms: exponential per whole epoch, cosine from lr to lrMin, a linear warm-up on either', () => {
    assert.deepEqual([...SCHEDULE_NAMES], ['exponential', 'cosine']);
    const exp = { ...base, schedule: 'exponential' as const };
    for (const [epochs, want] of [
      [0, 0.01],
      [0.99, 0.01],
      [1, 0.005],
      [2.5, 0.0025],
    ])
      close(learningRate(exp, { step: 7, epochs, seconds: 0 }), want, `exponential at epoch ${epochs}`);
    const cos = { ...base, schedule: 'cosine' as const, steps: 100 };
    close(learningRate(cos, { step: 0, epochs: 0, seconds: 0 }), 0.01, 'cosine at the start');
    close(learningRate(cos, { step: 50, epochs: 0, seconds: 0 }), 0.0055, 'cosine halfway');
    close(learningRate(cos, { step: 25, epochs: 0, seconds: 0 }), 0.001 + 0.009 * 0.5 * (1 + Math.SQRT1_2), 'cosine a quarter in');
    close(learningRate(cos, { step: 100, epochs: 0, seconds: 0 }), 0.001, 'cosine at the end');
    close(learningRate(cos, { step: 130, epochs: 0, seconds: 0 }), 0.001, 'cosine past the end stays at lrMin');
    // warm-up: step k (from 0) of 4 takes (k + 1) / 4 of the scheduled rate
    const warm = { ...cos, warmup: 4 };
    for (const k of [0, 1, 2, 3, 4])
      close(
        learningRate(warm, { step: k, epochs: 0, seconds: 0 }),
        Math.min(1, (k + 1) / 4) * learningRate(cos, { step: k, epochs: 0, seconds: 0 }),
        `warm-up step ${k}`,
      );
    close(learningRate({ ...exp, warmup: 10 }, { step: 4, epochs: 1, seconds: 0 }), 0.0025, 'warm-up on the exponential schedule');
  });

  it('the cosine runs over whichever limit ends the run first, and refuses a run without one', () => {
    const o = { ...base, schedule: 'cosine' as const };
    assert.equal(runFraction(o, { step: 10, epochs: 1, seconds: 5 }), null);
    assert.throws(() => learningRate(o, { step: 0, epochs: 0, seconds: 0 }), { message: cosineNeedsAnEnd });
    assert.equal(runFraction({ ...o, steps: 100, seconds: 20 }, { step: 10, epochs: 0, seconds: 5 }), 0.25);
    assert.equal(runFraction({ ...o, steps: 100, seconds: 20 }, { step: 60, epochs: 0, seconds: 5 }), 0.6);
    assert.equal(runFraction({ ...o, epochs: 4 }, { step: 60, epochs: 3, seconds: 5 }), 0.75);
    assert.equal(runFraction({ ...o, epochs: 4 }, { step: 60, epochs: 9, seconds: 5 }), 1);
  });

  it('trainLM steps at the scheduled rate: exponential changes at epoch ends, cosine every step', async () => {
    const windows = new BpttBatcher(vocab.encode(text).subarray(0, Math.floor(text.length * 0.9)), 4, 16).windowsPerEpoch;
    const steps = windows + 5;
    const exp = await ratesOf(opts({ steps, lr: 0.01, lrDecay: 0.5 }));
    assert.equal(exp.length, steps);
    exp.forEach((lr, i) => close(lr, i < windows ? 0.01 : 0.005, `exponential step ${i + 1}`));
    const o = opts({ steps: 40, lr: 0.01, schedule: 'cosine', lrMin: 0.001, warmup: 5 });
    const cos = await ratesOf(o);
    cos.forEach((lr, i) => close(lr, learningRate(o, { step: i, epochs: 0, seconds: 0 }), `cosine step ${i + 1}`));
    close(cos[0], 0.01 / 5, 'the first warm-up step');
    close(cos[4], 0.001 + 0.009 * 0.5 * (1 + Math.cos((Math.PI * 4) / 40)), 'the first step after warm-up');
    assert.ok(cos[39] < 0.0011, `the last step's rate ${cos[39]}`);
    // over epochs, the fraction moves every window, not only at an epoch's end
    const e = opts({ epochs: 2, lr: 0.01, schedule: 'cosine' });
    const byEpoch = await ratesOf(e);
    assert.equal(byEpoch.length, 2 * windows);
    byEpoch.forEach((lr, i) => close(lr, learningRate(e, { step: i, epochs: i / windows, seconds: 0 }), `cosine over epochs, step ${i + 1}`));
    assert.ok(byEpoch[windows - 1] < byEpoch[1], 'the rate falls within the first epoch');
  });

  it('a resumed run continues the cosine where the checkpoint left it', async () => {
    const o = opts({ steps: 30, lr: 0.01, schedule: 'cosine', warmup: 4 });
    const full = await ratesOf(o);
    let bytes: Uint8Array | null = null;
    await trainLM({ text, vocab, config, options: { ...o, steps: 12 } }, { onCheckpoint: (b) => void (bytes = b) });
    const ck = decodeCheckpoint(bytes!);
    assert.equal(ck.meta.options.schedule, 'cosine');
    const resumed = await ratesOf(o, ck);
    assert.deepEqual(resumed, full.slice(12));
  });

  it('bad schedule options are one sentence', async () => {
    for (const [bad, message] of [
      [{ schedule: 'linear' as 'cosine', steps: 1 }, "schedule must be one of exponential, cosine, got 'linear'"],
      [{ warmup: -1, steps: 1 }, 'warmup must be a whole number of steps, at least 0, got -1'],
      [{ warmup: 1.5, steps: 1 }, 'warmup must be a whole number of steps, at least 0, got 1.5'],
      [{ lrMin: 0.1, lr: 0.01, steps: 1 }, 'lr-min must be at least 0 and at most lr (0.01), got 0.1'],
      [{ schedule: 'cosine' as const }, cosineNeedsAnEnd],
    ] as const)
      await assert.rejects(trainLM({ text, vocab, config, options: opts(bad) }), { message });
  });
});

describe('recur train: --schedule, --warmup, --lr-min', () => {
  const { run, dir: sandbox } = cliSandbox('recur-schedule-');
  const small = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--sample-every', '0', '--quiet'];

  it('are stored in the checkpoint and kept on --resume', () => {
    const t = run('train', 'small.txt', ...small, '--schedule', 'cosine', '--warmup', '3', '--lr-min', '0.0002', '--steps', '20', '--out', 'a.safetensors');
    assert.equal(t.status, 0, t.stderr);
    const ck = decodeCheckpoint(readFileSync(join(sandbox(), 'a.safetensors')));
    for (const [k, v] of Object.entries({ schedule: 'cosine', warmup: 3, lrMin: 0.0002 })) assert.equal(ck.meta.options[k], v, k);
    const r = run('train', 'small.txt', '--resume', 'a.safetensors', '--steps', '30', '--quiet', '--out', 'b.safetensors');
    assert.equal(r.status, 0, r.stderr);
    const ck2 = decodeCheckpoint(readFileSync(join(sandbox(), 'b.safetensors')));
    for (const [k, v] of Object.entries({ schedule: 'cosine', warmup: 3, lrMin: 0.0002 })) assert.equal(ck2.meta.options[k], v, k);
  });

  it('bad values are one sentence and exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--schedule', 'linear'], /Allowed choices are exponential, cosine/],
      [['--warmup', '-3'], /option '--warmup <n>' argument '-3' is invalid/],
      [['--lr-min', '-1'], /option '--lr-min <x>' argument '-1' is invalid\. expected a number of at least 0\./],
      [['--lr', '0.001', '--lr-min', '0.01'], /--lr-min 0\.01 is above --lr 0\.001; the cosine schedule decays from --lr down to --lr-min/],
    ];
    for (const [args, message] of cases) {
      const r = run('train', 'small.txt', ...small, ...args, '--steps', '2');
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
    }
  });
});
