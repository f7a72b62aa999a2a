/** Forecasting pieces: windows, baselines, the Forecaster's predictions, CSV fields. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Forecaster, LinearAR, Rng, meanSquaredError, naiveForecast, seriesStats, slidingWindows, trainForecaster } from '../src/index.js';
import { splitCsvLine } from '../src/cli/csv.js';
import { assertClose } from './helpers.js';

describe('forecasting baselines', () => {
  it('LinearAR recovers a linear recurrence exactly: a sinusoid from its last two values', () => {
    const w = 0.3;
    const s = Array.from({ length: 200 }, (_, t) => Math.sin(w * t + 0.5));
    const ar = LinearAR.fit(slidingWindows(s, 2 + 3), 2, 3);
    assertClose(Array.from(ar.weights.subarray(0, 2 * 3)).filter((_, i) => i % 3 === 0), [-1, 2 * Math.cos(w)], 1e-4);
    const pred = ar.predict(s.slice(0, 150));
    assertClose(Array.from(pred), s.slice(150, 153), 1e-4);
  });
  it('naive repeats the last value; MSE; windows and stats', () => {
    assert.deepEqual(Array.from(naiveForecast([1, 2, 5], 3)), [5, 5, 5]);
    assert.equal(meanSquaredError([[1, 2], [3]], [[1, 4], [4]]), 5 / 3);
    assert.deepEqual(slidingWindows([1, 2, 3, 4], 3).map((x) => Array.from(x)), [[1, 2, 3], [2, 3, 4]]);
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
});

describe('CSV fields', () => {
  it('commas, quotes, spaces', () => {
    assert.deepEqual(splitCsvLine('a, b ,"c, d","say ""hi"""'), ['a', 'b', 'c, d', 'say "hi"']);
    assert.deepEqual(splitCsvLine('1,,3'), ['1', '', '3']);
  });
});
