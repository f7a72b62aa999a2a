import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Adam, BpttBatcher, LanguageModel, CharTokenizer, Rng, clipGradNorm, pickToken, readSafetensors, sampleText, writeSafetensors } from '../src/index.js';

describe('pickToken', () => {
  const logits = [1, 3, 2, 0];
  it('argmax, and top-k 1 / tiny top-p, take the most likely token', () => {
    const rng = new Rng(1);
    assert.equal(pickToken(logits, { argmax: true }, rng), 1);
    for (let i = 0; i < 20; i++) assert.equal(pickToken(logits, { topK: 1 }, rng), 1);
    for (let i = 0; i < 20; i++) assert.equal(pickToken(logits, { topP: 0.01 }, rng), 1);
  });
  it('top-k 2 never picks outside the two most likely; frequencies follow the softmax', () => {
    const rng = new Rng(2);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[pickToken(logits, { topK: 2 }, rng)]++;
    assert.equal(counts[0] + counts[3], 0);
    const want = Math.exp(3) / (Math.exp(3) + Math.exp(2));
    assert.ok(Math.abs(counts[1] / 20000 - want) < 0.015, `${counts[1] / 20000} vs ${want}`);
  });
  it('a banned token is never picked, even when it is the most likely (and argmax takes the next best)', () => {
    const rng = new Rng(4);
    assert.equal(pickToken(logits, { argmax: true, banned: 1 }, rng), 2);
    assert.equal(pickToken([5, 1, 0], { argmax: true, banned: 0 }, rng), 1);
    for (let i = 0; i < 2000; i++) assert.notEqual(pickToken(logits, { banned: 1, temperature: 2 }, rng), 1);
    for (let i = 0; i < 50; i++) assert.equal(pickToken(logits, { banned: 1, topK: 1 }, rng), 2);
  });
  it('a low temperature sharpens, a high one flattens', () => {
    const rng = new Rng(3);
    const share = (temperature: number): number => {
      let n = 0;
      for (let i = 0; i < 5000; i++) if (pickToken(logits, { temperature }, rng) === 1) n++;
      return n / 5000;
    };
    assert.ok(share(0.2) > 0.95);
    assert.ok(share(5) < 0.4);
  });
  it('invalid options are rejected', () => {
    assert.throws(
      () =>
        sampleText(new LanguageModel({ vocabSize: 2, model: 'gru', layers: 1, hidden: 2, embed: 0, dropout: 0 }), new CharTokenizer(['a', 'b']), {
          temperature: 0,
        }),
      /temperature must be a positive number/,
    );
  });
});

describe('LanguageModel', () => {
  const text = 'hello world. '.repeat(60);
  const vocab = CharTokenizer.fromTexts(text);
  const ids = vocab.encode(text);

  function train(model: LanguageModel, steps: number): number {
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const batches = new BpttBatcher(ids, 4, 16);
    let state = model.initialState(4);
    let loss = Infinity;
    for (let i = 0; i < steps; i++) {
      const w = batches.next();
      if (w.window === 0) state = model.initialState(4);
      loss = r.tidy(() => {
        const out = model.forward(w.x, 4, 16, state);
        const l = r.crossEntropy(out.logits, w.y);
        opt.zeroGrad();
        l.backward();
        clipGradNorm(model.parameters(), 5);
        opt.step();
        state = { h: out.state.h.detach().keep(), c: out.state.c?.detach().keep() };
        return l.item();
      });
    }
    return loss;
  }

  for (const model of ['lstm', 'gru', 'rnn'] as const) {
    it(`${model}: learns a tiny repetitive text to a loss below 0.05 nats/char`, () => {
      const m = new LanguageModel({ vocabSize: vocab.size, model, layers: 1, hidden: 32, embed: model === 'rnn' ? 0 : 8, dropout: 0 }, { rng: new Rng(0) });
      const loss = train(m, 150);
      assert.ok(loss < 0.05, `${model}: loss ${loss}`);
      const out = sampleText(m, vocab, { prime: 'hello', length: 30, argmax: true });
      assert.equal(out, ' world. hello world. hello wor');
    });
  }

  it('seeded sampling is reproducible and streams every character', () => {
    const m = new LanguageModel({ vocabSize: vocab.size, model: 'lstm', layers: 2, hidden: 8, embed: 4, dropout: 0 }, { rng: new Rng(1) });
    const streamed: string[] = [];
    const a = sampleText(m, vocab, { seed: 7, length: 40, onChar: (c) => streamed.push(c) });
    assert.equal(sampleText(m, vocab, { seed: 7, length: 40 }), a);
    assert.notEqual(sampleText(m, vocab, { seed: 8, length: 40 }), a);
    assert.equal(streamed.join(''), a);
    assert.throws(() => sampleText(m, vocab, { prime: 'Zebra' }), /character 'Z' \(U\+005A\) is not in the model's vocabulary/);
  });

  it('save -> load gives identical logits', () => {
    const a = new LanguageModel({ vocabSize: vocab.size, model: 'gru', layers: 2, hidden: 6, embed: 3, dropout: 0 }, { rng: new Rng(2) });
    const b = new LanguageModel({ vocabSize: vocab.size, model: 'gru', layers: 2, hidden: 6, embed: 3, dropout: 0 }, { rng: new Rng(3) });
    b.loadStateDict(readSafetensors(writeSafetensors(a.stateDict())));
    const x = ids.slice(0, 10);
    assert.deepEqual(Array.from(b.forward(x, 2, 5).logits.data), Array.from(a.forward(x, 2, 5).logits.data));
    assert.deepEqual(Object.keys(a.stateDict()).slice(0, 3), ['embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0']);
  });
});

describe("LMStepper (the sampler's batch-1 path)", () => {
  for (const backend of ['wasm', 'js'] as const) {
    for (const [model, embed] of [
      ['lstm', 16],
      ['gru', 16],
      ['rnn', 0],
    ] as const) {
      it(`${backend}: ${model}, ${embed ? 'embedding' : 'one-hot'}, 2 layers: stepping one character at a time gives LanguageModel.forward's logits and state`, () => {
        r.withBackend(backend, () => {
          const V = 11,
            T = 7;
          const m = new LanguageModel({ vocabSize: V, model, layers: 2, hidden: 9, embed, dropout: 0 }, { rng: new Rng(5) });
          m.eval();
          const ids = Int32Array.from({ length: T }, (_, i) => (i * 5 + 3) % V);
          const want = r.noGrad(() => m.forward(ids, 1, T));
          const stepper = new r.LMStepper(m);
          const wantLogits = want.logits.data;
          for (let t = 0; t < T; t++) {
            const got = stepper.step(ids[t]);
            for (let j = 0; j < V; j++) {
              const w = wantLogits[t * V + j];
              assert.ok(Math.abs(got[j] - w) <= 1e-5 + 1e-4 * Math.abs(w), `step ${t} logit ${j}: ${got[j]} vs ${w}`);
            }
          }
          const st = stepper.state();
          const close = (a: Float32Array, b: Float32Array): void => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `state ${i}: ${v} vs ${b[i]}`));
          close(st.h.data, want.state.h.data);
          if (model === 'lstm') close(st.c!.data, want.state.c!.data);
          assert.throws(() => stepper.step(V), /outside the vocabulary of 11/);
          stepper.dispose();
        });
      });
    }
  }
});
