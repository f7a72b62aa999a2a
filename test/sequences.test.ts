/** Padding, masks, masked losses, sequence-to-vector heads and the sequence data set. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import {
  GRU,
  LSTM,
  LuongAttention,
  Rng,
  SequenceDataset,
  dotAttention,
  finalHidden,
  gradcheck,
  lastValidStep,
  lengthsMask,
  meanOverValid,
  padSequences,
} from '../src/index.js';
import { assertClose, rnd } from './helpers.js';

const rng = new Rng(11);

describe('padSequences', () => {
  it('pads numbers after each sequence and returns the lengths', () => {
    const p = padSequences([[1, 2, 3], [4], Float32Array.of(5, 6)]);
    assert.deepEqual(p.shape, [3, 3]);
    assert.deepEqual(p.lengths, [3, 1, 2]);
    assert.deepEqual(Array.from(p.data), [1, 2, 3, 4, 0, 0, 5, 6, 0]);
    assert.ok(p.data instanceof Float32Array);
  });
  it('pads vectors, with a value, to maxLen, truncating either end', () => {
    const seqs = [
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      [[4, 4]],
    ];
    const p = padSequences(seqs, { value: -1, maxLen: 2 });
    assert.deepEqual(p.shape, [2, 2, 2]);
    assert.deepEqual(p.lengths, [2, 1]);
    assert.deepEqual(Array.from(p.data), [1, 1, 2, 2, 4, 4, -1, -1]);
    assert.deepEqual(Array.from(padSequences(seqs, { maxLen: 2, truncate: 'pre' }).data), [2, 2, 3, 3, 4, 4, 0, 0]);
    assert.deepEqual(Array.from(padSequences([[1, 2, 3, 4]], { maxLen: 6 }).data), [1, 2, 3, 4, 0, 0]);
  });
  it('int32 output for ids; -100 padding makes targets crossEntropy skips', () => {
    const p = padSequences([[1, 2], [3]], { dtype: 'int32', value: -100 });
    assert.ok(p.data instanceof Int32Array);
    assert.deepEqual(Array.from(p.data), [1, 2, 3, -100]);
  });
  it('rejects what cannot be padded, with a sentence', () => {
    assert.throws(() => padSequences([]), /the list of sequences is empty/);
    assert.throws(() => padSequences([[1], []]), /sequence 1 is empty/);
    assert.throws(() => padSequences([[[1, 2]], [[1, 2, 3]]]), /sequence 1 has vectors of 3 per step but sequence 0 has vectors of 2/);
    assert.throws(() => padSequences([[1]], { maxLen: 0 }), /maxLen must be a whole number of at least 1/);
    assert.throws(() => padSequences([[1]], { dtype: 'int32', value: 0.5 }), /whole-number padding value/);
  });
});

describe('masks and masked losses', () => {
  it('lengthsMask', () => {
    assert.deepEqual(lengthsMask([2, 3, 1]).toArray(), [
      [1, 1, 0],
      [1, 1, 1],
      [1, 0, 0],
    ]);
    assert.deepEqual(lengthsMask([1], 3).shape, [1, 3]);
    assert.throws(() => lengthsMask([4], 3), /length 4 must be a whole number from 0 to 3/);
  });
  it('mseLoss with a mask averages only the valid positions; its gradient is zero elsewhere', () => {
    const x = r.tensor(
      [
        [1, 2, 9],
        [3, 9, 9],
      ],
      undefined,
      { requiresGrad: true },
    );
    const y = r.tensor([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const l = r.mseLoss(x, y, { mask: lengthsMask([2, 1], 3) });
    assert.ok(Math.abs(l.item() - (1 + 4 + 9) / 3) < 1e-5);
    l.backward();
    assertClose(x.grad!.data, [2 / 3, 4 / 3, 0, 2, 0, 0]);
    // a [B, T, 1] mask over [B, T, F] values counts every feature
    const z = r.tensor([
      [
        [1, 1],
        [5, 5],
      ],
    ]);
    assert.ok(Math.abs(r.mseLoss(z, r.zerosLike(z), { mask: r.tensor([[[1], [0]]]) }).item() - 1) < 1e-6);
    assert.throws(() => r.mseLoss(x, y, { mask: r.ones([3, 3]) }), /mseLoss: (the mask|cannot broadcast)/);
  });
  it('gradcheck: masked mseLoss (mean and sum), crossEntropy with a mask', () => {
    const x = rnd(rng, [2, 4, 3]);
    const t = rnd(rng, [2, 4, 3], -1, 1, false);
    gradcheck((a) => r.mseLoss(a, r.tensor(Array.from(t.data), t.shape), { mask: lengthsMask([4, 2], 4).reshape(2, 4, 1) }), [x]);
    gradcheck((a) => r.mseLoss(a, r.tensor(Array.from(t.data), t.shape), { mask: lengthsMask([1, 3], 4).reshape(2, 4, 1), reduction: 'sum' }), [x]);
    const logits = rnd(rng, [2, 3, 5], -2, 2);
    gradcheck(
      (a) =>
        r.crossEntropy(
          a,
          [
            [1, 2, 3],
            [4, 0, 1],
          ],
          { mask: lengthsMask([3, 1], 3) },
        ),
      [logits],
    );
  });
  it('crossEntropy with a mask equals crossEntropy with the masked targets ignored', () => {
    const logits = rnd(rng, [2, 3, 4], -2, 2, false);
    const a = r
      .crossEntropy(
        logits,
        [
          [1, 2, 3],
          [3, 0, 1],
        ],
        { mask: lengthsMask([2, 1], 3) },
      )
      .item();
    const b = r
      .crossEntropy(logits, [
        [1, 2, -100],
        [3, -100, -100],
      ])
      .item();
    assert.equal(a, b);
  });
});

describe('sequence-to-vector heads', () => {
  it("lastValidStep picks each sequence's last valid output; for a forward LSTM it equals the final state", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, rng: new Rng(1) });
    const x = rnd(rng, [3, 5, 3], -1, 1, false);
    const lengths = [5, 2, 3];
    const { output, state } = lstm.forward(x, { lengths });
    assertClose(lastValidStep(output, lengths).data, finalHidden(lstm, state).data, 1e-6);
    assert.deepEqual(lastValidStep(output).shape, [3, 4]);
    assert.throws(() => lastValidStep(output, [6, 1, 1]), /length 6 must be a whole number from 1 to 5/);
  });
  it("finalHidden of a bidirectional 2-layer GRU: the last layer's forward and backward states side by side", () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, rng: new Rng(2) });
    const x = rnd(rng, [2, 4, 2], -1, 1, false);
    const lengths = [4, 2];
    const { output, state } = gru.forward(x, { lengths });
    const f = finalHidden(gru, state);
    assert.deepEqual(f.shape, [2, 6]);
    const out = output.toArray() as number[][][];
    // forward half: output at the last valid step; backward half: output at step 0
    for (let b = 0; b < 2; b++) {
      assertClose(f.data.subarray(b * 6, b * 6 + 3), out[b][lengths[b] - 1].slice(0, 3), 1e-6);
      assertClose(f.data.subarray(b * 6 + 3, b * 6 + 6), out[b][0].slice(3), 1e-6);
    }
  });
  it('meanOverValid averages the valid steps', () => {
    const o = r.tensor([
      [[1], [3], [100]],
      [[2], [100], [100]],
    ]);
    assert.deepEqual(meanOverValid(o, [2, 1]).toArray(), [[2], [2]]);
  });
  it('gradcheck: the heads pass gradients to the chosen steps only', () => {
    const o = rnd(rng, [3, 4, 2]);
    gradcheck((a) => lastValidStep(a, [4, 1, 2]), [o]);
    gradcheck((a) => meanOverValid(a, [3, 4, 1]), [o]);
    const h = rnd(rng, [4, 3, 2]);
    gradcheck((a) => finalHidden({ numLayers: 2, directions: 2 }, a), [h]);
  });
});

describe('SequenceDataset', () => {
  const ds = new SequenceDataset(Array.from({ length: 10 }, (_, i) => i));
  it('batches in order with a last partial batch, or drops it', () => {
    assert.deepEqual(
      [...ds.batches(4)],
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
      ],
    );
    assert.deepEqual(
      [...ds.batches(4, { dropLast: true })],
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ],
    );
    assert.equal(ds.numBatches(4), 3);
    assert.equal(ds.numBatches(4, true), 2);
  });
  it('shuffles reproducibly with a seed, differently each epoch with one Rng, and covers every item once', () => {
    const a = [...ds.batches(3, { shuffle: true, seed: 5 })].flat();
    const b = [...ds.batches(3, { shuffle: true, seed: 5 })].flat();
    assert.deepEqual(a, b);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      [...ds.items],
    );
    assert.notDeepEqual(a, [...ds.items]);
    const g = new Rng(9);
    const e1 = [...ds.batches(10, { shuffle: true, rng: g })][0];
    const e2 = [...ds.batches(10, { shuffle: true, rng: g })][0];
    assert.notDeepEqual(e1, e2);
  });
  it('split holds out a seeded fraction, disjoint from the rest', () => {
    const [train, test] = ds.split(0.2, 3);
    assert.equal(test.size, 2);
    assert.equal(train.size, 8);
    assert.deepEqual(
      [...train.items, ...test.items].sort((x, y) => x - y),
      [...ds.items],
    );
    assert.deepEqual(ds.split(0.2, 3)[1].items, test.items);
    assert.throws(() => ds.split(1), /fraction must be between 0 and 1/);
    assert.throws(() => [...ds.batches(0)], /batchSize must be a whole number of at least 1/);
  });
});

describe('dot attention', () => {
  it("weights sum to 1 over each source's valid steps and are 0 past its length", () => {
    const q = rnd(rng, [2, 3, 4], -1, 1, false);
    const k = rnd(rng, [2, 5, 4], -1, 1, false);
    const { context, weights } = dotAttention(q, k, [5, 2]);
    assert.deepEqual(context.shape, [2, 3, 4]);
    const w = weights.toArray() as number[][][];
    for (const row of w[0]) assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-5);
    for (const row of w[1]) {
      assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-5);
      for (const v of row.slice(2)) assert.ok(v < 1e-30, `weight ${v} past the length`);
    }
  });
  it('gradcheck: queries and keys, with lengths; LuongAttention runs', () => {
    gradcheck((a, b) => dotAttention(a, b, [3, 1]).context, [rnd(rng, [2, 2, 3]), rnd(rng, [2, 3, 3])]);
    const att = new LuongAttention(3, { rng: new Rng(4) });
    assert.deepEqual(att.forward(rnd(rng, [2, 2, 3], -1, 1, false), rnd(rng, [2, 4, 3], -1, 1, false), [4, 2]).output.shape, [2, 2, 3]);
  });
});
