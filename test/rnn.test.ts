/** Recurrent pieces PyTorch has no reference for (peepholes, sigmoid RNN, custom cells), and the layer API's errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Adam, GRU, LSTM, LSTMCell, Linear, Module, RNN, RNNCell, Rng, gradcheck, parameter, unroll, type RecurrentCell, type Tensor } from '../src/index.js';
import { rnd } from './helpers.js';

const rng = new Rng(11);

describe('cells without a PyTorch twin', () => {
  it('LSTM peepholes: parameter names, and gradients through the composed step', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, peepholes: true });
    const names = lstm.namedParameters().map(([n]) => n);
    for (const n of ['weight_ci_l0', 'weight_cf_l0', 'weight_co_l0', 'weight_ci_l0_reverse']) assert.ok(names.includes(n), n);
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, peepholes: true });
    const w = cell.namedParameters().map(([, p]) => p);
    gradcheck(
      (x, h, c, ...ps) => {
        const [wih, whh, bih, bhh, wci, wcf, wco] = ps;
        const s = r.lstmStep(x, h, c, { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh }, { weightCi: wci, weightCf: wcf, weightCo: wco });
        return r.add(s.h, r.mul(s.c, 0.5));
      },
      [rnd(rng, [2, 2]), rnd(rng, [2, 3]), rnd(rng, [2, 3]), ...w.map((p) => r.tensor(Array.from(p.data), p.shape, { requiresGrad: true }))],
    );
  });
  it('peepholes change the result (the c terms are used)', () => {
    const a = new LSTMCell({ inputSize: 2, hiddenSize: 3, peepholes: true, rng: new Rng(1) });
    const x = r.ones([1, 2]);
    const state: [Tensor, Tensor] = [r.zeros([1, 3]), r.ones([1, 3])];
    const before = a.forward(x, state)[0].toArray();
    r.init.constant_(a.weight_ci!, 0);
    r.init.constant_(a.weight_cf!, 0);
    r.init.constant_(a.weight_co!, 0);
    assert.notDeepEqual(a.forward(x, state)[0].toArray(), before);
  });
  it('forgetBias puts the whole forget bias in bias_ih', () => {
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 3, forgetBias: 1 });
    assert.deepEqual(Array.from(cell.bias_ih!.data.slice(3, 6)), [1, 1, 1]);
    assert.deepEqual(Array.from(cell.bias_hh!.data.slice(3, 6)), [0, 0, 0]);
    const layer = new LSTM({ inputSize: 2, hiddenSize: 2, numLayers: 2, forgetBias: 2 });
    assert.deepEqual(Array.from((layer as unknown as Record<string, Tensor>).bias_ih_l1.data.slice(2, 4)), [2, 2]);
  });
  it('sigmoid RNNCell (the textbook cell) has correct gradients', () => {
    gradcheck(
      (x, h, wih, whh, b) => r.rnnStep(x, h, { weightIh: wih, weightHh: whh, biasIh: b, biasHh: null }, 'sigmoid'),
      [rnd(rng, [2, 3]), rnd(rng, [2, 4]), rnd(rng, [4, 3]), rnd(rng, [4, 4]), rnd(rng, [4])],
    );
    const cell = new RNNCell({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' });
    assert.ok(cell.forward(r.ones([1, 3])).data.every((v) => v > 0 && v < 1));
  });
});

/** A custom cell from tensor ops: a "minimal gated unit" (one gate). */
class MinimalGatedCell extends Module implements RecurrentCell {
  wf: Tensor;
  wh: Tensor;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
  ) {
    super();
    const k = 1 / Math.sqrt(hiddenSize);
    this.wf = parameter(r.uniform([hiddenSize, inputSize + hiddenSize], -k, k, { rng }));
    this.wh = parameter(r.uniform([hiddenSize, inputSize + hiddenSize], -k, k, { rng }));
  }
  initialState(batch: number): Tensor[] {
    return [r.zeros([batch, this.hiddenSize])];
  }
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    const f = r.sigmoid(r.linear(r.concat([x, h], 1), this.wf));
    const cand = r.tanh(r.linear(r.concat([x, r.mul(f, h)], 1), this.wh));
    return [r.add(r.mul(r.sub(1, f), h), r.mul(f, cand))];
  }
  forward(x: Tensor): Tensor {
    return unroll(this, x).output;
  }
}

describe('custom cells run through the same sequence machinery', () => {
  it('a custom cell learns to output the running sign of a sum (loss below 0.1)', () => {
    const cell = new MinimalGatedCell(1, 8);
    const head = new Linear(8, 1, { rng });
    const opt = new Adam([...cell.parameters(), ...head.parameters()], { lr: 0.03 });
    const B = 16,
      T = 6;
    let loss = Infinity;
    for (let step = 0; step < 300 && loss > 0.1; step++) {
      loss = r.tidy(() => {
        const xs = Array.from({ length: B * T }, () => rng.uniform(-1, 1));
        const ys: number[] = [];
        for (let b = 0; b < B; b++) {
          let s = 0;
          for (let t = 0; t < T; t++) {
            s += xs[b * T + t];
            ys.push(s > 0 ? 1 : 0);
          }
        }
        const out = cell.forward(r.tensor(xs, [B, T, 1]));
        const logits = head.forward(out);
        const p = r.sigmoid(logits);
        const l = r.mseLoss(p, r.tensor(ys, [B, T, 1]));
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      });
    }
    assert.ok(loss < 0.1, `loss ${loss}`);
  });
});

describe('sequence layer API', () => {
  it('time-major input and output, dropout only between layers and only in training', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, numLayers: 2, dropout: 0.5, batchFirst: false });
    const x = r.randn([4, 2, 2]);
    const a = gru.eval().forward(x);
    assert.deepEqual(a.output.shape, [4, 2, 3]);
    assert.deepEqual(a.state.h.shape, [2, 2, 3]);
    assert.deepEqual(gru.forward(x).output.toArray(), a.output.toArray());
    gru.train();
    assert.notDeepEqual(gru.forward(x).output.toArray(), a.output.toArray());
  });
  it('outputs past a sequence end are zero', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, bidirectional: true });
    const { output } = rnn.forward(r.randn([2, 4, 2]), { lengths: [2, 4] });
    const o = output.toArray() as number[][][];
    assert.deepEqual(o[0][2], [0, 0, 0, 0, 0, 0]);
    assert.ok(o[1][3].every((v) => v !== 0));
  });
  it('bad input gives errors that say what is wrong', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    assert.throws(() => lstm.forward(r.zeros([1, 4, 5])), /input has 5 features but the layer expects inputSize 2/);
    assert.throws(() => lstm.forward(r.zeros([4, 2])), /input must be 3-D/);
    assert.throws(() => lstm.forward(r.zeros([2, 4, 2]), { lengths: [4, 5] }), /length 5 is out of range/);
    assert.throws(() => lstm.forward(r.zeros([2, 4, 2]), { lengths: [4] }), /lengths has 1 entries but the batch has 2/);
    assert.throws(() => lstm.forward(r.zeros([2, 4, 2]), { state: { h: r.zeros([1, 3, 3]) } }), /initial state h has shape \[1,3,3\] but must be \[1,2,3\]/);
    assert.throws(() => new GRU({ inputSize: 2, hiddenSize: 0 }), /hiddenSize must be a positive integer/);
    assert.throws(() => new RNN({ inputSize: 2, hiddenSize: 2, nonlinearity: 'gelu' as 'tanh' }), /nonlinearity must be 'tanh' or 'relu'/);
  });
});
