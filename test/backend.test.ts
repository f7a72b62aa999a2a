import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createJsBackend } from '../src/backend/js/index.js';
import { BACKEND_METHODS } from '../src/backend/backend.js';
import * as opcodes from '../src/backend/opcodes.js';
import { runBackendConformance } from './backend-conformance.js';
import { Adam, BpttBatcher, CharTokenizer, LanguageModel, Rng, withBackend, type RecurrentState } from '../src/index.js';
import { trainStep } from '../src/internal.js';

import '../src/node/threads.js';
import { createWasmBackend, JS_FALLBACKS, type JsFallback } from '../src/backend/wasm/index.js';
runBackendConformance('js (float32)', () => createJsBackend('f32'));
runBackendConformance('js-f64', () => createJsBackend('f64'));
runBackendConformance('wasm (best variant, shared memory)', () => createWasmBackend({ shared: true }));
runBackendConformance('wasm (plain SIMD, unshared memory, as in a page without cross-origin isolation)', () =>
  createWasmBackend({ shared: false, variant: 'simd' }),
);
runBackendConformance('wasm (2 worker threads sharing the big GEMMs)', () => createWasmBackend({ shared: true, threads: 2 }));

it('the threaded wasm backend really runs with 2 threads (RECUR_THREADS=1 would give 1)', () => {
  assert.equal(createWasmBackend({ shared: true, threads: 2 }).threads, 2);
  assert.equal(createWasmBackend({ shared: false, threads: 2 }).threads, 1, 'no shared memory: one thread');
});

it('the wasm backend defines every Backend method itself, none by spreading the js backend', () => {
  const b = createWasmBackend({ shared: false });
  const missing = BACKEND_METHODS.filter((m) => typeof b[m] !== 'function' || !Object.hasOwn(b, m));
  assert.deepEqual(missing, [], 'Backend methods the wasm backend does not define');
  const unknown = JS_FALLBACKS.filter((m) => !(BACKEND_METHODS as readonly string[]).includes(m));
  assert.deepEqual(unknown, [], 'JS_FALLBACKS entries that are not Backend methods');
  assert.equal(new Set(JS_FALLBACKS).size, JS_FALLBACKS.length, 'JS_FALLBACKS lists a method twice');
  assert.deepEqual(Object.keys(b.jsFallbacks).sort(), [...JS_FALLBACKS].sort(), 'the wasm backend reaches exactly the js kernels of JS_FALLBACKS');
});

// the whole conformance suite again, on a wasm backend whose js kernels record their calls:
// every method in JS_FALLBACKS must reach js code (no stale entries), and the wasm backend can
// reach no js kernel outside the list (jsFallbacks holds only those), so the list is exact
// (a conformance case that fails before reaching a fallback makes this fail too)
const reachedJs = new Set<string>();
runBackendConformance('wasm, recording which methods run js code', () => {
  const b = createWasmBackend({ shared: false });
  for (const name of JS_FALLBACKS) {
    const f = b.jsFallbacks[name] as (...args: unknown[]) => unknown;
    (b.jsFallbacks as Record<JsFallback, unknown>)[name] = (...args: unknown[]) => {
      reachedJs.add(name);
      return f(...args);
    };
  }
  return b;
});
it('the methods of JS_FALLBACKS are exactly those that ran js code in the conformance suite', () => {
  assert.deepEqual([...reachedJs].sort(), [...JS_FALLBACKS].sort());
});

it('kernel op codes (src/backend/opcodes.ts, compiled into the kernels too) are distinct small integers in each family', () => {
  for (const [family, codes] of Object.entries(opcodes)) {
    const values = Object.values(codes as Record<string, number>);
    assert.ok(values.length > 0 && values.every((v) => Number.isInteger(v) && v >= 0), `${family}: codes must be integers >= 0`);
    assert.equal(new Set(values).size, values.length, `${family}: two ops share a code: ${JSON.stringify(codes)}`);
  }
});

it('a language model trains to the same numbers on 1 and 2 threads: the batch-parallel time loop splits rows, not sums (LSTM and GRU, 3 steps)', () => {
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
  const vocab = CharTokenizer.fromTexts(text);
  const ids = vocab.encode(text);
  const train = (threads: number, model: 'lstm' | 'gru'): { losses: number[]; weights: number[] } =>
    withBackend(createWasmBackend({ shared: true, threads }), () => {
      const lm = new LanguageModel({ vocabSize: vocab.size, model, layers: 2, hidden: 24, embed: 8, dropout: 0 }, { rng: new Rng(5) });
      const opt = new Adam(lm.parameters(), { lr: 0.01 });
      const batches = new BpttBatcher(ids, 16, 12);
      let state: RecurrentState = lm.initialState(16);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const win = batches.next();
        const r = trainStep(lm, opt, win.x, win.y, 16, 12, state, { clip: 5, clipValue: 0 });
        state = r.state;
        losses.push(r.loss);
      }
      return { losses, weights: lm.parameters().flatMap((p) => Array.from(p.data)) };
    });
  for (const model of ['lstm', 'gru'] as const) {
    const one = train(1, model),
      two = train(2, model);
    assert.ok(one.losses[2] < one.losses[0], `${model}: the loss falls (${one.losses})`);
    assert.deepEqual(two.losses, one.losses, `${model}: losses`);
    const worst = Math.max(...two.weights.map((w, i) => Math.abs(w - one.weights[i])));
    assert.ok(worst <= 1e-6, `${model}: weights differ by up to ${worst}`);
  }
});
