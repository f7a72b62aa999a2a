/**
 * Forecaster: a recurrent model for one numeric series. At every step it
 * reads a value and predicts the next `horizon` values (sequence-to-sequence
 * training, as Hands-On ML does), so one model gives one-step and
 * multi-step forecasts; `rollout` instead feeds its own one-step predictions
 * back in. Values are standardised with the training series' mean and
 * standard deviation, which the config records (so a checkpoint predicts in
 * the original units). No Node imports.
 */
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { globalRng, Rng } from '../random/rng.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { GRU, LSTM, RNN, type RecurrentBase, type RecurrentState } from '../nn/rnn/layers.js';
import { mseLoss } from '../ops/loss.js';
import { narrow } from '../ops/shape.js';
import { Adam } from '../optim/optimizers.js';
import { clipGradNorm } from '../optim/clip.js';
import { SequenceDataset } from '../data/sequences.js';
import type { CellType } from './charlm.js';

export interface ForecasterConfig {
  /** Values predicted at each step. */
  horizon: number;
  model: CellType;
  layers: number;
  hidden: number;
  /** Standardisation: inputs are (v - mean) / std. */
  mean: number;
  std: number;
}

export class Forecaster extends Module {
  readonly config: ForecasterConfig;
  rnn: RecurrentBase;
  head: Linear;

  constructor(config: ForecasterConfig, opts: { rng?: Rng } = {}) {
    super();
    const c = { ...config };
    for (const k of ['horizon', 'layers', 'hidden'] as const) {
      if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new Error(`Forecaster: ${k} must be a whole number of at least 1, got ${c[k]}`);
    }
    if (!['lstm', 'gru', 'rnn'].includes(c.model)) throw new Error(`Forecaster: model must be lstm, gru or rnn, got '${c.model}'`);
    if (!(Number.isFinite(c.mean) && c.std > 0 && Number.isFinite(c.std))) throw new Error(`Forecaster: mean must be finite and std positive, got ${c.mean} and ${c.std}`);
    this.config = c;
    const rng = opts.rng ?? globalRng;
    const o = { inputSize: 1, hiddenSize: c.hidden, numLayers: c.layers, rng };
    this.rnn = c.model === 'lstm' ? new LSTM(o) : c.model === 'gru' ? new GRU(o) : new RNN(o);
    this.head = new Linear(c.hidden, c.horizon, { rng });
  }

  /** Standardised predictions [B, T, horizon] for standardised inputs [B, T, 1], and the final state. */
  forward(x: Tensor, state?: RecurrentState): { y: Tensor; state: RecurrentState } {
    const { output, state: next } = this.rnn.forward(x, { state });
    return { y: this.head.forward(output), state: next };
  }

  private scaled(windows: readonly ArrayLike<number>[]): Tensor {
    const T = windows[0].length;
    const { mean, std } = this.config;
    const x = new Float32Array(windows.length * T);
    windows.forEach((w, b) => {
      if (w.length !== T) throw new Error(`Forecaster: every history must have the same length (${T}), got ${w.length}`);
      for (let t = 0; t < T; t++) x[b * T + t] = (w[t] - mean) / std;
    });
    return tensor(x, [windows.length, T, 1], { backend: this.head.weight.backend });
  }

  /**
   * For each history, the next `horizon` values predicted at its last step
   * (the sequence-to-sequence forecast), in original units.
   */
  predict(histories: readonly ArrayLike<number>[]): Float32Array[] {
    const { horizon: H, mean, std } = this.config;
    return this.inference(() => {
      const T = histories[0].length;
      const y = this.forward(this.scaled(histories)).y.data;
      return histories.map((_, b) => Float32Array.from(y.subarray((b * T + T - 1) * H, (b * T + T) * H), (v) => v * std + mean));
    });
  }

  /** `steps` values ahead by feeding each one-step prediction back in as the next input. */
  rollout(histories: readonly ArrayLike<number>[], steps: number): Float32Array[] {
    if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`Forecaster.rollout: steps must be a whole number of at least 1, got ${steps}`);
    const { mean, std } = this.config;
    const B = histories.length;
    return this.inference(() => {
      const T = histories[0].length;
      let { y, state } = this.forward(this.scaled(histories));
      let last = narrow(narrow(y, 1, T - 1, 1), 2, 0, 1); // [B, 1, 1]
      const out = histories.map(() => new Float32Array(steps));
      for (let s = 0; s < steps; s++) {
        const v = last.data;
        for (let b = 0; b < B; b++) out[b][s] = v[b] * std + mean;
        if (s === steps - 1) break;
        ({ y, state } = this.forward(last, state));
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

/** Mean and standard deviation (population) of a series. */
export function seriesStats(values: ArrayLike<number>): { mean: number; std: number } {
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

export interface ForecasterTrainOptions {
  /** Optimisation steps (batches). */
  steps: number;
  batch?: number;
  lr?: number;
  /** The learning rate falls by this factor over the run (default 0.1), exponentially. */
  lrFinal?: number;
  clip?: number;
  /** Steps at the start of each window left out of the loss (too little context yet). Default: a third of the input steps. */
  warmup?: number;
  rng?: Rng;
  onStep?: (step: number, loss: number) => void;
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
  const warmup = o.warmup ?? Math.floor(T / 3);
  if (!(Number.isInteger(warmup) && warmup >= 0 && warmup < T)) throw new Error(`trainForecaster: warmup must be a whole number below the ${T} input steps, got ${warmup}`);
  const params = model.parameters();
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
      const x = new Float32Array(B * T), y = new Float32Array(B * T * H);
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
        const pred = model.forward(tensor(x, [B, T, 1], { backend })).y;
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
