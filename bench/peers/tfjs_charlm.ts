/**
 * TensorFlow.js peer for bench/index.ts: the same char-LSTM workloads as
 * bench/workloads.ts (Adam 2e-3, global-norm clip 5, batch 32 x seq 64
 * stateful truncated BPTT, batch-1 sampling), printed as one JSON line.
 *   node --import tsx bench/peers/tfjs_charlm.ts --workload W1 [--backend wasm|cpu] [--steps 20]
 *
 * The model is written with tf ops in a tf.variableGrads loop rather than
 * tfjs-layers: layers' LSTM re-does the input matmul every time step, its
 * Embedding trains through gather, whose gradient (UnsortedSegmentSum) the
 * wasm backend lacks, and model.fit has no global-norm clipping. Here the
 * input projection of all 64 steps is one matmul per layer, like cuDNN and
 * PyTorch do, so only h @ W_hh stays in the time loop: the fastest way we
 * know to write it in tfjs, which is the fair comparison. Most of a step is
 * then the backward's transposed matmuls (h^T dG, dG W^T), which tf.profile
 * shows tfjs-wasm running about 12x slower per call than the forward's h @ W.
 *
 * wasm flavour: in Node the backend reads its .wasm from its own dist dir in
 * node_modules (we point setWasmPaths there too, so nothing is fetched) and
 * picks the SIMD build. The threaded SIMD build does not run in Node: tfjs
 * reports WASM_HAS_MULTITHREAD_SUPPORT false under Node (tfjs issue 3830),
 * and forcing the flag fails at init with ERR_WORKER_PATH because Emscripten
 * hands worker_threads a blob: URL. So tfjs-wasm is single-threaded here.
 */
// the @tensorflow/tfjs bundle, not bare tfjs-core: core's Node build registers no
// gradients (the bundle does), and it brings the cpu backend
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { WORKLOADS } from '../workloads.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W1' },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'sample-chars': { type: 'string' },
  },
});
const w = WORKLOADS[values.workload!];
if (!w) throw new Error(`unknown workload ${values.workload}`);
// Some tfjs runs are slow (measured here: a W2 step takes about 25 s on wasm, a W1 step
// about 6 s on cpu), so those time fewer steps and sample fewer chars to keep one run
// near a minute; the JSON says what ran. cpu W2 (minutes per step) is for patient hands.
const CAPS: Record<string, { steps: number; warmup: number; sampleChars: number }> = {
  'wasm W2': { steps: 1, warmup: 1, sampleChars: 200 },
  'cpu W1': { steps: 3, warmup: 1, sampleChars: 500 },
  'cpu W2': { steps: 1, warmup: 0, sampleChars: 50 },
};
const cap = CAPS[`${values.backend} ${values.workload}`] ?? { steps: Infinity, warmup: Infinity, sampleChars: Infinity };
const steps = Math.min(Number(values.steps), cap.steps);
const warmup = Math.min(Number(values.warmup), cap.warmup);
const sampleChars = Number(values['sample-chars'] ?? Math.min(w.sampleChars, cap.sampleChars));

if (values.backend === 'wasm') {
  // trailing slash: tfjs concatenates prefix + file name
  setWasmPaths(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
} else if (values.backend !== 'cpu') throw new Error(`unknown backend ${values.backend}`);
if (!(await tf.setBackend(values.backend!))) throw new Error(`tfjs backend ${values.backend} failed to initialise`);

// data: the same vocabulary (sorted distinct chars) and B x row split as the torch peer
const text = readFileSync(new URL('../../data/tinyshakespeare.txt', import.meta.url), 'utf8');
const chars = [...new Set(text)].sort();
const V = chars.length;
const index = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => index.get(c)!);
const { batch: B, seq: T, layers: L, hidden: H, embed: E } = w;
const row = Math.floor((ids.length - 1) / B);
/** Window i of the batch, time-major ([T * B], t * B + b) so each step's rows are contiguous. */
function window(i: number, shift: number): tf.Tensor1D {
  const out = new Int32Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) out[t * B + b] = ids[b * row + ((i * T + t) % (row - T)) + shift];
  return tf.tensor1d(out, 'int32');
}

// parameters, initialised like PyTorch: U(-1/sqrt(H), 1/sqrt(H)); gates laid out [i f o | g]
const uniform = (shape: number[], k: number, name: string): tf.Variable => tf.variable(tf.randomUniform(shape, -k, k, 'float32', 1), true, name);
const embedding = tf.variable(tf.randomNormal([V, E], 0, 1, 'float32', 1), true, 'embedding'); // N(0, 1) like nn.Embedding
const layers = Array.from({ length: L }, (_, l) => ({
  wx: uniform([l === 0 ? E : H, 4 * H], 1 / Math.sqrt(H), `wx${l}`),
  wh: uniform([H, 4 * H], 1 / Math.sqrt(H), `wh${l}`),
  b: uniform([4 * H], 1 / Math.sqrt(H), `b${l}`),
}));
const headW = uniform([H, V], 1 / Math.sqrt(H), 'headW');
const headB = uniform([V], 1 / Math.sqrt(H), 'headB');
const params = [embedding, ...layers.flatMap((p) => [p.wx, p.wh, p.b]), headW, headB];

interface State {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}
const zeroState = (batch: number): State => ({ h: layers.map(() => tf.zeros([batch, H])), c: layers.map(() => tf.zeros([batch, H])) });

/** Logits [steps * batch, V] for time-major char ids, and the state after the last step. */
function forward(x: tf.Tensor1D, batch: number, state: State): { logits: tf.Tensor2D; state: State } {
  const n = x.shape[0] / batch;
  // one-hot @ E rather than gather: the wasm backend cannot take gather's gradient
  let seq = tf.matMul(tf.oneHot(x, V), embedding) as tf.Tensor2D;
  const next: State = { h: [], c: [] };
  layers.forEach((p, l) => {
    const xw = tf.unstack(tf.reshape(tf.add(tf.matMul(seq, p.wx), p.b), [n, batch, 4 * H])) as tf.Tensor2D[];
    let h = state.h[l],
      c = state.c[l];
    const hs: tf.Tensor2D[] = [];
    for (const xt of xw) {
      const [ifo, g] = tf.split(tf.add(xt, tf.matMul(h, p.wh)), [3 * H, H], 1);
      const [i, f, o] = tf.split(tf.sigmoid(ifo), 3, 1);
      c = tf.add(tf.mul(f, c), tf.mul(i, tf.tanh(g)));
      h = tf.mul(o, tf.tanh(c));
      hs.push(h);
    }
    next.h.push(h);
    next.c.push(c);
    seq = tf.reshape(tf.stack(hs), [n * batch, H]);
  });
  return { logits: tf.add(tf.matMul(seq, headW), headB), state: next };
}

const opt = tf.train.adam(2e-3);
let state = zeroState(B);
const times: number[] = [];
let loss = NaN;
for (let i = 0; i < warmup + steps; i++) {
  const x = window(i, 0),
    y = window(i, 1);
  const t0 = performance.now();
  let next!: State;
  const { value, grads } = tf.variableGrads(() => {
    const r = forward(x, B, state);
    next = { h: r.state.h.map((t) => tf.keep(t)), c: r.state.c.map((t) => tf.keep(t)) }; // carried, not back-propagated into
    return tf.losses.softmaxCrossEntropy(tf.oneHot(y, V), r.logits) as tf.Scalar;
  }, params);
  tf.tidy(() => {
    // clip_grad_norm_(params, 5): scale by min(1, 5 / (norm + 1e-6)); tfjs has no built-in
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(1, tf.div(5, tf.add(norm, 1e-6)));
    opt.applyGradients(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)])));
  });
  loss = value.dataSync()[0]; // also waits for the step, on any backend
  const dt = performance.now() - t0;
  tf.dispose([value, x, y, grads, state.h, state.c]);
  state = next;
  if (i >= warmup) times.push(dt);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];

/** Batch-1 sampling at temperature 0.8, one char at a time, the sampled char fed back. */
function sample(n: number, seed: number): void {
  let st = zeroState(1);
  let id = index.get('\n')!;
  for (let k = 0; k < n; k++) {
    const next = tf.tidy(() => {
      const r = forward(tf.tensor1d([id], 'int32'), 1, st);
      return {
        st: { h: r.state.h.map((t) => tf.keep(t)), c: r.state.c.map((t) => tf.keep(t)) },
        id: tf.multinomial(tf.div(r.logits, 0.8) as tf.Tensor2D, 1, seed + k),
      };
    });
    id = next.id.dataSync()[0];
    tf.dispose([next.id, st.h, st.c]);
    st = next.st;
  }
  tf.dispose([st.h, st.c]);
}
sample(3 * Math.min(sampleChars, 1000), 0); // warm-up, as long as recur's
const s0 = performance.now();
sample(sampleChars, 1);
const sampleSec = (performance.now() - s0) / 1000;

const wasm = values.backend === 'wasm';
const simd = wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
const multithread = wasm ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : undefined;
console.log(
  JSON.stringify({
    workload: values.workload,
    peer: 'tfjs',
    backend: `tfjs-${values.backend}`,
    tfjs: tf.version_core,
    variant: wasm ? (simd ? (multithread ? 'threaded-simd' : 'simd') : 'plain') : 'js',
    wasm_simd: simd,
    wasm_multithread: multithread,
    threads: wasm ? getThreadsCount() : 1,
    train_chars_per_s: Math.round((B * T) / (median / 1000)),
    train_step_ms: Number(median.toFixed(2)),
    steps,
    warmup,
    sample_chars_per_s: Math.round(sampleChars / sampleSec),
    sample_chars: sampleChars,
    last_loss: Number(loss.toFixed(4)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
