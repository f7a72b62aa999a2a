/**
 * Why LSTM: the gradient that has to reach a step far back, and what gates
 * do about it (Hochreiter 1991; Bengio, Simard & Frasconi 1994; Hochreiter
 * & Schmidhuber 1997).
 *
 * The task: recall the first of 4 symbols after L distractor symbols (4
 * others), read one-hot; the model's final state goes through a linear
 * layer to the 4 symbols, so the loss sits at the last step and the only
 * useful information is L steps back. Chance is 25%.
 *
 * (a) For every cell kind in the registry (src/nn/rnn/kinds.ts), the norm
 * of ∂L/∂h_{T-k}, the gradient of the loss at the last step T with respect
 * to the hidden state k steps earlier, k = 0..L for the longest L, at
 * initialisation and after training; an SVG plot on a log scale.
 * (b) Held-out accuracy per cell kind for L = 10, 50 and 100.
 *
 * The gated kinds start with their keep gates biased towards keeping
 * (`--keep-bias`, default 3: σ(3) = 0.95 of the state kept per step; the
 * LSTM's and minLSTM's input gates biased the other way, as in Tallec &
 * Ollivier 2018's chrono initialisation); an Elman RNN has no gate to bias.
 * `--keep-bias 0` leaves PyTorch's default initialisation, where every gate
 * starts near 0.5 and the gated cells' gradients vanish too.
 *
 *   npx tsx examples/vanishing-gradients.ts [--lags 10,50,100] [--steps 1000] [--hidden 32] [--batch 64] [--lr 0.003] [--keep-bias 3]
 *       [--kinds lstm,gru,rnn,mingru,minlstm] [--seed 1] [--svg vanishing-gradients.svg]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import {
  Adam,
  CELL_KIND_NAMES,
  Linear,
  Rng,
  finalHidden,
  recurrentLayerOf,
  type CellKind,
  type RecurrentBase,
  type RecurrentState,
  type Tensor,
} from '../src/index.js';
import { prepareOutput, writeFileAtomic } from '../src/cli/files.js';
import { lineChart, type Series } from '../src/cli/svg.js';
import { exampleArgs } from './example-args.js';

export const SYMBOLS = 4;
const DISTRACTORS = 4,
  VOCAB = SYMBOLS + DISTRACTORS;

/**
 * Where each kind decides how much of its state a step keeps: gate blocks of
 * bias_ih in PyTorch's order, and the sign that means "keep". A kind added to
 * the registry does not compile here until it says how it remembers.
 */
const KEEP_GATES: { readonly [K in CellKind]: readonly { block: number; sign: 1 | -1 }[] } = {
  lstm: [
    { block: 1, sign: 1 }, // f of i, f, g, o: c' = f c + i g ...
    { block: 0, sign: -1 }, // ... and i, or 100 distractors' writes swamp c and saturate tanh(c)
  ],
  gru: [{ block: 1, sign: 1 }], // z of r, z, n: h' = (1 - z) n + z h
  rnn: [],
  mingru: [{ block: 0, sign: -1 }], // z of z, h~: h' = (1 - z) h + z h~
  minlstm: [
    { block: 0, sign: 1 }, // f of f, i, h~ ...
    { block: 1, sign: -1 }, // ... and i: h' keeps f / (f + i) of h
  ],
};

function biasTowardsKeeping(layer: RecurrentBase, kind: CellKind, bias: number): void {
  const gates = KEEP_GATES[kind];
  if (gates.length === 0 || bias === 0) return;
  const H = layer.hiddenSize;
  r.tidy(() => {
    const sd = layer.stateDict();
    const ih = sd.bias_ih_l0.toFloat32Array();
    const hh = sd.bias_hh_l0?.toFloat32Array();
    for (const { block, sign } of gates) {
      ih.fill(sign * bias, block * H, (block + 1) * H);
      hh?.fill(0, block * H, (block + 1) * H); // the whole bias in one place, as LSTM's forgetBias does
    }
    layer.loadStateDict({ bias_ih_l0: r.tensor(ih), ...(hh ? { bias_hh_l0: r.tensor(hh) } : {}) }, { strict: false });
  });
}

export interface RecallBatch {
  /** [n, lag + 1, 8] one-hot: a symbol 0..3, then `lag` distractors 4..7. */
  x: Float32Array;
  /** The first symbol of each sequence. */
  targets: number[];
}

export function recallBatch(n: number, lag: number, rng: Rng): RecallBatch {
  const T = lag + 1;
  const x = new Float32Array(n * T * VOCAB);
  const targets: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = rng.int(SYMBOLS);
    targets.push(s);
    x[i * T * VOCAB + s] = 1;
    for (let t = 1; t < T; t++) x[(i * T + t) * VOCAB + SYMBOLS + rng.int(DISTRACTORS)] = 1;
  }
  return { x, targets };
}

export interface RecallModel {
  kind: CellKind;
  layer: RecurrentBase;
  head: Linear;
}

export function recallModel(kind: CellKind, o: { hidden: number; keepBias: number; rng: Rng }): RecallModel {
  const layer = recurrentLayerOf(kind, { inputSize: VOCAB, hiddenSize: o.hidden, rng: o.rng });
  biasTowardsKeeping(layer, kind, o.keepBias);
  return { kind, layer, head: new Linear(o.hidden, SYMBOLS, { rng: o.rng }) };
}

const paramsOf = (m: RecallModel): Tensor[] => [...m.layer.parameters(), ...m.head.parameters()];

function logitsOf(m: RecallModel, b: RecallBatch): Tensor {
  const n = b.targets.length;
  const { state } = m.layer.forward(r.tensor(b.x, [n, b.x.length / (n * VOCAB), VOCAB]));
  return m.head.forward(finalHidden(m.layer, state));
}

export function trainRecall(m: RecallModel, lag: number, o: { steps: number; batch: number; lr: number; rng: Rng }): void {
  const opt = new Adam(paramsOf(m), { lr: o.lr });
  for (let step = 0; step < o.steps; step++) {
    const b = recallBatch(o.batch, lag, o.rng);
    r.tidy(() => {
      const loss = r.crossEntropy(logitsOf(m, b), b.targets);
      opt.zeroGrad();
      loss.backward();
      r.clipGradNorm(paramsOf(m), 1);
      opt.step();
    });
  }
}

export function recallAccuracy(m: RecallModel, lag: number, n: number, rng: Rng): number {
  const b = recallBatch(n, lag, rng);
  return r.noGrad(() =>
    r.tidy(() => {
      const pred = logitsOf(m, b).argmax(-1).data;
      return b.targets.filter((s, i) => pred[i] === s).length / n;
    }),
  );
}

/** ‖∂L/∂h_{T-k}‖ for k = 0..lag; for a kind with a cell state (an LSTM), ‖∂L/∂c_{T-k}‖ too, the path its memory takes. */
export interface StateGradients {
  h: number[];
  c: number[] | null;
}

/**
 * The gradient norms, each the mean over a batch of each sequence's norm, L
 * the summed cross-entropy at the last step (so a sequence's gradient is its
 * own loss's). The layer runs one step per call, so that each step's state
 * is a tensor of its own; a zero "probe" that requires grad is added to it
 * (which changes nothing forward) and backward leaves ∂L/∂h_t in the
 * probe's grad.
 */
export function gradientNorms(m: RecallModel, lag: number, batch: RecallBatch): StateGradients {
  const n = batch.targets.length,
    T = lag + 1,
    H = m.layer.hiddenSize;
  const norms = r.tidy(() => {
    const x = r.tensor(batch.x, [n, T, VOCAB]);
    const probes: { h: Tensor; c: Tensor | null }[] = [];
    let state: RecurrentState | undefined;
    for (let t = 0; t < T; t++) {
      const out = m.layer.forward(r.narrow(x, 1, t, 1), { state });
      const probe = { h: r.zeros(out.state.h.shape, { requiresGrad: true }), c: out.state.c ? r.zeros(out.state.c.shape, { requiresGrad: true }) : null };
      probes.push(probe);
      state = { h: out.state.h.add(probe.h), ...(out.state.c ? { c: out.state.c.add(probe.c!) } : {}) };
    }
    r.crossEntropy(m.head.forward(finalHidden(m.layer, state!)), batch.targets, { reduction: 'sum' }).backward();
    // k steps back from the last is probes[T - 1 - k]; a state that does not reach the loss gets no grad
    const back = (pick: (p: (typeof probes)[number]) => Tensor): number[] =>
      probes.map((_, k) => {
        const g = pick(probes[T - 1 - k]).grad;
        return g ? meanRowNorm(g.data, n, H) : 0;
      });
    return { h: back((p) => p.h), c: probes[0].c ? back((p) => p.c!) : null };
  });
  for (const p of paramsOf(m)) p.zeroGrad(); // backward reached the parameters too
  return norms;
}

function meanRowNorm(g: Float32Array, rows: number, cols: number): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    for (let j = 0; j < cols; j++) sq += g[i * cols + j] ** 2;
    total += Math.sqrt(sq);
  }
  return total / rows;
}

export interface CellResult {
  kind: CellKind;
  /** Held-out accuracy at each lag. */
  accuracy: number[];
  /** Gradient norms for k = 0..longest lag, before and after training at the longest lag. */
  norms: { init: StateGradients; trained: StateGradients };
  seconds: number;
}

export interface VanishingOptions {
  lags?: number[];
  steps?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  keepBias?: number;
  /** Default: every kind in the registry. */
  kinds?: readonly CellKind[];
  testSize?: number;
  /** Sequences the gradient norms are averaged over. */
  gradBatch?: number;
  seed?: number;
  log?: (s: string) => void;
}

export function vanishingGradients(o: VanishingOptions = {}): { lags: number[]; cells: CellResult[] } {
  const { lags = [10, 50, 100], steps = 1000, hidden = 32, batch = 64, lr = 3e-3, keepBias = 3, testSize = 1000, gradBatch = 64, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const longest = Math.max(...lags);
  const cells = (o.kinds ?? CELL_KIND_NAMES).map((kind): CellResult => {
    const t0 = performance.now();
    const norms: CellResult['norms'] = { init: { h: [], c: null }, trained: { h: [], c: null } };
    const accuracy = lags.map((lag) => {
      const m = recallModel(kind, { hidden, keepBias, rng: new Rng(seed) });
      const probeBatch = recallBatch(gradBatch, lag, new Rng(seed + 2000));
      if (lag === longest) norms.init = gradientNorms(m, lag, probeBatch);
      // every kind sees the same training batches
      trainRecall(m, lag, { steps, batch, lr, rng: new Rng(seed + 1) });
      if (lag === longest) norms.trained = gradientNorms(m, lag, probeBatch);
      const acc = recallAccuracy(m, lag, testSize, new Rng(seed + 1000));
      log(`${kind} L=${lag}: held-out accuracy ${pct(acc)}`);
      return acc;
    });
    return { kind, accuracy, norms, seconds: (performance.now() - t0) / 1000 };
  });
  return { lags, cells };
}

const isCellKind = (k: string): k is CellKind => (CELL_KIND_NAMES as readonly string[]).includes(k);
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** One line of the plot and the table: a cell's h, or an LSTM's c. */
interface Curve {
  name: string;
  init: number[];
  trained: number[];
}

function curves(res: { cells: CellResult[] }): Curve[] {
  return res.cells.flatMap((c) => [
    { name: c.norms.init.c ? `${c.kind} h` : c.kind, init: c.norms.init.h, trained: c.norms.trained.h },
    ...(c.norms.init.c && c.norms.trained.c ? [{ name: `${c.kind} c`, init: c.norms.init.c, trained: c.norms.trained.c }] : []),
  ]);
}

/** Norm against k per cell: solid after training, dashed (same colour) at initialisation. */
export function gradientChart(res: { lags: number[]; cells: CellResult[] }): string {
  const lag = Math.max(...res.lags);
  const series = curves(res).flatMap((c, i): Series[] => {
    const k = c.trained.map((_, j) => j);
    const color = COLORS[i % COLORS.length];
    return [
      { label: c.name, x: k, y: c.trained, color },
      { label: `${c.name} at initialisation`, x: k, y: c.init, color, dashed: true, legend: false },
    ];
  });
  return lineChart(series, {
    title: `‖∂L/∂h(T−k)‖ (an LSTM's c too) for the loss at the last step, recall after ${lag} distractors: solid after training, dashed at initialisation`,
    logY: true,
    xLabel: 'k: steps back from the last step',
    yLabel: 'gradient norm (log scale)',
    width: 1000,
    height: 420,
  });
}

function report(res: { lags: number[]; cells: CellResult[] }, o: { steps: number; hidden: number; batch: number; keepBias: number }): void {
  console.log(
    `\nrecall the first of ${SYMBOLS} symbols after L distractors: held-out accuracy (chance ${pct(1 / SYMBOLS)}); ` +
      `${o.hidden} units, ${o.steps} steps of batch ${o.batch} for each cell and L; keep gates biased by ${o.keepBias}`,
  );
  console.log('cell'.padEnd(10) + res.lags.map((l) => `L=${l}`.padEnd(10)).join('') + 'time');
  for (const c of res.cells) console.log(c.kind.padEnd(10) + c.accuracy.map((a) => pct(a).padEnd(10)).join('') + `${c.seconds.toFixed(1)} s`);
  if (o.keepBias !== 0) console.log("(--keep-bias 0 runs the same with PyTorch's default initialisation, gates starting near 0.5)");
  const lag = Math.max(...res.lags);
  const ks = [1, 10, 50, 100].filter((k) => k <= lag);
  console.log(`\n‖∂L/∂h(T−k)‖ (and an LSTM's ‖∂L/∂c(T−k)‖) at L = ${lag}, at initialisation -> after training:`);
  console.log('state'.padEnd(10) + ks.map((k) => `k=${k}`.padEnd(22)).join(''));
  const e = (v: number): string => v.toExponential(1);
  for (const c of curves(res)) console.log(c.name.padEnd(10) + ks.map((k) => `${e(c.init[k])} -> ${e(c.trained[k])}`.padEnd(22)).join(''));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('vanishing-gradients', {
    numbers: { steps: ['count', 1000], hidden: ['count', 32], batch: ['count', 64], 'keep-bias': ['number', 3], lr: ['positive', 0.003], seed: ['number', 1] },
    strings: { lags: '10,50,100', kinds: CELL_KIND_NAMES.join(','), svg: 'vanishing-gradients.svg' },
  });
  const usage = (msg: string): never => {
    console.error(`vanishing-gradients: ${msg}`);
    process.exit(2);
  };
  const lags = values.lags.split(',').map(Number);
  if (!lags.every((l) => Number.isInteger(l) && l >= 1)) usage(`--lags must be whole numbers of at least 1 separated by commas, got '${values.lags}'`);
  const kinds = values.kinds.split(',').map((k) => (isCellKind(k) ? k : usage(`--kinds: '${k}' is not a cell kind (${CELL_KIND_NAMES.join(', ')})`)));
  const svgPath = prepareOutput(values.svg, '--svg');
  const o = { lags, steps: values.steps, hidden: values.hidden, batch: values.batch, keepBias: values['keep-bias'], lr: values.lr, seed: values.seed };
  const res = vanishingGradients({ ...o, kinds, log: console.log });
  report(res, o);
  writeFileAtomic(svgPath, new TextEncoder().encode(gradientChart(res)));
  console.log(`\nwrote the plot to '${values.svg}'`);
}
