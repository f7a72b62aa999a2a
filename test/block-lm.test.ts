/**
 * Language models of the scan kinds (minGRU, minLSTM) and the residual block
 * form (config.blocks): weights and names, the batch-1 stepper against
 * forward, carried state, sampling, config checks, descriptions, and short
 * training runs that must beat a bigram model.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as r from '../src/index.js';
import {
  CELL_KIND_NAMES,
  CharTokenizer,
  LanguageModel,
  LMStepper,
  RecurrentBlock,
  Rng,
  checkLMConfig,
  defaultTrainOptions,
  describeArchitecture,
  sampleText,
  splitIds,
  trainLM,
  type LanguageModelConfig,
  type TokenIds,
} from '../src/index.js';
import { lmParameterCount, lmShapes } from '../src/models/config.js';

const blockConfig = (model: LanguageModelConfig['model'], o: Partial<LanguageModelConfig> = {}): LanguageModelConfig => ({
  vocabSize: 11,
  model,
  layers: 2,
  hidden: 8,
  embed: 8,
  dropout: 0,
  blocks: true,
  ...o,
});

describe('block language model: weights', () => {
  it("every kind: state-dict names, order and shapes are lmShapes', with the documented names", () => {
    for (const kind of CELL_KIND_NAMES) {
      const m = new LanguageModel(blockConfig(kind), { rng: new Rng(1) });
      const got = Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]);
      assert.deepEqual(got, Object.entries(lmShapes(m.config)), kind);
      assert.equal(m.numParameters(), lmParameterCount(m.config), kind);
      assert.equal(m.rnn, null);
      assert.equal(m.blocks!.length, 2);
    }
    const names = Object.keys(new LanguageModel(blockConfig('lstm')).stateDict());
    assert.deepEqual(names.slice(0, 11), [
      'embedding.weight',
      'blocks.0.norm1.weight',
      'blocks.0.cell.weight_ih_l0',
      'blocks.0.cell.weight_hh_l0',
      'blocks.0.cell.bias_ih_l0',
      'blocks.0.cell.bias_hh_l0',
      'blocks.0.norm2.weight',
      'blocks.0.ffn.0.weight',
      'blocks.0.ffn.0.bias',
      'blocks.0.ffn.2.weight',
      'blocks.0.ffn.2.bias',
    ]);
    assert.deepEqual(names.slice(-3), ['norm.weight', 'head.weight', 'head.bias']);
    const shapes = lmShapes(blockConfig('minlstm', { hidden: 6, embed: 6 }));
    assert.deepEqual(
      [shapes['blocks.1.cell.weight_ih_l0'], shapes['blocks.1.ffn.0.weight'], shapes['blocks.1.ffn.2.weight'], shapes['head.weight']],
      [
        [18, 6],
        [24, 6],
        [6, 24],
        [11, 6],
      ],
    );
  });

  it('a config without blocks (as older checkpoints have) is a plain stack; a plain model has no blocks', () => {
    const { blocks: _, ...old } = blockConfig('mingru', { embed: 4 });
    const m = new LanguageModel(old);
    assert.equal(m.config.blocks, undefined);
    assert.ok(m.rnn);
    assert.equal(m.blocks, null);
    assert.equal(m.norm, null);
    assert.deepEqual(Object.keys(m.stateDict()).slice(0, 3), ['embedding.weight', 'rnn.weight_ih_l0', 'rnn.bias_ih_l0']);
  });

  it('config checks are one sentence: a block model is as wide as its embedding, blocks is a boolean', () => {
    assert.throws(
      () => checkLMConfig(blockConfig('mingru', { embed: 4 })),
      /^Error: a block model's embedding is as wide as the model: embed must equal hidden \(8\), got 4$/,
    );
    assert.throws(() => checkLMConfig(blockConfig('mingru', { blocks: 'yes' as unknown as boolean })), /^Error: blocks must be true or false, got "yes"$/);
    const huge = blockConfig('minlstm', { layers: 1000, hidden: 2000, embed: 2000 });
    assert.throws(() => checkLMConfig(huge), {
      message: `a 1000 blocks x 2000 MinLSTM (RMSNorm, GELU FFN 8000) with vocabulary 11 has ${lmParameterCount(huge).toLocaleString('en-US')} parameters, more than the 134,217,728 recur builds`,
    });
  });

  it('describeArchitecture: the registry names, the embedding or the block form', () => {
    assert.equal(describeArchitecture({ model: 'mingru', layers: 2, hidden: 128, embed: 64, dropout: 0 }), '2 x 128 MinGRU, embedding 64');
    assert.equal(describeArchitecture({ model: 'rnn', layers: 1, hidden: 32, embed: 0, dropout: 0 }), '1 x 32 RNN, one-hot input');
    assert.equal(describeArchitecture(blockConfig('minlstm', { layers: 4, hidden: 256, embed: 256 })), '4 blocks x 256 MinLSTM (RMSNorm, GELU FFN 1024)');
    assert.equal(describeArchitecture(blockConfig('lstm', { layers: 1 })), '1 block x 8 LSTM (RMSNorm, GELU FFN 32)');
  });
});

describe('block language model: forward', () => {
  it('RecurrentBlock computes x + cell(RMSNorm(x)), then + FFN(RMSNorm(.)), from its own modules', () => {
    const b = new RecurrentBlock('mingru', 6, { rng: new Rng(3) });
    const x = r.randn([2, 5, 6], { rng: new Rng(4) });
    const got = b.forward(x);
    const cell = b.cell.forward(r.rmsNorm(x, b.norm1.weight));
    const mid = r.add(x, cell.output);
    const [l0, l2] = b.ffnLinears;
    const want = r.add(mid, r.linear(r.gelu(r.linear(r.rmsNorm(mid, b.norm2.weight), l0.weight, l0.bias)), l2.weight, l2.bias));
    assert.deepEqual(Array.from(got.output.data), Array.from(want.data));
    assert.deepEqual(Array.from(got.state.h.data), Array.from(cell.state.h.data));
  });

  for (const kind of ['minlstm', 'lstm'] as const) {
    it(`${kind}: two windows with the carried state give the logits of one window over both`, () => {
      const m = new LanguageModel(blockConfig(kind), { rng: new Rng(2) });
      m.eval();
      const ids = Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 7 + 1) % 11);
      // rows are batch-major: row b is ids[b*8 .. b*8+8)
      const whole = m.forward(ids, 2, 8);
      const first = m.forward(Int32Array.from([...ids.slice(0, 4), ...ids.slice(8, 12)]), 2, 4);
      const second = m.forward(Int32Array.from([...ids.slice(4, 8), ...ids.slice(12, 16)]), 2, 4, first.state);
      assert.deepEqual(whole.state.h.shape, [2, 2, 8]);
      assert.equal(whole.state.c === undefined, kind !== 'lstm');
      const V = 11;
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < 4; t++) {
          for (let j = 0; j < V; j++) {
            const want = whole.logits.data[(b * 8 + 4 + t) * V + j];
            const got = second.logits.data[(b * 4 + t) * V + j];
            assert.ok(Math.abs(got - want) <= 1e-5 + 1e-5 * Math.abs(want), `row ${b} step ${t}: ${got} vs ${want}`);
          }
        }
      }
      r.sum(m.train().forward(ids, 2, 8, first.state).logits).backward();
      assert.ok(m.parameters().every((p) => p.grad !== null));
    });
  }

  it('dropout acts on the residual branches in training only, and setDropout reaches every block', () => {
    const m = new LanguageModel(blockConfig('mingru', { dropout: 0.5 }), { rng: new Rng(6) });
    const ids = Int32Array.from({ length: 10 }, (_, i) => i % 11);
    const a = m.forward(ids, 1, 10).logits.data;
    const b = m.forward(ids, 1, 10).logits.data;
    assert.notDeepEqual(Array.from(a), Array.from(b));
    m.eval();
    assert.deepEqual(Array.from(m.forward(ids, 1, 10).logits.data), Array.from(m.forward(ids, 1, 10).logits.data));
    m.setDropout(0.2);
    assert.deepEqual(
      m.blocks!.map((blk) => blk.dropout),
      [0.2, 0.2],
    );
  });
});

describe('block language model: LMStepper (batch 1, storage level)', () => {
  for (const backend of ['wasm', 'js'] as const) {
    for (const kind of ['mingru', 'minlstm', 'lstm', 'gru'] as const) {
      it(`${backend}: ${kind} blocks: stepping one token at a time gives forward's logits and state`, () => {
        r.withBackend(backend, () => {
          const V = 11,
            T = 7;
          const m = new LanguageModel(blockConfig(kind, { layers: 3 }), { rng: new Rng(5) });
          m.eval();
          const ids = Int32Array.from({ length: T }, (_, i) => (i * 5 + 3) % V);
          const want = r.noGrad(() => m.forward(ids, 1, T));
          const stepper = new LMStepper(m);
          for (let t = 0; t < T; t++) {
            const got = stepper.step(ids[t]);
            for (let j = 0; j < V; j++) {
              const w = want.logits.data[t * V + j];
              assert.ok(Math.abs(got[j] - w) <= 1e-5 + 1e-4 * Math.abs(w), `step ${t} logit ${j}: ${got[j]} vs ${w}`);
            }
          }
          const st = stepper.state();
          const close = (a: Float32Array, b: Float32Array): void => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `state ${i}: ${v} vs ${b[i]}`));
          assert.deepEqual(st.h.shape, [3, 1, 8]);
          close(st.h.data, want.state.h.data);
          if (kind === 'lstm') close(st.c!.data, want.state.c!.data);
          // from a given state: the stepper and forward agree again
          stepper.reset(st);
          const again = r.noGrad(() => m.forward(ids.slice(0, 2), 1, 2, st));
          stepper.step(ids[0]);
          const got = stepper.step(ids[1]);
          for (let j = 0; j < V; j++) assert.ok(Math.abs(got[j] - again.logits.data[V + j]) <= 1e-5 + 1e-4 * Math.abs(again.logits.data[V + j]));
          stepper.dispose();
        });
      });
    }
  }

  it('seeded sampling gives the same text twice (plain minGRU and minLSTM blocks), and another seed another text', () => {
    const vocab = CharTokenizer.fromTexts('abcdefghij ');
    for (const config of [
      { vocabSize: vocab.size, model: 'mingru' as const, layers: 2, hidden: 8, embed: 4, dropout: 0 },
      blockConfig('minlstm', { vocabSize: vocab.size }),
    ]) {
      const m = new LanguageModel(config, { rng: new Rng(8) });
      const a = sampleText(m, vocab, { seed: 3, length: 60, prime: 'abc' });
      assert.equal(sampleText(m, vocab, { seed: 3, length: 60, prime: 'abc' }), a);
      assert.notEqual(sampleText(m, vocab, { seed: 4, length: 60, prime: 'abc' }), a);
      assert.equal([...a].length, 60);
    }
  });
});

describe('training the scan kinds, plain and as blocks', () => {
  const text = readFileSync(fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)), 'utf8').slice(0, 30000);
  const vocab = CharTokenizer.fromTexts(text);
  const split = splitIds(vocab.encode(text), 0.1);

  /** The validation cross-entropy (nats/char) of an add-one bigram model fitted on the training split: what a model must beat to use more than the last character. */
  function bigramLoss(train: TokenIds, val: TokenIds, V: number): number {
    const counts = new Float64Array(V * V).fill(1);
    for (let i = 1; i < train.length; i++) counts[train[i - 1] * V + train[i]]++;
    let loss = 0;
    for (let i = 1; i < val.length; i++) {
      let row = 0;
      for (let j = 0; j < V; j++) row += counts[val[i - 1] * V + j];
      loss -= Math.log(counts[val[i - 1] * V + val[i]] / row);
    }
    return loss / (val.length - 1);
  }
  const bigram = bigramLoss(split.train, split.val, vocab.size);

  for (const [what, config, steps] of [
    ['2 x 64 MinGRU, embedding 32', { model: 'mingru', layers: 2, hidden: 64, embed: 32, dropout: 0 }, 300],
    ['2 blocks x 64 MinLSTM', { model: 'minlstm', layers: 2, hidden: 64, embed: 64, dropout: 0, blocks: true }, 200],
  ] as const) {
    it(`${what}: ${steps} steps on 30,000 characters of Shakespeare beat a bigram model's validation loss`, async () => {
      // the bigram model scores about 2.44 nats/char here, a unigram one 3.25
      assert.ok(bigram > 2.3 && bigram < 2.6, `bigram ${bigram}`);
      const res = await trainLM({
        text,
        vocab,
        config,
        options: { ...defaultTrainOptions, batch: 16, seq: 32, lr: 0.005, schedule: 'exponential', lrDecay: 1, warmup: 0, evalEvery: 0, sampleEvery: 0, steps },
      });
      assert.ok(res.progress.lastValLoss! < bigram - 0.1, `val loss ${res.progress.lastValLoss} vs bigram ${bigram}`);
    });
  }
});
