/**
 * One recur figure set for one workload on one backend, printed as a JSON
 * line: training chars/s (forward + backward + clip + Adam, the median of
 * `--steps` steps after warm-up), sampling chars/s at batch 1, peak RSS.
 * bench/index.ts runs this in a fresh process per backend, workload and cell kind.
 *   node --experimental-wasm-relaxed-simd --import tsx bench/charlm.ts --workload W1 --backend wasm [--model mingru]
 */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Adam, LanguageModel, CharTokenizer, Rng, BpttBatcher, sampleText, setBackend, type RecurrentState } from '../src/index.js';
import { trainStep } from '../src/internal.js';
import { cellKindChoices, isCellKind } from '../src/nn/rnn/kinds.js';
import { WORKLOADS } from './workloads.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W1' },
    model: { type: 'string', default: 'lstm' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'sample-chars': { type: 'string' },
  },
});
const w = WORKLOADS[values.workload!];
if (!w) throw new Error(`unknown workload ${values.workload}`);
const kind = values.model!;
if (!isCellKind(kind)) throw new Error(`--model must be ${cellKindChoices()}, got '${kind}'`);
if (values.threads) process.env.RECUR_THREADS = values.threads;
const backend = setBackend(values.backend!);
const text = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');
const vocab = CharTokenizer.fromTexts(text);
const ids = vocab.encode(text);
const model = new LanguageModel({ vocabSize: vocab.size, model: kind, layers: w.layers, hidden: w.hidden, embed: w.embed, dropout: 0 }, { rng: new Rng(1) });
const opt = new Adam(model.parameters(), { lr: 2e-3 });
const batches = new BpttBatcher(ids, w.batch, w.seq);

let state: RecurrentState = model.initialState(w.batch);
const times: number[] = [];
const steps = Number(values.steps),
  warmup = Number(values.warmup);
let loss = NaN;
for (let i = 0; i < warmup + steps; i++) {
  const win = batches.next();
  const t0 = performance.now();
  const r = trainStep(model, opt, win.x, win.y, w.batch, w.seq, state, { clip: 5, clipValue: 0 });
  const dt = performance.now() - t0;
  state.h.dispose();
  state.c?.dispose();
  state = r.state;
  loss = r.loss;
  if (i >= warmup) times.push(dt);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];

const sampleChars = Number(values['sample-chars'] ?? w.sampleChars);
// warm-up long enough for V8 to finish tiering up the sampling loop (20 characters left it ~20% slow)
sampleText(model, vocab, { length: Math.min(sampleChars, 1000) * 3, seed: 1 });
const s0 = performance.now();
sampleText(model, vocab, { length: sampleChars, seed: 1, prime: 'ROMEO:' });
const sampleSec = (performance.now() - s0) / 1000;

const wb = backend as { kernels?: { variant: string; shared: boolean } };
console.log(
  JSON.stringify({
    workload: values.workload,
    model: kind,
    peer: 'recur',
    backend: backend.name,
    variant: wb.kernels ? `${wb.kernels.variant}${wb.kernels.shared ? '+shared' : ''}` : undefined,
    threads: (backend as { threads?: number }).threads ?? 1,
    train_chars_per_s: Math.round((w.batch * w.seq) / (median / 1000)),
    train_step_ms: Number(median.toFixed(2)),
    sample_chars_per_s: Math.round(sampleChars / sampleSec),
    last_loss: Number(loss.toFixed(4)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
