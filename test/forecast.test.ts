/** Forecasting pieces: windows, baselines, the Forecaster's predictions, CSV fields. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Forecaster, LinearAR, lagWindows, Rng, meanSquaredError, naiveForecast, seriesStats, slidingWindows, trainForecaster } from '../src/index.js';
import { splitCsvLine } from '../src/cli/csv.js';
import { assertClose } from './helpers.js';

describe('forecasting baselines', () => {
  it('LinearAR recovers a linear recurrence exactly: a sinusoid from its last two values', () => {
    const w = 0.3;
    const s = Array.from({ length: 200 }, (_, t) => Math.sin(w * t + 0.5));
    const ar = LinearAR.fit(slidingWindows(s, 2 + 3), 2, 3);
    assertClose(
      Array.from(ar.weights.subarray(0, 2 * 3)).filter((_, i) => i % 3 === 0),
      [-1, 2 * Math.cos(w)],
      1e-4,
    );
    const pred = ar.predict(s.slice(0, 150));
    assertClose(Array.from(pred), s.slice(150, 153), 1e-4);
  });
  it('naive repeats the last value; MSE; windows and stats', () => {
    assert.deepEqual(Array.from(naiveForecast([1, 2, 5], 3)), [5, 5, 5]);
    assert.equal(meanSquaredError([[1, 2], [3]], [[1, 4], [4]]), 5 / 3);
    assert.deepEqual(
      slidingWindows([1, 2, 3, 4], 3).map((x) => Array.from(x)),
      [
        [1, 2, 3],
        [2, 3, 4],
      ],
    );
    assert.throws(() => slidingWindows([1, 2], 3), /fewer than a window of 3/);
    assert.deepEqual(seriesStats([1, 3]), { mean: 2, std: 1 });
  });
});

describe('Forecaster', () => {
  it('learns a sine wave; predict gives horizon values in original units; rollout feeds one-step predictions back', () => {
    const s = Array.from({ length: 400 }, (_, t) => 50 + 10 * Math.sin(t * 0.2));
    const stats = seriesStats(s);
    const m = new Forecaster({ horizon: 3, model: 'gru', layers: 1, hidden: 16, ...stats }, { rng: new Rng(1) });
    trainForecaster(m, slidingWindows(s.slice(0, 300), 15 + 3), { steps: 300, lr: 0.01, rng: new Rng(2) });
    const hist = s.slice(300, 315);
    const p = m.predict([hist])[0];
    assert.equal(p.length, 3);
    assert.ok(meanSquaredError([p], [s.slice(315, 318)]) < 0.05 * meanSquaredError([naiveForecast(hist, 3)], [s.slice(315, 318)]));
    const roll = m.rollout([hist], 5)[0];
    assert.equal(roll.length, 5);
    assert.ok(Math.abs(roll[0] - p[0]) < 1e-4, 'the first rolled-out value is the one-step prediction');
    assert.throws(() => new Forecaster({ horizon: 0, model: 'gru', layers: 1, hidden: 2, mean: 0, std: 1 }), /horizon must be a whole number of at least 1/);
  });

  it('lagWindows: the last ar inputs at each step, newest first, the first value repeated before the start', () => {
    const x = [1, 2, 3, 10, 20, 30];
    assert.deepEqual(Array.from(lagWindows(x, 2, 3, 2)), [1, 1, 2, 1, 3, 2, 10, 10, 20, 10, 30, 20]);
  });

  it('the autoregressive highway starts at the least-squares fit, stays fixed, and rollout shifts predictions into its lags', () => {
    const rng = new Rng(4);
    const s = Array.from({ length: 600 }, (_, t) => 3 * Math.sin(t * 0.3) + Math.sin(t * 0.05) + 0.05 * rng.normal());
    const stats = seriesStats(s);
    const windows = slidingWindows(s.slice(0, 500), 12 + 2);
    const m = new Forecaster({ horizon: 2, model: 'gru', layers: 1, hidden: 8, ar: 12, ...stats }, { rng: new Rng(1) });
    trainForecaster(m, windows, { steps: 1, lr: 1e-12, rng: new Rng(2) });
    const lin = LinearAR.fit(windows, 12, 2);
    const hists = slidingWindows(s.slice(500, 560), 12);
    // with the recurrent head silenced, the model is its highway: the least-squares forecast
    const head = m.head.weight.toFloat32Array();
    m.head.weight.data.fill(0);
    const pm = m.predict(hists),
      pl = hists.map((h) => lin.predict(h));
    m.head.weight.data.set(head);
    let worst = 0;
    pm.forEach((p, i) =>
      p.forEach((v, h) => {
        worst = Math.max(worst, Math.abs(v - pl[i][h]));
      }),
    );
    assert.ok(worst < 1e-3, `highway vs least squares: largest difference ${worst}`);
    const before = m.arHead!.weight.toFloat32Array();
    assert.ok(
      before.some((v) => v !== 0),
      'the highway is fitted, not zero',
    );
    trainForecaster(m, windows, { steps: 50, lr: 0.01, rng: new Rng(3) });
    assert.deepEqual(m.arHead!.weight.toFloat32Array(), before, 'the fitted highway stays fixed while the rest trains');
    assert.notDeepEqual(m.head.weight.toFloat32Array(), head);
    const roll = m.rollout(hists.slice(0, 3), 4);
    const p1 = m.predict(hists.slice(0, 3));
    for (let b = 0; b < 3; b++) assert.ok(Math.abs(roll[b][0] - p1[b][0]) < 1e-4);
    // the second rolled value is the model's one-step prediction from the history with the first appended
    const extended = hists.slice(0, 3).map((h, b) => Float32Array.from([...Array.from(h), roll[b][0]]));
    const p2 = m.predict(extended);
    for (let b = 0; b < 3; b++) assert.ok(Math.abs(roll[b][1] - p2[b][0]) < 1e-3, `${roll[b][1]} vs ${p2[b][0]}`);
    assert.throws(() => new Forecaster({ horizon: 1, model: 'gru', layers: 1, hidden: 2, mean: 0, std: 1, ar: -1 }), /ar must be a whole number/);
  });
});

describe('CSV fields', () => {
  it('commas, quotes, spaces', () => {
    assert.deepEqual(splitCsvLine('a, b ,"c, d","say ""hi"""'), ['a', 'b', 'c, d', 'say "hi"']);
    assert.deepEqual(splitCsvLine('1,,3'), ['1', '', '3']);
  });
});
