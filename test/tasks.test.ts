/**
 * The classic sequence tasks (examples/*.ts) reach their quality bars. Where a
 * full run takes minutes the test uses fewer steps and says so; docs/tasks.md
 * lists the figures of the full runs.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { binaryAddition } from '../examples/binary-addition.js';
import { digitsRnn } from '../examples/digits-rnn.js';
import { sumSign } from '../examples/sum-sign.js';
import { digitNames } from '../examples/digit-names.js';
import { dates } from '../examples/dates.js';
import { timeSeries } from '../examples/time-series.js';
import { wordLm } from '../examples/word-lm.js';

const shakespeare = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');

it('binary addition: 100% of the 63,536 held-out 8-bit pairs right after 600 steps on 2,000 pairs', () => {
  const res = binaryAddition({ steps: 600 });
  assert.equal(res.testPairs, 63536);
  assert.equal(res.accuracy, 1, `accuracy ${res.accuracy}`);
});

it('digits read row by row (8 steps of 8 pixels): test accuracy >= 95% on the held-out fifth (20 epochs)', () => {
  const res = digitsRnn({ epochs: 20 });
  assert.equal(res.testSize, 359);
  assert.ok(res.testAccuracy >= 0.95, `test accuracy ${res.testAccuracy}`);
});

it('sum sign of 1 to 50 numbers: >= 95% with lengths; the same model ignoring lengths stays far below (300 steps each)', () => {
  const withLengths = sumSign({ useLengths: true, steps: 300, testSize: 1000 });
  const ignored = sumSign({ useLengths: false, steps: 300, testSize: 1000 });
  assert.ok(withLengths.accuracy >= 0.95, `with lengths ${withLengths.accuracy}`);
  assert.ok(ignored.accuracy < 0.85, `lengths ignored ${ignored.accuracy}`);
});

it('digit names from images (vector-to-sequence): exact match >= 90% on the held-out fifth (10 epochs)', () => {
  const res = digitNames({ epochs: 10 });
  assert.equal(res.testSize, 359);
  assert.ok(res.exactMatch >= 0.9, `exact match ${res.exactMatch}`);
});

it('dates to ISO (encoder-decoder with attention; 400 steps of a 32-unit model): >= 95% exact match, greedy and beam, on held-out dates', () => {
  const res = dates({ steps: 400, hidden: 32, batch: 32, lr: 0.01, attention: 'dot', beamWidth: 3, testSize: 300 });
  assert.ok(res.greedy >= 0.95, `greedy ${res.greedy}`);
  assert.ok(res.beam >= 0.95, `beam ${res.beam}`);
});

it('forecasting (1x32 GRU + linear highway, 2,000 steps): beats the linear fit at 1 and 10 steps, directly and fed back, and the naive forecast by far', () => {
  const f = timeSeries({ steps: 2000, hidden: 32, layers: 1, batch: 64, lr: 3e-3, trainWindows: 20000, testWindows: 500 });
  // the linear fit is the strong baseline here (the series is a linear recurrence plus noise)
  assert.ok(f.oneStep.model < 0.97 * f.oneStep.linear, `one step: ${f.oneStep.model} vs linear ${f.oneStep.linear}`);
  assert.ok(f.tenStep.seq2seq < 0.8 * f.tenStep.linear, `ten steps: ${f.tenStep.seq2seq} vs linear ${f.tenStep.linear}`);
  assert.ok(f.tenStep.fedBack < 0.85 * f.tenStep.linear, `fed back: ${f.tenStep.fedBack} vs linear ${f.tenStep.linear}`);
  assert.ok(f.oneStep.model < 0.05 * f.oneStep.naive && f.tenStep.seq2seq < 0.01 * f.tenStep.naive, `naive: ${f.oneStep.naive}, ${f.tenStep.naive}`);
  assert.ok(f.oneStep.model > f.noiseFloor, 'no model can beat the noise it was not given');
});

it('forecasting without the highway still learns the series (1x32 GRU, 1,000 steps): far better than naive', () => {
  const f = timeSeries({ steps: 1000, hidden: 32, layers: 1, batch: 64, lr: 0.01, trainWindows: 20000, testWindows: 500, ar: 0 });
  assert.ok(f.oneStep.model < 0.1 * f.oneStep.naive, `one step: ${f.oneStep.model} vs naive ${f.oneStep.naive}`);
  assert.ok(f.tenStep.seq2seq < 0.02 * f.tenStep.naive, `ten steps: ${f.tenStep.seq2seq} vs naive ${f.tenStep.naive}`);
});

it("word-level LM on 200k characters of Shakespeare: validation perplexity below the unigram model's; samples are words", async () => {
  const res = await wordLm({ text: shakespeare.slice(0, 200000), steps: 150, hidden: 64, embed: 32, minCount: 2 });
  assert.ok(res.valPerplexity < 0.85 * res.unigramPerplexity, `perplexity ${res.valPerplexity} vs unigram ${res.unigramPerplexity}`);
  const words = res.sample.match(/[A-Za-z']+/g) ?? [];
  assert.ok(words.length >= 20, res.sample);
  assert.doesNotMatch(res.sample, /<unk>|<join>/);
});
