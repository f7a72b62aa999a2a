/**
 * Where a training step's time goes, by backend method: wraps every method of
 * the current backend with a timer, runs a few training steps of a workload,
 * and prints each method's share of the step (time on the calling thread,
 * which includes waiting for the other threads of a split call).
 *   node --experimental-wasm-relaxed-simd --import tsx bench/profile-step.ts [--workload W1] [--threads 2] [--steps 20]
 */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Adam, LanguageModel, CharTokenizer, Rng, BpttBatcher, setBackend, type RecurrentState } from '../src/index.js';
import { trainStep } from '../src/internal.js';
import { BACKEND_METHODS, type Backend } from '../src/backend/backend.js';
import { WORKLOADS } from './workloads.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W1' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '20' },
    model: { type: 'string', default: 'lstm' },
  },
});
if (values.threads) process.env.RECUR_THREADS = values.threads;
const w = WORKLOADS[values.workload!];
const bk = setBackend('wasm') as Backend & Record<string, unknown>;
const spent = new Map<string, { ms: number; calls: number }>();
let timing = false;
for (const name of BACKEND_METHODS) {
  const f = bk[name] as (...a: unknown[]) => unknown;
  if (typeof f !== 'function') continue;
  (bk as Record<string, unknown>)[name] = (...a: unknown[]) => {
    if (!timing) return f.apply(bk, a);
    timing = false; // count nested calls (a loop calling matmul) in the outer one only
    const t0 = performance.now();
    try {
      return f.apply(bk, a);
    } finally {
      const e = spent.get(name) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      spent.set(name, e);
      timing = true;
    }
  };
}
const text = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');
const vocab = CharTokenizer.fromTexts(text);
const model = new LanguageModel(
  { vocabSize: vocab.size, model: values.model as 'lstm', layers: w.layers, hidden: w.hidden, embed: w.embed, dropout: 0 },
  { rng: new Rng(1) },
);
const opt = new Adam(model.parameters(), { lr: 2e-3 });
const batches = new BpttBatcher(vocab.encode(text), w.batch, w.seq);
let state: RecurrentState = model.initialState(w.batch);
const steps = Number(values.steps);
let total = 0;
for (let i = 0; i < steps + 3; i++) {
  const win = batches.next();
  timing = i >= 3;
  const t0 = performance.now();
  const r = trainStep(model, opt, win.x, win.y, w.batch, w.seq, state, { clip: 5, clipValue: 0 });
  if (i >= 3) total += performance.now() - t0;
  timing = false;
  state.h.dispose();
  state.c?.dispose();
  state = r.state;
}
const rows = [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms);
const inMethods = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `${values.workload} on ${(bk as { threads?: number }).threads ?? 1} thread(s): ${(total / steps).toFixed(2)} ms a step, ${((100 * inMethods) / total).toFixed(0)}% of it in backend methods`,
);
for (const [name, e] of rows)
  console.log(
    `  ${name.padEnd(22)} ${(e.ms / steps).toFixed(2).padStart(7)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${(e.calls / steps).toFixed(0).padStart(5)} calls`,
  );
