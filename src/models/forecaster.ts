/**
 * Forecaster: a recurrent model for one numeric series. At every step it
 * reads a value and predicts the next `horizon` values (sequence-to-sequence
 * training, as Hands-On ML does), so one model gives one-step and
 * multi-step forecasts; `rollout` instead feeds its own one-step predictions
 * back in. Values are standardised with the training series' mean and
 * standard deviation, which the config records (so a checkpoint predicts in
 * the original units). No Node imports.
 *
 * With `ar > 0` the prediction also has an autoregressive highway (as in
 * LSTNet): a linear map of the last `ar` inputs added to the recurrent head.
 * Series that are nearly linear recurrences (sums of sinusoids, trends) are
 * then predicted by the linear part from the first steps of training, and the
 * recurrent part learns only what a linear fit cannot see; without it a GRU
 * spends most of its capacity re-deriving the linear predictor and ends up
 * no better than a least-squares fit.
 */
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { globalRng, Rng } from '../random/rng.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { recurrentLayerOf, type RecurrentBase, type RecurrentState } from '../nn/rnn/layers.js';
import { cellKindChoices, isCellKind } from '../nn/rnn/kinds.js';
import { mseLoss } from '../ops/loss.js';
import { add } from '../ops/arith.js';
import { narrow } from '../ops/shape.js';
import { Adam } from '../optim/optimizers.js';
import { clipGradNorm } from '../optim/clip.js';
import { SequenceDataset } from '../data/sequences.js';
import type { CellType } from './charlm.js';
import { LinearAR } from './baselines.js';

/** A `Forecaster`'s description: its shape and the standardisation of its series. */
export interface ForecasterConfig {
  /** Values predicted at each step. */
  horizon: number;
  /** The recurrent cell: 'lstm', 'gru' or 'rnn'. */
  model: CellType;
  /** Recurrent layers stacked. */
  layers: number;
  /** Hidden size of each layer. */
  hidden: number;
  /** Standardisation: inputs are (v - mean) / std. */
  mean: number;
  /** The standard deviation that inputs are divided by (from `seriesStats` of the training series). */
  std: number;
  /** Lags of the autoregressive highway (0 or absent: none). */
  ar?: number;
}

/**
 * A recurrent model that forecasts one numeric series (`recur forecast`):
 * from the values so far, the next `horizon` values at once, or any number
 * by feeding its own predictions back (`rollout`).
 *
 * @example
 * ```ts
 * const series = Array.from({ length: 400 }, (_, i) => Math.sin(i / 8));
 * const model = new Forecaster({ horizon: 4, model: 'gru', layers: 1, hidden: 16, ...seriesStats(series), ar: 8 });
 * trainForecaster(model, slidingWindows(series, 40), { steps: 200 });
 * model.predict([series.slice(-36)]); // the next 4 values
 * ```
 */
export class Forecaster extends Module {
  /** The config with `ar` settled (0 when it was left out). */
  readonly config: Required<ForecasterConfig>;
  /** The recurrent stack, reading one standardised value per step. */
  rnn: RecurrentBase;
  /** The output layer: hidden state to `horizon` standardised values. */
  head: Linear;
  /** The autoregressive highway over the last `config.ar` inputs, or null. */
  arHead: Linear | null;

  /** A freshly initialised model; `rng` draws the initial weights (default the global generator). */
  constructor(config: ForecasterConfig, opts: { rng?: Rng } = {}) {
    super();
    const c = { ...config, ar: config.ar ?? 0 };
    for (const k of ['horizon', 'layers', 'hidden'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new Error(`Forecaster: ${k} must be a whole number of at least 1, got ${c[k]}`);
    }
    if (!isCellKind(c.model)) throw new Error(`Forecaster: model must be ${cellKindChoices()}, got '${c.model}'`);
    if (!(Number.isFinite(c.mean) && c.std > 0 && Number.isFinite(c.std)))
      throw new Error(`Forecaster: mean must be finite and std positive, got ${c.mean} and ${c.std}`);
    if (!(Number.isInteger(c.ar) && c.ar >= 0)) throw new Error(`Forecaster: ar must be a whole number (0: no autoregressive highway), got ${c.ar}`);
    this.config = c;
    const rng = opts.rng ?? globalRng;
    const o = { inputSize: 1, hiddenSize: c.hidden, numLayers: c.layers, rng };
    this.rnn = recurrentLayerOf(c.model, o);
    this.head = new Linear(c.hidden, c.horizon, { rng });
    this.arHead = c.ar > 0 ? new Linear(c.ar, c.horizon, { rng }) : null;
    if (this.arHead) {
      // trainForecaster sets the highway to the least-squares fit; the recurrent head starts small, so
      // training starts near the linear forecast and the recurrent part adds what improves on it
      for (const t of [this.arHead.weight, this.arHead.bias!, this.head.bias!]) t.data.fill(0);
      const w = this.head.weight.data;
      for (let i = 0; i < w.length; i++) w[i] *= 0.1;
    }
  }

  /**
   * Standardised predictions [B, T, horizon] for standardised inputs
   * [B, T, 1], and the final state. With an autoregressive highway, `lags`
   * [B, T, ar] holds at each step the last `ar` inputs, newest first (see
   * `lagWindows`).
   */
  forward(
    x: Tensor,
    state?: RecurrentState,
    lags?: Tensor,
  ): {
    /** Standardised predictions [B, T, horizon]. */
    y: Tensor;
    /** The state after the last step. */
    state: RecurrentState;
  } {
    const { output, state: next } = this.rnn.forward(x, { state });
    let y = this.head.forward(output);
    if (this.arHead) {
      if (!lags) throw new Error('Forecaster.forward: this model has an autoregressive highway; pass the lags (lagWindows)');
      y = add(y, this.arHead.forward(lags));
    }
    return { y, state: next };
  }

  /** Standardised histories [B, T] as a flat array. */
  private standardise(windows: readonly ArrayLike<number>[]): { x: Float32Array; T: number } {
    const T = windows[0].length;
    const { mean, std } = this.config;
    const x = new Float32Array(windows.length * T);
    windows.forEach((w, b) => {
      if (w.length !== T) throw new Error(`Forecaster: every history must have the same length (${T}), got ${w.length}`);
      for (let t = 0; t < T; t++) x[b * T + t] = (w[t] - mean) / std;
    });
    return { x, T };
  }

  /** The model's inputs for standardised histories: values [B, T, 1] and, with a highway, their lags [B, T, ar]. */
  inputs(
    x: Float32Array,
    B: number,
    T: number,
  ): {
    /** The values [B, T, 1]. */
    x: Tensor;
    /** Each step's last `ar` values [B, T, ar], newest first (without a highway: absent). */
    lags?: Tensor;
  } {
    const backend = this.head.weight.backend;
    const ar = this.config.ar;
    return {
      x: tensor(x, [B, T, 1], { backend }),
      lags: ar > 0 ? tensor(lagWindows(x, B, T, ar), [B, T, ar], { backend }) : undefined,
    };
  }

  /**
   * For each history, the next `horizon` values predicted at its last step
   * (the sequence-to-sequence forecast), in original units.
   */
  predict(histories: readonly ArrayLike<number>[]): Float32Array[] {
    const { horizon: H, mean, std } = this.config;
    return this.inference(() => {
      const { x, T } = this.standardise(histories);
      const inp = this.inputs(x, histories.length, T);
      const y = this.forward(inp.x, undefined, inp.lags).y.data;
      return histories.map((_, b) => Float32Array.from(y.subarray((b * T + T - 1) * H, (b * T + T) * H), (v) => v * std + mean));
    });
  }

  /** `steps` values ahead by feeding each one-step prediction back in as the next input. */
  rollout(histories: readonly ArrayLike<number>[], steps: number): Float32Array[] {
    if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`Forecaster.rollout: steps must be a whole number of at least 1, got ${steps}`);
    const { mean, std } = this.config;
    const ar = this.config.ar;
    const B = histories.length;
    return this.inference(() => {
      const { x, T } = this.standardise(histories);
      const inp = this.inputs(x, B, T);
      let { y, state } = this.forward(inp.x, undefined, inp.lags);
      let last = narrow(narrow(y, 1, T - 1, 1), 2, 0, 1); // [B, 1, 1]
      // the highway's lags, newest first, shifted along as predictions are fed back
      const lags = new Float32Array(B * ar);
      const full = inp.lags?.data;
      if (full) for (let b = 0; b < B; b++) lags.set(full.subarray((b * T + T - 1) * ar, (b * T + T) * ar), b * ar);
      const out = histories.map(() => new Float32Array(steps));
      for (let s = 0; s < steps; s++) {
        const v = last.data;
        for (let b = 0; b < B; b++) out[b][s] = v[b] * std + mean;
        if (s === steps - 1) break;
        let lagT: Tensor | undefined;
        if (ar > 0) {
          for (let b = 0; b < B; b++) {
            lags.copyWithin(b * ar + 1, b * ar, b * ar + ar - 1);
            lags[b * ar] = v[b];
          }
          lagT = tensor(lags.slice(), [B, 1, ar], { backend: this.head.weight.backend });
        }
        ({ y, state } = this.forward(last, state, lagT));
        last = narrow(y, 2, 0, 1);
      }
      return out;
    });
  }

  private inference<T>(fn: () => T): T {
    const was = this.training;
    this.eval();
    try {
      return noGrad(() => tidy(fn));
    } finally {
      this.train(was);
    }
  }
}

/**
 * For standardised histories [B, T] (flat), at each step the last `ar`
 * values, newest first: out[b, t, j] = x[b, t - j], and before the start
 * the first value repeated (a flat start fits a linear map better than zeros).
 */
export function lagWindows(x: ArrayLike<number>, B: number, T: number, ar: number): Float32Array {
  const out = new Float32Array(B * T * ar);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < ar; j++) out[(b * T + t) * ar + j] = x[b * T + Math.max(0, t - j)];
    }
  }
  return out;
}

/** Mean and standard deviation (population) of a series: a `ForecasterConfig`'s standardisation. */
export function seriesStats(values: ArrayLike<number>): {
  /** The mean. */
  mean: number;
  /** The standard deviation (1 for a constant series, so dividing by it is safe). */
  std: number;
} {
  let m = 0;
  for (let i = 0; i < values.length; i++) m += values[i];
  m /= values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - m) ** 2;
  const std = Math.sqrt(v / values.length);
  return { mean: m, std: std > 0 ? std : 1 };
}

/** Every window of `length` consecutive values of a series (stride 1). */
export function slidingWindows(series: ArrayLike<number>, length: number): Float32Array[] {
  const n = series.length - length + 1;
  if (n < 1) throw new Error(`slidingWindows: the series has ${series.length} values, fewer than a window of ${length}`);
  return Array.from({ length: n }, (_, i) => Float32Array.from({ length }, (_v, t) => series[i + t]));
}

/** How `trainForecaster` trains. */
export interface ForecasterTrainOptions {
  /** Optimisation steps (batches). */
  steps: number;
  /** Windows per batch (default 32). */
  batch?: number;
  /** Adam's starting learning rate (default 3e-3). */
  lr?: number;
  /** The learning rate falls by this factor over the run (default 0.1), exponentially. */
  lrFinal?: number;
  /** Clip gradients to this global norm (default 1). */
  clip?: number;
  /** Steps at the start of each window left out of the loss (too little context yet). Default: a third of the input steps, and at least ar - 1. */
  warmup?: number;
  /** Set the autoregressive highway (if any) to the least-squares fit to the training windows and keep it fixed (default true); false trains it with the rest. */
  fitHighway?: boolean;
  /** The generator that shuffles the windows (default the global one). */
  rng?: Rng;
  /** Called after each step with its number (from 1) and loss. */
  onStep?: (step: number, loss: number) => void;
}

/**
 * Set the autoregressive highway to the least-squares fit (in standardised
 * units) of the next `horizon` values on the last `ar`, over every scored step
 * of the training windows (at most 200,000 of them: plenty for a few dozen
 * coefficients).
 */
function fitHighway(model: Forecaster, windows: readonly ArrayLike<number>[], T: number, from: number): void {
  const { horizon: H, mean, std } = model.config;
  const ar = model.config.ar;
  const perWindow = T - from;
  const every = Math.max(1, Math.ceil((windows.length * perWindow) / 200000));
  const rows: Float64Array[] = [];
  let k = 0;
  for (const w of windows) {
    const z = Float64Array.from(w, (v) => (v - mean) / std);
    for (let t = from; t < T; t++) if (k++ % every === 0) rows.push(z.subarray(t - ar + 1, t + 1 + H));
  }
  const fit = LinearAR.fit(rows, ar, H);
  const wt = model.arHead!.weight.data,
    bias = model.arHead!.bias!.data;
  for (let h = 0; h < H; h++) {
    for (let j = 0; j < ar; j++) wt[h * ar + j] = fit.weights[(ar - 1 - j) * H + h]; // LinearAR's lags are oldest first, ours newest first
    bias[h] = fit.weights[ar * H + h];
  }
}

/**
 * Train on windows of `input + horizon` values: the model reads the first
 * `input` values and is scored on predicting, at each step past the warm-up,
 * the `horizon` values after it (all inside the window). Returns the last loss.
 */
export function trainForecaster(model: Forecaster, windows: readonly ArrayLike<number>[], o: ForecasterTrainOptions): number {
  const { horizon: H, mean, std } = model.config;
  if (windows.length === 0) throw new Error('trainForecaster: no training windows');
  const W = windows[0].length;
  const T = W - H;
  if (T < 1) throw new Error(`trainForecaster: windows of ${W} values leave no input steps for a horizon of ${H}`);
  const { steps, batch = 32, lr = 3e-3, lrFinal = 0.1, clip = 1, rng = globalRng } = o;
  const ar = model.config.ar;
  const warmup = o.warmup ?? Math.max(Math.floor(T / 3), ar - 1);
  if (!(Number.isInteger(warmup) && warmup >= 0 && warmup < T))
    throw new Error(`trainForecaster: warmup must be a whole number below the ${T} input steps, got ${warmup}`);
  const fitted = model.arHead !== null && (o.fitHighway ?? true);
  if (fitted) fitHighway(model, windows, T, Math.max(warmup, ar - 1));
  // a fitted highway stays fixed: Adam's first steps move every weight by about lr whatever its
  // gradient, which would throw away the least-squares fit the recurrent part is meant to improve on
  const frozen = new Set(fitted ? model.arHead!.parameters() : []);
  const params = model.parameters().filter((p) => !frozen.has(p));
  const opt = new Adam(params, { lr });
  const ds = new SequenceDataset(windows);
  const mask = new Float32Array(batch * T);
  let loss = NaN;
  let step = 0;
  model.train();
  while (step < steps) {
    for (const b of ds.batches(batch, { shuffle: true, rng })) {
      if (step >= steps) break;
      opt.lr = lr * Math.pow(lrFinal, step / steps);
      const B = b.length;
      const x = new Float32Array(B * T),
        y = new Float32Array(B * T * H);
      b.forEach((w, i) => {
        if (w.length !== W) throw new Error(`trainForecaster: every window must have ${W} values, got ${w.length}`);
        for (let t = 0; t < T; t++) {
          x[i * T + t] = (w[t] - mean) / std;
          for (let h = 0; h < H; h++) y[(i * T + t) * H + h] = (w[t + 1 + h] - mean) / std;
        }
      });
      mask.fill(0);
      for (let i = 0; i < B; i++) mask.fill(1, i * T + warmup, (i + 1) * T);
      const backend = model.head.weight.backend;
      loss = tidy(() => {
        const inp = model.inputs(x, B, T);
        const pred = model.forward(inp.x, undefined, inp.lags).y;
        const l = mseLoss(pred, tensor(y, [B, T, H], { backend }), { mask: tensor(mask.subarray(0, B * T), [B, T, 1], { backend }) });
        opt.zeroGrad();
        l.backward();
        if (clip > 0) clipGradNorm(params, clip);
        opt.step();
        return l.item();
      });
      step++;
      o.onStep?.(step, loss);
    }
  }
  return loss;
}
