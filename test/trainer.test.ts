import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpttBatcher,
  CharTokenizer,
  decodeCheckpoint,
  defaultTrainOptions,
  evaluateLoss,
  minTextLength,
  splitIds,
  trainLM,
  type LanguageModel,
  type EvalInfo,
} from '../src/index.js';
import { smallTrainOptions } from './helpers.js';

const text = 'the cat sat on the mat. '.repeat(80);
const vocab = CharTokenizer.fromTexts(text);
const config = { model: 'lstm' as const, layers: 1, hidden: 24, embed: 8, dropout: 0 };
const opts = smallTrainOptions;

describe('trainLM', () => {
  it('learns a tiny repetitive corpus to near-zero validation loss, reporting steps, evals, samples and checkpoints', async () => {
    const seen = { steps: 0, evals: [] as number[], samples: [] as string[], checkpoints: 0 };
    const res = await trainLM(
      { text, vocab, config, options: opts({ steps: 200, evalEvery: 100 }) },
      {
        onStep: () => seen.steps++,
        onEval: (e) => seen.evals.push(e.valLoss),
        onSample: (s) => seen.samples.push(s),
        onCheckpoint: () => {
          seen.checkpoints++;
        },
      },
    );
    assert.equal(res.stoppedBy, 'steps');
    assert.equal(seen.steps, 200);
    assert.equal(seen.evals.length, 2); // steps 100 and 200; the end adds none since step 200 was just evaluated
    assert.ok(res.progress.lastValLoss! < 0.1, `val loss ${res.progress.lastValLoss}`);
    assert.equal(seen.samples.length, 1);
    assert.equal(seen.checkpoints, 2);
  });

  it('a page can pause (paused time is not training time), ask for a checkpoint between steps, and see the model at the start', async () => {
    let started: unknown = null;
    let pauseAt = 5;
    let checkpointAt = 8;
    const checkpoints: number[] = [];
    const res = await trainLM(
      { text, vocab, config, options: opts({ steps: 10, seconds: 0.3 }) },
      {
        onStart: (m) => {
          started = m;
        },
        waitIfPaused: () => {
          if (pauseAt-- !== 0) return undefined;
          return new Promise((resolve) => setTimeout(resolve, 600)); // longer than the whole time budget
        },
        checkpointRequested: () => checkpointAt-- === 0,
        onCheckpoint: (_b, p) => {
          checkpoints.push(p.step);
        },
      },
    );
    assert.equal(started, res.model);
    assert.equal(res.stoppedBy, 'steps', 'the 600 ms pause must not count against the 0.3 s limit');
    assert.ok(res.progress.seconds < 0.6, `${res.progress.seconds} s of training counted`);
    assert.deepEqual(checkpoints, [8, 10]); // the requested one (before step 9) and the final one
  });

  it('resuming continues the step count, the batch position and the optimizer moments exactly', async () => {
    const full = await trainLM({ text, vocab, config, options: opts({ steps: 30 }) });
    let bytes: Uint8Array | null = null;
    await trainLM(
      { text, vocab, config, options: opts({ steps: 15 }) },
      {
        onCheckpoint: (b) => {
          bytes = b;
        },
      },
    );
    const ck = decodeCheckpoint(bytes!);
    assert.equal(ck.meta.progress.step, 15);
    assert.equal(ck.optimizer!.step, 15);
    const resumed = await trainLM({ text, vocab, options: opts({ steps: 30 }), resume: ck });
    assert.equal(resumed.progress.step, 30);
    const a = full.model.parameters(),
      b = resumed.model.parameters();
    a.forEach((p, i) => assert.deepEqual(Array.from(b[i].data), Array.from(p.data), `parameter ${i}`));
  });

  for (const [what, other] of [
    ['a plain 2 x 16 MinGRU', { model: 'mingru', layers: 2, hidden: 16, embed: 8, dropout: 0.1 }],
    ['a 2 x 16 LSTM with dropout', { model: 'lstm', layers: 2, hidden: 16, embed: 8, dropout: 0.1 }],
    ['2 blocks x 16 MinLSTM', { model: 'minlstm', layers: 2, hidden: 16, embed: 16, dropout: 0.1, blocks: true }],
  ] as const) {
    it(`${what}: resuming continues exactly as an uninterrupted run (weights, moments, carried state, dropout masks)`, async () => {
      const o = opts({ steps: 24, evalEvery: 0 });
      const full = await trainLM({ text, vocab, config: other, options: o });
      let bytes: Uint8Array | null = null;
      await trainLM(
        { text, vocab, config: other, options: { ...o, steps: 11 } },
        {
          onCheckpoint: (b) => {
            bytes = b;
          },
        },
      );
      const ck = decodeCheckpoint(bytes!);
      assert.deepEqual(ck.model.config, { ...other, vocabSize: vocab.size });
      assert.equal(ck.meta.progress.step, 11);
      assert.ok(ck.state, 'the carried state is saved mid-epoch');
      const resumed = await trainLM({ text, vocab, options: o, resume: ck });
      assert.equal(resumed.progress.step, 24);
      const a = full.model.stateDict(),
        b = resumed.model.stateDict();
      for (const [k, p] of Object.entries(a)) assert.deepEqual(Array.from(b[k].data), Array.from(p.data), k);
      assert.equal(resumed.progress.lastValLoss, full.progress.lastValLoss);
    });
  }

  it('a NaN or infinite loss stops training with a message and writes no checkpoint after it', async () => {
    const checkpointSteps: number[] = [];
    let message = '';
    try {
      await trainLM(
        { text, vocab, config, options: opts({ steps: 50, lr: 1e38, optimizer: 'sgd', momentum: 0, clip: 0, evalEvery: 1 }) },
        {
          onCheckpoint: (_b, p) => {
            checkpointSteps.push(p.step);
          },
        },
      );
    } catch (e) {
      message = (e as Error).message;
    }
    const m = /^training stopped at step (\d+): the loss became (NaN|Infinity|-Infinity); the last checkpoint was kept/.exec(message);
    assert.ok(m, `message: ${message}`);
    const badStep = Number(m[1]);
    assert.ok(
      checkpointSteps.every((s) => s < badStep),
      `checkpoints at ${checkpointSteps} vs NaN at ${badStep}`,
    );
  });

  it('invalid options are one sentence', async () => {
    await assert.rejects(trainLM({ text, vocab, config, options: opts({ batch: 0 }) }), /batch must be a whole number of at least 1, got 0/);
    await assert.rejects(trainLM({ text, vocab, config, options: opts({ lr: -1 }) }), /lr must be a positive number/);
    await assert.rejects(trainLM({ text: 'abc'.repeat(10), vocab: CharTokenizer.fromTexts('abc'), config, options: opts({ batch: 8, seq: 16 }) }), {
      message: 'the text has 30 characters; batch 8 x seq 16 with val-frac 0.1 needs at least 143; use a longer text or a smaller --batch/--seq',
    });
  });

  it('periodic evaluations score the first evalChars of the validation split, the final one all of it, and say which', async () => {
    const split = splitIds(vocab.encode(text), 0.1);
    let model: LanguageModel | null = null;
    const evals: (EvalInfo & { whole: number; slice: number })[] = [];
    const res = await trainLM(
      { text, vocab, config, options: opts({ steps: 20, evalEvery: 5, evalChars: 50 }) },
      {
        onStart: (m) => {
          model = m;
        },
        // the model as it is at this evaluation, scored on the slice and on the whole split
        onEval: (e) => evals.push({ ...e, slice: evaluateLoss(model!, split.val.subarray(0, 50), 4, 16), whole: evaluateLoss(model!, split.val, 4, 16) }),
      },
    );
    assert.equal(split.val.length, 192);
    assert.deepEqual(
      evals.map((e) => [e.step, e.evalChars, e.valChars]),
      [
        [5, 50, 192],
        [10, 50, 192],
        [15, 50, 192],
        [20, 192, 192],
      ],
    );
    for (const e of evals.slice(0, 3)) {
      assert.equal(e.valLoss, e.slice);
      assert.notEqual(e.valLoss, e.whole);
    }
    assert.equal(evals[3].valLoss, evals[3].whole);
    assert.deepEqual(res.finalEval, {
      step: 20,
      valLoss: evals[3].whole,
      perplexity: Math.exp(evals[3].whole),
      bitsPerToken: evals[3].whole / Math.LN2,
      bitsPerChar: evals[3].whole / Math.LN2,
      evalChars: 192,
      valChars: 192,
    });
    assert.equal(res.progress.lastValLoss, evals[3].whole);
    // a stop asked for right after a periodic evaluation still ends with one over the whole split
    const stopped: number[][] = [];
    let steps = 0;
    const early = await trainLM(
      { text, vocab, config, options: opts({ steps: 20, evalEvery: 5, evalChars: 50 }) },
      {
        onStep: () => {
          steps++;
        },
        shouldStop: () => steps >= 5,
        onEval: (e) => stopped.push([e.step, e.evalChars]),
      },
    );
    assert.deepEqual(
      [stopped, early.stoppedBy, early.finalEval!.evalChars],
      [
        [
          [5, 50],
          [5, 192],
        ],
        'request',
        192,
      ],
    );
    // 0, or a slice as long as the split, scores all of it every time (and the last step is not scored twice)
    for (const evalChars of [0, 192, 10 ** 6]) {
      const seen: number[][] = [];
      await trainLM({ text, vocab, config, options: opts({ steps: 10, evalEvery: 5, evalChars }) }, { onEval: (e) => seen.push([e.step, e.evalChars]) });
      assert.deepEqual(
        seen,
        [
          [5, 192],
          [10, 192],
        ],
        `evalChars ${evalChars}`,
      );
    }
    assert.equal(defaultTrainOptions.evalChars, 250_000);
    for (const bad of [1, -5, 2.5, NaN]) {
      await assert.rejects(trainLM({ text, vocab, config, options: opts({ evalChars: bad, steps: 1 }) }), {
        message: `eval-chars must be 0 (the whole validation split) or a whole number of at least 2, got ${bad}`,
      });
    }
  });

  it('the minimum text length is exact: a text of exactly that many tokens trains, one fewer is refused naming it', async () => {
    const tiny = { model: 'gru' as const, layers: 1, hidden: 4, embed: 0, dropout: 0 };
    for (const [batch, seq, valFrac] of [
      [32, 64, 0.1],
      [4, 16, 0.1],
      [3, 5, 0.25],
      [1, 1, 0.1],
      [2, 3, 0.37],
      [7, 9, 0.011],
    ] as const) {
      const n = minTextLength({ batch, seq, valFrac });
      // what the splitter and the batcher accept, found by walking up from 1: the first length that gives a batcher and two validation tokens
      const fits = (len: number): { val: boolean; train: boolean } => {
        const s = splitIds(new Uint8Array(len), valFrac);
        return { val: s.val.length >= 2, train: BpttBatcher.layout(s.train.length, batch, seq).windowsPerEpoch >= 1 };
      };
      let first = 1;
      while (!(fits(first).val && fits(first).train)) first++;
      assert.equal(n, first, `batch ${batch} x seq ${seq}, val-frac ${valFrac}`);
      const letters = 'abcdefgh'.repeat(Math.ceil(n / 8));
      const o = opts({ batch, seq, valFrac, steps: 1 });
      const ok = await trainLM({ text: letters.slice(0, n), vocab: CharTokenizer.fromTexts(letters), config: tiny, options: o });
      assert.equal(ok.progress.step, 1);
      // the advice follows what falls short: only the validation part, or the training windows
      const valShort = fits(n - 1).train;
      await assert.rejects(trainLM({ text: letters.slice(0, n - 1), vocab: CharTokenizer.fromTexts(letters), config: tiny, options: o }), {
        message:
          `the text has ${(n - 1).toLocaleString('en-US')} characters; batch ${batch} x seq ${seq} with val-frac ${valFrac} needs at least ${n.toLocaleString('en-US')}; ` +
          `use a longer text or ${valShort ? 'a larger --val-frac' : 'a smaller --batch/--seq'}`,
      });
    }
    assert.equal(minTextLength({ batch: 32, seq: 64, valFrac: 0.1 }), 2276);
  });
});
