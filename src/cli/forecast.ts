/**
 * `recur forecast <file.csv> --column NAME --horizon N`: train a Forecaster
 * on one numeric column, backtest it on the column's last N values against
 * the naive and linear baselines, then forecast N values past the end and
 * write them as CSV, with an SVG plot of history, fit and forecast.
 */
import { decodeText } from '../data/text.js';
import { Rng } from '../random/rng.js';
import { Forecaster, seriesStats, slidingWindows, trainForecaster } from '../models/forecaster.js';
import { LinearAR, meanSquaredError, naiveForecast } from '../models/baselines.js';
import type { CellType } from '../models/charlm.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';
import { resolve } from 'node:path';
import { prepareOutput, readBytes, writeFileAtomic } from './files.js';
import { stdout } from './output.js';
import { readCsvColumn } from './csv.js';
import { lineChart } from './svg.js';
import { UserError } from './errors.js';

export interface ForecastFlags {
  column?: string;
  sep?: string;
  horizon: number;
  window?: number;
  ar?: number;
  model: CellType;
  layers: number;
  hidden: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  out: string;
  plot: string;
  quiet?: boolean;
}

export function forecastCommand(file: string, f: ForecastFlags): void {
  // both outputs are checked before training: never the CSV itself, never each other
  const out = prepareOutput(f.out, '--out', [{ path: file, what: 'CSV file' }]);
  const plot = prepareOutput(f.plot, '--plot', [{ path: file, what: 'CSV file' }]);
  if (resolve(out) === resolve(plot)) throw new UserError(`--out and --plot are both '${f.out}'; give them different names`, 2);
  const bytes = readBytes(file, 'CSV file');
  let text: string;
  try {
    text = decodeText(bytes, `'${file}'`);
  } catch (e) {
    throw new UserError((e as Error).message.replace('give a text file with some characters in it', 'give a CSV file with a header row and numbers under it'));
  }
  const { name, values } = readCsvColumn(text, file, f.column, f.sep);
  const H = f.horizon;
  const W = f.window ?? Math.max(20, 2 * H);
  const N = values.length;
  const need = W + 2 * H + 1;
  if (N < need) {
    throw new UserError(
      `column '${name}' of '${file}' has ${N} values; a forecast of ${H} with a window of ${W} needs at least ${need} (use a smaller --horizon or --window)`,
    );
  }
  const ar = f.ar ?? W;
  if (ar > W) throw new UserError(`--ar ${ar} is more than the window of ${W} values the model reads; give at most ${W}`);
  const say = (s: string): void => {
    if (!f.quiet) stdout.write(s + '\n');
  };
  const rng = new Rng(f.seed);
  // train on everything but the last H values, which are kept for the backtest
  const train = values.subarray(0, N - H);
  if (train.every((v) => v === train[0])) throw new UserError(`column '${name}' of '${file}' is constant; there is nothing to learn`);
  const stats = seriesStats(train);
  const windows = slidingWindows(train, W + H);
  const model = new Forecaster({ horizon: H, model: f.model, layers: f.layers, hidden: f.hidden, ar, ...stats }, { rng });
  say(
    `recur: forecasting '${name}' from '${file}' (${N} values): a ${f.layers}x${f.hidden} ${CELL_KINDS[f.model].name}${ar > 0 ? ` (+ linear path over ${ar} lags)` : ''} reads ${W} values and predicts the next ${H}; ${windows.length} training windows, ${f.steps} steps`,
  );
  const t0 = performance.now();
  const loss = trainForecaster(model, windows, {
    steps: f.steps,
    batch: f.batch,
    lr: f.lr,
    rng,
    onStep: (s, l) => {
      if (s % Math.max(1, Math.floor(f.steps / 5)) === 0) say(`step ${s}: loss ${l.toFixed(4)} (standardised)`);
    },
  });
  if (!Number.isFinite(loss)) throw new UserError(`training failed: the loss became ${loss}; try a smaller --lr`);
  // backtest: the last H values, from the W before them
  const actual = values.subarray(N - H);
  const context = values.subarray(N - H - W, N - H);
  const modelMse = meanSquaredError(model.predict([context]), [actual]);
  const naiveMse = meanSquaredError([naiveForecast(context, H)], [actual]);
  const linear = LinearAR.fit(windows, W, H);
  const linearMse = meanSquaredError([linear.predict(context)], [actual]);
  say(
    `backtest on the last ${H} values: MSE model ${modelMse.toPrecision(4)}, naive (last value) ${naiveMse.toPrecision(4)}, linear fit ${linearMse.toPrecision(4)}`,
  );

  const forecast = model.predict([values.subarray(N - W)])[0];
  // the in-sample fit: the one-step prediction from each window of W values
  const fitFrom = slidingWindows(values.subarray(0, N - 1), W);
  const fit: number[] = [];
  for (let i = 0; i < fitFrom.length; i += 1024) fit.push(...model.predict(fitFrom.slice(i, i + 1024)).map((p) => p[0]));
  const rows = ['index,' + (name.includes(',') ? `"${name.replace(/"/g, '""')} forecast"` : `${name}_forecast`)];
  forecast.forEach((v, i) => rows.push(`${N + i},${v}`));
  writeFileAtomic(out, new TextEncoder().encode(rows.join('\n') + '\n'));
  const svg = lineChart(
    [
      { label: 'history', x: Array.from(values, (_, i) => i), y: values, color: '#1f77b4' },
      { label: 'fit (one step ahead)', x: fit.map((_, i) => W + i), y: fit, color: '#ff7f0e', dashed: true },
      { label: `forecast (${H})`, x: Array.from(forecast, (_, i) => N - 1 + i + 1), y: forecast, color: '#d62728' },
    ],
    { title: `${name}: history, fit and forecast`, splitX: N - 0.5 },
  );
  writeFileAtomic(plot, new TextEncoder().encode(svg));
  stdout.write(`recur: trained in ${((performance.now() - t0) / 1000).toFixed(1)} s; wrote the ${H}-step forecast to '${f.out}' and the plot to '${f.plot}'\n`);
}
