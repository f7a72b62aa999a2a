/**
 * Hands-On Machine Learning (Géron, 1st edition), chapter 14, "Training to
 * Predict Time Series" and "Creative RNN", at the book's settings: the series
 * t·sin(t)/3 + 2·sin(5t) over t in [0, 30] at resolution 0.1, no noise;
 * windows of 20 values in, the same 20 shifted one step ahead out; a basic
 * RNN of 100 ReLU units; 1,500 iterations of Adam (learning rate 0.001) on
 * batches of 50 random windows; the MSE of the batch just trained on printed
 * every 100 iterations. Two ways to turn 100 units into 1 output at each
 * step, as in the book: a dense layer applied at each step inside the loop
 * (TensorFlow's OutputProjectionWrapper; book: MSE 0.0418 at iteration
 * 1,400) and one dense layer on all steps' outputs stacked into a matrix
 * (book: 0.0431). They are the same model, computed two ways.
 *
 * Then the book's creative RNN: seed the stacked model with 20 values and
 * generate 280 more by feeding each prediction back in, once from 20 zeros
 * and once from 20 values of the series, plotted as SVG.
 *
 *   npx tsx examples/handson-series.ts [--iterations 1500] [--batch 50] [--hidden 100] [--seed 1] [--svg handson-series.svg]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { Adam, Linear, RNN, Rng, type Tensor } from '../src/index.js';
import { prepareOutput, writeFileAtomic } from '../src/cli/files.js';
import { lineChart } from '../src/cli/svg.js';
import { series } from './time-series.js';
import { exampleArgs } from './example-args.js';

const T_MAX = 30,
  RES = 0.1,
  STEPS = 20;

/** The notebook's printed MSEs at iterations 0, 100, ..., 1400. */
export const BOOK_MSE = {
  wrapper: [
    11.967254, 0.525841, 0.1495599, 0.07279411, 0.06158535, 0.05938873, 0.05470166, 0.047849063, 0.05107608, 0.047209196, 0.047058314, 0.047831465, 0.04083041,
    0.047086805, 0.041784383,
  ],
  stacked: [
    13.907029, 0.5056698, 0.19735886, 0.101214476, 0.06850145, 0.06291986, 0.055129297, 0.049436502, 0.050434686, 0.0482007, 0.04809868, 0.04982501,
    0.041912545, 0.049292978, 0.043140374,
  ],
};

/** The book's next_batch: windows of 21 values starting anywhere in [0, 30 - 20 · 0.1); inputs the first 20, targets the last 20. */
export function nextBatch(n: number, rng: Rng): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * STEPS),
    y = new Float32Array(n * STEPS);
  for (let i = 0; i < n; i++) {
    const t0 = rng.uniform(0, T_MAX - STEPS * RES);
    for (let k = 0; k < STEPS; k++) {
      x[i * STEPS + k] = series(t0 + k * RES);
      y[i * STEPS + k] = series(t0 + (k + 1) * RES);
    }
  }
  return { x, y };
}

export type Projection = 'wrapper' | 'stacked';

export interface SeriesModel {
  rnn: RNN;
  out: Linear;
}

export function seriesModel(hidden: number, rng: Rng): SeriesModel {
  return { rnn: new RNN({ inputSize: 1, hiddenSize: hidden, nonlinearity: 'relu', rng }), out: new Linear(hidden, 1, { rng }) };
}

/** [B, 20, 1] in, the prediction of the next value at every step [B, 20, 1] out. */
export function predict(m: SeriesModel, x: Tensor, projection: Projection): Tensor {
  const { output } = m.rnn.forward(x);
  const [B, T, H] = output.shape;
  if (projection === 'wrapper') {
    // what OutputProjectionWrapper does: the dense layer runs once per step, on that step's output
    const perStep = Array.from({ length: T }, (_, t) => m.out.forward(r.squeeze(r.narrow(output, 1, t, 1), 1)));
    return r.stack(perStep, 1);
  }
  // the book's faster form: one matrix product for every step of every window
  return m.out.forward(output.reshape([B * T, H])).reshape([B, T, 1]);
}

export interface SeriesRun {
  model: SeriesModel;
  /** MSE of the batch just trained on, at iterations 0, 100, ... (as the book prints it). */
  printed: { iteration: number; mse: number }[];
  /** MSE over 1,000 fresh windows after training. */
  heldOut: number;
  seconds: number;
}

export interface SeriesOptions {
  iterations?: number;
  batch?: number;
  hidden?: number;
  lr?: number;
  seed?: number;
  log?: (s: string) => void;
}

const mseOf = (m: SeriesModel, b: { x: Float32Array; y: Float32Array }, projection: Projection): number =>
  r.noGrad(() =>
    r.tidy(() => r.mseLoss(predict(m, r.tensor(b.x, [b.x.length / STEPS, STEPS, 1]), projection), r.tensor(b.y, [b.y.length / STEPS, STEPS, 1])).item()),
  );

export function trainSeries(projection: Projection, o: SeriesOptions = {}): SeriesRun {
  const { iterations = 1500, batch = 50, hidden = 100, lr = 0.001, seed = 1 } = o;
  const log = o.log ?? (() => {});
  const rng = new Rng(seed);
  const model = seriesModel(hidden, rng);
  const opt = new Adam([...model.rnn.parameters(), ...model.out.parameters()], { lr });
  const printed: SeriesRun['printed'] = [];
  const t0 = performance.now();
  for (let iteration = 0; iteration < iterations; iteration++) {
    const b = nextBatch(batch, rng);
    r.tidy(() => {
      const loss = r.mseLoss(predict(model, r.tensor(b.x, [batch, STEPS, 1]), projection), r.tensor(b.y, [batch, STEPS, 1]));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
    if (iteration % 100 === 0) {
      // the book evaluates the batch again after the step
      printed.push({ iteration, mse: mseOf(model, b, projection) });
      log(`${projection} ${iteration}\tMSE: ${printed[printed.length - 1].mse.toFixed(6)}`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { model, printed, heldOut: mseOf(model, nextBatch(1000, new Rng(seed + 1000)), projection), seconds };
}

/** The book's creative RNN: the last 20 values in, the prediction at the last step appended, `count` times. */
export function generate(m: SeriesModel, seed: readonly number[], count: number, projection: Projection = 'stacked'): number[] {
  const seq = [...seed];
  r.noGrad(() => {
    for (let i = 0; i < count; i++) {
      r.tidy(() => {
        const y = predict(m, r.tensor(seq.slice(-STEPS), [1, STEPS, 1]), projection).data;
        seq.push(y[STEPS - 1]);
      });
    }
  });
  return seq;
}

export interface Creative {
  /** Where the series seed starts. */
  seriesStart: number;
  fromZeros: number[];
  fromSeries: number[];
}

/**
 * 300 values like the book's plot: 20 seed values and 280 generated. The
 * series seed starts at t = 10, (t_max - t_min) / 3, which the book's code
 * meant (it writes t_max - t_min/3, that is t = 30, the end of the range).
 */
export function creative(m: SeriesModel): Creative {
  const seriesStart = T_MAX / 3;
  const total = T_MAX / RES;
  const seed = Array.from({ length: STEPS }, (_, i) => series(seriesStart + i * RES));
  return {
    seriesStart,
    fromZeros: generate(m, new Array(STEPS).fill(0), total - STEPS),
    fromSeries: generate(m, seed, total - STEPS),
  };
}

export function creativeChart(c: Creative): string {
  const t = c.fromZeros.map((_, i) => i * RES);
  return lineChart(
    [
      { label: 'from 20 zeros', x: t, y: c.fromZeros, color: '#1f77b4' },
      { label: `from 20 values of the series (t = ${c.seriesStart} on)`, x: t, y: c.fromSeries, color: '#d62728' },
      { label: 'the series itself from there', x: t, y: t.map((s) => series(c.seriesStart + s)), color: '#999', dashed: true },
    ],
    {
      title: "Hands-On ML's creative RNN: 20 seed values (left of the marker), then 280 predictions fed back",
      splitX: (STEPS - 1) * RES,
      xLabel: 'time since the first seed value',
      yLabel: 'value',
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('handson-series', {
    numbers: { iterations: ['count', 1500], batch: ['count', 50], hidden: ['count', 100], seed: ['number', 1] },
    strings: { svg: 'handson-series.svg' },
  });
  const svgPath = prepareOutput(values.svg, '--svg');
  const o = { iterations: values.iterations, batch: values.batch, hidden: values.hidden, seed: values.seed };
  const runs = { wrapper: trainSeries('wrapper', o), stacked: trainSeries('stacked', o) };
  console.log(`t·sin(t)/3 + 2·sin(5t), windows of ${STEPS}, basic RNN of ${o.hidden} ReLU units, batch ${o.batch}, Adam 0.001`);
  console.log('MSE of the batch just trained on (what the book prints):');
  console.log('iteration   wrapper     stacked     | book wrapper  book stacked');
  runs.wrapper.printed.forEach(({ iteration, mse }, i) => {
    const book = (k: Projection): string => (BOOK_MSE[k][i] === undefined ? '' : BOOK_MSE[k][i].toFixed(6)).padEnd(14);
    console.log(
      `${String(iteration).padEnd(12)}${mse.toFixed(6).padEnd(12)}${runs.stacked.printed[i].mse.toFixed(6).padEnd(12)}| ${book('wrapper')}${book('stacked')}`,
    );
  });
  for (const k of ['wrapper', 'stacked'] as const) {
    console.log(`${k}: MSE over 1,000 fresh windows ${runs[k].heldOut.toFixed(4)}, ${runs[k].seconds.toFixed(1)} s of training`);
  }
  const c = creative(runs.stacked.model);
  const ahead = c.fromSeries.slice(STEPS, STEPS + 10);
  const truth = ahead.map((_, i) => series(c.seriesStart + (STEPS + i) * RES));
  const mse10 = ahead.reduce((s, v, i) => s + (v - truth[i]) ** 2, 0) / ahead.length;
  console.log(
    `creative RNN (stacked model): 280 values from each seed; from the series, the first 10 fed-back predictions have MSE ${mse10.toFixed(4)} against the series; ` +
      `from zeros the values span [${Math.min(...c.fromZeros).toFixed(2)}, ${Math.max(...c.fromZeros).toFixed(2)}]`,
  );
  writeFileAtomic(svgPath, new TextEncoder().encode(creativeChart(c)));
  console.log(`wrote the plot to '${values.svg}'`);
}
