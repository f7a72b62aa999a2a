import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Rng } from '../src/index.js';
import { assertClose } from './helpers.js';

describe('creation and access', () => {
  it('tensor() from nested arrays infers the shape', () => {
    const t = r.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.size, 6);
    assert.equal(t.rank, 2);
    assert.deepEqual(t.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.ok(t.data instanceof Float32Array);
  });
  it('tensor() from a flat array or typed array with a shape', () => {
    const t = r.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 1, 2]);
    assert.deepEqual(t.toArray(), [[[1, 2]], [[3, 4]], [[5, 6]]]);
    assert.deepEqual(r.tensor([1, 2, 3, 4], [2, 2]).toArray(), [
      [1, 2],
      [3, 4],
    ]);
  });
  it('a number is a rank-0 tensor and item() reads it', () => {
    const t = r.tensor(3.5);
    assert.deepEqual(t.shape, []);
    assert.equal(t.item(), 3.5);
    assert.equal(t.toArray(), 3.5);
  });
  it('values are stored as float32', () => {
    assert.equal(r.tensor([0.1]).item(), Math.fround(0.1));
  });
  it('zeros, ones, full, arange', () => {
    assert.deepEqual(r.zeros([2, 2]).toArray(), [
      [0, 0],
      [0, 0],
    ]);
    assert.deepEqual(r.ones([3]).toArray(), [1, 1, 1]);
    assert.deepEqual(r.full([2], 7).toArray(), [7, 7]);
    assert.deepEqual(r.arange(4).toArray(), [0, 1, 2, 3]);
    assert.deepEqual(r.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(r.arange(5, 0, -2).toArray(), [5, 3, 1]);
    assert.deepEqual(r.zeros([0, 3]).shape, [0, 3]);
  });
  it('bad data or shapes give errors that say what is wrong', () => {
    assert.throws(() => r.tensor([1, 2, 3], [2, 2]), /3 values do not fit shape \[2,2\]/);
    assert.throws(() => r.tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => r.zeros([2, -1]), /invalid shape \[2,-1\]/);
    assert.throws(() => r.zeros([2, 3]).item(), /item: tensor has 6 elements/);
    assert.throws(() => r.arange(0, 1, 0), /step must be a non-zero/);
  });
  it('toFloat32Array copies', () => {
    const t = r.tensor([1, 2]);
    const c = t.toFloat32Array();
    c[0] = 9;
    assert.equal(t.data[0], 1);
  });
  it('prints its shape and values, abbreviating big tensors', () => {
    assert.match(
      r
        .tensor([
          [1, 2],
          [3, 4],
        ])
        .toString(),
      /Tensor\(\[2,2\]\)\n\[\[1, 2\],\n \[3, 4\]\]/,
    );
    assert.match(r.zeros([2000]).toString(), /\[0, 0, 0, \.\.\., 0, 0, 0\]/);
  });
});

describe('random numbers', () => {
  it('a seed makes draws reproducible; different seeds differ', () => {
    const a = r.randn([5], { rng: new Rng(42) }).toArray();
    const b = r.randn([5], { rng: new Rng(42) }).toArray();
    const c = r.randn([5], { rng: new Rng(43) }).toArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
  it('manualSeed reseeds the global generator', () => {
    r.manualSeed(9);
    const a = r.rand([4]).toArray();
    r.manualSeed(9);
    assert.deepEqual(r.rand([4]).toArray(), a);
  });
  it('rand and uniform stay in range; randn has about the right mean and std', () => {
    const rng = new Rng(1);
    const u = r.uniform([2000], -2, 3, { rng }).data;
    assert.ok(u.every((v) => v >= -2 && v < 3));
    const n = r.randn([20000], { rng, mean: 1, std: 2 }).data;
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    assert.ok(Math.abs(mean - 1) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < 0.05, `std ${std}`);
  });
  it('the generator state round-trips (for checkpoints)', () => {
    const rng = new Rng(5);
    rng.normal();
    const state = rng.getState();
    const next = [rng.random(), rng.normal(), rng.normal()];
    const other = new Rng(0);
    other.setState(state);
    assert.deepEqual([other.random(), other.normal(), other.normal()], next);
  });
});

describe('forward values', () => {
  it('broadcasting arithmetic', () => {
    const a = r.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(r.add(a, r.tensor([10, 20, 30])).toArray(), [
      [11, 22, 33],
      [14, 25, 36],
    ]);
    assert.deepEqual(r.mul(a, r.tensor([[2], [3]])).toArray(), [
      [2, 4, 6],
      [12, 15, 18],
    ]);
    assert.deepEqual(r.sub(10, a).toArray(), [
      [9, 8, 7],
      [6, 5, 4],
    ]);
    assert.deepEqual(a.div(2).toArray(), [
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    assert.deepEqual(a.pow(2).neg().toArray(), [
      [-1, -4, -9],
      [-16, -25, -36],
    ]);
  });
  it('broadcast errors name the op and both shapes', () => {
    assert.throws(() => r.add(r.zeros([2, 3]), r.zeros([4])), /add: \[2,3\] and \[4\] cannot be broadcast/);
  });
  it('matmul, with the error the issue asks for', () => {
    const a = r.tensor([
      [1, 2],
      [3, 4],
    ]);
    const b = r.tensor([
      [5, 6],
      [7, 8],
    ]);
    assert.deepEqual(a.matmul(b).toArray(), [
      [19, 22],
      [43, 50],
    ]);
    assert.throws(() => r.matmul(r.zeros([3, 4]), r.zeros([5, 2])), { message: 'matmul: [3,4] x [5,2]: inner dimensions 4 and 5 differ' });
    const batched = r.matmul(r.stack([a, b]), r.stack([b, a]));
    assert.deepEqual(batched.toArray(), [
      [
        [19, 22],
        [43, 50],
      ],
      [
        [23, 34],
        [31, 46],
      ],
    ]);
  });
  it('reductions with keepdim', () => {
    const a = r.tensor([
      [1, 5, 3],
      [4, 2, 6],
    ]);
    assert.equal(a.sum().item(), 21);
    assert.deepEqual(a.sum(0).toArray(), [5, 7, 9]);
    assert.deepEqual(a.sum(1, true).toArray(), [[9], [12]]);
    assert.deepEqual(a.mean(-1).toArray(), [3, 4]);
    assert.deepEqual(a.max(1).toArray(), [5, 6]);
    assert.deepEqual(a.max(0, true).toArray(), [[4, 5, 6]]);
    assert.equal(a.max().item(), 6);
    assert.deepEqual(a.argmax(1).toArray(), [1, 2]);
    assert.equal(a.argmax().item(), 5);
  });
  it('shape ops', () => {
    const a = r.arange(6).reshape(2, 3);
    assert.deepEqual(a.T.toArray(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(a.reshape(-1, 2).shape, [3, 2]);
    assert.deepEqual(r.arange(24).reshape(2, 3, 4).permute(2, 0, 1).shape, [4, 2, 3]);
    assert.deepEqual(a.narrow(1, 1, 2).toArray(), [
      [1, 2],
      [4, 5],
    ]);
    assert.deepEqual(a.slice(1, 0, 3, 2).toArray(), [
      [0, 2],
      [3, 5],
    ]);
    assert.deepEqual(r.concat([a, a], 0).shape, [4, 3]);
    assert.deepEqual(r.stack([a, a], 2).shape, [2, 3, 2]);
    assert.deepEqual(
      a.split(2, 1).map((t) => t.shape),
      [
        [2, 2],
        [2, 1],
      ],
    );
    assert.deepEqual(
      r
        .arange(7)
        .chunk(3)
        .map((t) => t.toArray()),
      [[0, 1, 2], [3, 4, 5], [6]],
    );
    assert.deepEqual(a.unsqueeze(0).shape, [1, 2, 3]);
    assert.deepEqual(r.zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(r.tensor([1, 2]).reshape(2, 1).expand(2, 3).toArray(), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
    assert.throws(() => a.reshape(4, 2), /reshape: \[2,3\] \(6 elements\) cannot be viewed as \[4,2\]/);
    assert.throws(() => r.concat([a, r.zeros([2, 2])], 0), /concat: \[2,3\] and \[2,2\] differ outside dimension 0/);
    assert.throws(() => a.narrow(1, 2, 2), /narrow: start 2 and length 2 are out of range/);
  });
  it('softmax rows sum to one and are stable for large logits', () => {
    const p = r.softmax(
      r.tensor([
        [1000, 1001, 1002],
        [0, 0, 0],
      ]),
    );
    assertClose(p.sum(-1).data, [1, 1]);
    assertClose(p.data.slice(3), [1 / 3, 1 / 3, 1 / 3]);
    assertClose(r.logSoftmax(r.tensor([1000, 1000])).data, [-Math.LN2, -Math.LN2]);
  });
  it('crossEntropy matches -log softmax[target], ignoreIndex skips rows', () => {
    const logits = r.tensor([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    assertClose([r.crossEntropy(logits, [2, 0], { reduction: 'sum' }).item()], [lse - 3 + Math.log(3)]);
    assertClose([r.crossEntropy(logits, [2, -100]).item()], [lse - 3]);
    assertClose(r.crossEntropy(logits, [0, 1], { reduction: 'none' }).data, [lse - 1, Math.log(3)]);
    assert.throws(() => r.crossEntropy(logits, [3, 0]), /target 3 is out of range for 3 classes/);
    assert.throws(() => r.crossEntropy(logits, [0]), /need targets of shape \[2\]/);
  });
  it('embedding looks up rows; out-of-range indices are errors', () => {
    const w = r.tensor([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    assert.deepEqual(r.embedding(w, [[2, 0]]).toArray(), [
      [
        [4, 5],
        [0, 1],
      ],
    ]);
    assert.throws(() => r.embedding(w, [3]), /embedding: index 3 is out of range for 3 rows/);
  });
  it('dropout zeroes about p of the values and scales the rest; identity in eval', () => {
    const x = r.ones([10000]);
    const y = r.dropout(x, 0.3, { rng: new Rng(2) }).data;
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(Math.abs(zeros / 10000 - 0.3) < 0.02, `${zeros} zeros`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
    assert.equal(r.dropout(x, 0.3, { training: false }), x);
    assert.throws(() => r.dropout(x, 1.5), /p must be between 0 and 1/);
  });
  it('where and maskedFill', () => {
    const x = r.tensor([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(r.where(r.tensor([1, 0]), x, 0).toArray(), [
      [1, 0],
      [3, 0],
    ]);
    assert.deepEqual(x.maskedFill(r.tensor([[0], [1]]), -1).toArray(), [
      [1, 2],
      [-1, -1],
    ]);
  });
});
