/**
 * Memory stays flat over a long run: W1 training steps on the default backend,
 * printing process RSS and the wasm heap's high-water mark at chosen steps.
 *   node --experimental-wasm-relaxed-simd --import tsx bench/rss.ts [--steps 5000]
 */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Adam, BpttBatcher, LanguageModel, CharTokenizer, Rng, getBackend, type RecurrentState } from '../src/index.js';
import { trainStep } from '../src/internal.js';
import { WORKLOADS } from './workloads.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '5000' }, workload: { type: 'string', default: 'W1' } } });
const w = WORKLOADS[values.workload!];
const text = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');
const vocab = CharTokenizer.fromTexts(text);
const model = new LanguageModel({ vocabSize: vocab.size, model: 'lstm', layers: w.layers, hidden: w.hidden, embed: w.embed, dropout: 0 }, { rng: new Rng(1) });
const opt = new Adam(model.parameters(), { lr: 2e-3 });
const batches = new BpttBatcher(vocab.encode(text), w.batch, w.seq);
const backend = getBackend() as { name: string; heap?: { reserved: number } };
const total = Number(values.steps);
const marks = new Set([1, 100, 1000, total]);
let state: RecurrentState = model.initialState(w.batch);
for (let step = 1; step <= total; step++) {
  const win = batches.next();
  if (win.window === 0) {
    state.h.dispose();
    state.c?.dispose();
    state = model.initialState(w.batch);
  }
  const r = trainStep(model, opt, win.x, win.y, w.batch, w.seq, state, { clip: 5, clipValue: 0 });
  state.h.dispose();
  state.c?.dispose();
  state = r.state;
  if (marks.has(step)) {
    const heap = backend.heap ? `, wasm heap ${(backend.heap.reserved / 2 ** 20).toFixed(1)} MiB` : '';
    console.log(
      `${values.workload} ${backend.name} step ${step}: loss ${r.loss.toFixed(3)}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB${heap}`,
    );
  }
}
