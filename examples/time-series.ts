/**
 * Time-series forecasting on Hands-On ML's series, t·sin(t)/3 + 2·sin(5t)
 * sampled every 0.1 over t in [0, 30], with Gaussian noise (σ 0.1): from 20
 * observed values, forecast the next one and the next ten. A 2x64 GRU is
 * trained sequence-to-sequence: at every step it predicts the next 10
 * values, added to a linear autoregressive highway over the last 20 inputs
 * (set to the least-squares fit and kept fixed, so the GRU learns only what
 * a linear fit misses). Its first output is the one-step forecast; the 10-step forecast
 * is made both directly (the 10 outputs at the last step) and by feeding the
 * one-step prediction back in as the next input. Scored on held-out windows
 * against the naive forecast (the last value) and a linear fit (least-squares
 * autoregression on the same 20 values).
 *
 *   npx tsx examples/time-series.ts [--steps 8000] [--hidden 64] [--layers 2] [--batch 64] [--ar 20] [--seed 1]
 *   npx tsx examples/time-series.ts --csv data/series.csv   # writes the series (t = 0, 0.1, ..., 29.9) for `recur forecast`
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Forecaster, LinearAR, Rng, meanSquaredError, naiveForecast, seriesStats, trainForecaster } from '../src/index.js';
import { exampleArgs } from './example-args.js';

export const series = (t: number): number => (t * Math.sin(t)) / 3 + 2 * Math.sin(5 * t);
const INPUT = 20,
  HORIZON = 10,
  RES = 0.1,
  NOISE = 0.1;

/** Windows of `length` noisy values starting at random times in [0, 30 - length · 0.1]. */
export function seriesWindows(n: number, rng: Rng, length = INPUT + HORIZON): Float32Array[] {
  return Array.from({ length: n }, () => {
    const t0 = rng.uniform(0, 30 - length * RES);
    return Float32Array.from({ length }, (_, k) => series(t0 + k * RES) + NOISE * rng.normal());
  });
}

export interface ForecastFigures {
  oneStep: { model: number; naive: number; linear: number };
  tenStep: { seq2seq: number; fedBack: number; naive: number; linear: number };
  noiseFloor: number;
  seconds: number;
}

export interface TimeSeriesOptions {
  steps?: number;
  hidden?: number;
  layers?: number;
  batch?: number;
  lr?: number;
  trainWindows?: number;
  testWindows?: number;
  seed?: number;
  /** Lags of the model's autoregressive highway (0: a plain GRU). */
  ar?: number;
  log?: (s: string) => void;
}

export function timeSeries(o: TimeSeriesOptions = {}): ForecastFigures {
  const { steps = 8000, hidden = 64, layers = 2, batch = 64, lr = 3e-3, trainWindows = 50000, testWindows = 1000, seed = 1, ar = INPUT } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  // training windows are longer than the 20 values a forecast gets, so that the model is also scored
  // after more than 20 steps: feeding predictions back runs it up to 29 steps
  const train = seriesWindows(trainWindows, rng, 2 * INPUT + HORIZON);
  const test = seriesWindows(testWindows, new Rng(seed + 1000));
  const stats = seriesStats(Float32Array.from(train.flatMap((w) => Array.from(w))));
  const histories = test.map((w) => w.subarray(0, INPUT));
  const next1 = test.map((w) => w.subarray(INPUT, INPUT + 1));
  const next10 = test.map((w) => w.subarray(INPUT, INPUT + HORIZON));
  const t0 = performance.now();

  // one model: at every step it predicts the next 10 values; its first output is the one-step forecast
  const model = new Forecaster({ horizon: HORIZON, model: 'gru', layers, hidden, ar, ...stats }, { rng });
  trainForecaster(model, train, {
    steps,
    batch,
    lr,
    warmup: Math.max(10, ar - 1),
    rng,
    onStep: (s, l) => {
      if (s % 1000 === 0) log(`step ${s}: loss ${l.toFixed(4)} (standardised)`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;

  const seq2seq = model.predict(histories);
  const linear1 = LinearAR.fit(train, INPUT, 1);
  const linear10 = LinearAR.fit(train, INPUT, HORIZON);
  return {
    oneStep: {
      model: meanSquaredError(
        seq2seq.map((p) => p.subarray(0, 1)),
        next1,
      ),
      naive: meanSquaredError(
        histories.map((h) => naiveForecast(h, 1)),
        next1,
      ),
      linear: meanSquaredError(
        histories.map((h) => linear1.predict(h)),
        next1,
      ),
    },
    tenStep: {
      seq2seq: meanSquaredError(seq2seq, next10),
      fedBack: meanSquaredError(model.rollout(histories, HORIZON), next10),
      naive: meanSquaredError(
        histories.map((h) => naiveForecast(h, HORIZON)),
        next10,
      ),
      linear: meanSquaredError(
        histories.map((h) => linear10.predict(h)),
        next10,
      ),
    },
    noiseFloor: NOISE * NOISE,
    seconds,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('time-series', {
    numbers: { steps: ['count', 8000], hidden: ['count', 64], layers: ['count', 2], batch: ['count', 64], seed: ['number', 1], ar: ['count', INPUT] },
    strings: { csv: '' },
  });
  if (values.csv) {
    const rng = new Rng(values.seed);
    const rows = ['t,value', ...Array.from({ length: 300 }, (_, i) => `${(i * RES).toFixed(1)},${(series(i * RES) + NOISE * rng.normal()).toFixed(4)}`)];
    writeFileSync(values.csv, rows.join('\n') + '\n');
    console.log(`wrote ${rows.length - 1} values of the series to '${values.csv}'`);
    process.exit(0);
  }
  const f = timeSeries({
    steps: values.steps,
    hidden: values.hidden,
    layers: values.layers,
    batch: values.batch,
    seed: values.seed,
    ar: values.ar,
    log: console.log,
  });
  const p = (v: number): string => v.toFixed(4);
  console.log(`held-out MSE (1,000 windows; the noise alone gives ${p(f.noiseFloor)}), ${f.seconds.toFixed(0)} s of training:`);
  console.log(
    `  1 step ahead:   GRU ${p(f.oneStep.model)}   naive ${p(f.oneStep.naive)}   linear ${p(f.oneStep.linear)}   (GRU/linear ${(f.oneStep.model / f.oneStep.linear).toFixed(2)})`,
  );
  console.log(
    `  10 steps ahead: GRU seq2seq ${p(f.tenStep.seq2seq)}   GRU fed back ${p(f.tenStep.fedBack)}   naive ${p(f.tenStep.naive)}   linear ${p(f.tenStep.linear)}   (seq2seq/linear ${(f.tenStep.seq2seq / f.tenStep.linear).toFixed(2)}, fed back/linear ${(f.tenStep.fedBack / f.tenStep.linear).toFixed(2)})`,
  );
}
