import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Rng, Module, Linear, Embedding, Dropout, Sequential, Tanh, ReLU, parameter, type Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';

class Block extends Module {
  proj = new Linear(3, 4);
  extra: Tensor = parameter(r.zeros([2]));
  heads = [new Linear(4, 2), new Linear(4, 1, { bias: false })];
  notAParam = r.ones([1]);
  forward(x: Tensor): Tensor {
    return this.heads[0].forward(this.proj.forward(x));
  }
}

describe('Module', () => {
  it('finds parameters on fields, nested modules and arrays of modules, in order, with dotted names', () => {
    const m = new Block();
    assert.deepEqual(
      m.namedParameters().map(([n]) => n),
      ['extra', 'proj.weight', 'proj.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight'],
    );
    assert.equal(m.numParameters(), 2 + 12 + 4 + 8 + 2 + 4);
    assert.ok(m.parameters().every((p) => p.requiresGrad));
  });
  it('Sequential names children 0, 1, ... like PyTorch', () => {
    const s = new Sequential(new Linear(2, 3), new Tanh(), new Linear(3, 1));
    assert.deepEqual(Object.keys(s.stateDict()), ['0.weight', '0.bias', '2.weight', '2.bias']);
  });
  it('stateDict / loadStateDict round-trip values', () => {
    const a = new Block();
    const b = new Block();
    b.loadStateDict(a.stateDict());
    const x = r.randn([2, 3]);
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
    assert.notEqual(b.proj.weight, a.proj.weight); // values copied, not tensors shared
  });
  it('loadStateDict names missing and unexpected keys, and shape mismatches', () => {
    const m = new Block();
    const sd = { ...m.stateDict() };
    delete sd['proj.bias'];
    sd['proj.gamma'] = r.zeros([4]);
    assert.throws(() => m.loadStateDict(sd), /missing keys: proj\.bias; unexpected keys: proj\.gamma/);
    const bad = { ...m.stateDict(), 'proj.weight': r.zeros([3, 4]) };
    assert.throws(() => m.loadStateDict(bad), /'proj\.weight' has shape \[3,4\] in the state dict but \[4,3\] in the model/);
    // non-strict loading accepts a subset
    const before = m.proj.bias!.toArray();
    m.loadStateDict({ 'proj.weight': r.ones([4, 3]) }, { strict: false });
    assert.deepEqual(m.proj.weight.toArray(), Array(4).fill([1, 1, 1]));
    assert.deepEqual(m.proj.bias!.toArray(), before);
  });
  it('train() and eval() reach every submodule', () => {
    const s = new Sequential(new Linear(2, 2), new Dropout(0.5));
    s.eval();
    assert.ok(s.namedModules().every(([, m]) => !m.training));
    const x = r.ones([3, 2]);
    assert.deepEqual(s.forward(x).toArray(), s.forward(x).toArray()); // dropout off: deterministic
    s.train();
    assert.ok(s.namedModules().every(([, m]) => m.training));
  });
  it('zeroGrad clears every parameter gradient', () => {
    const m = new Linear(2, 2);
    m.forward(r.ones([1, 2]))
      .sum()
      .backward();
    assert.ok(m.parameters().every((p) => p.grad !== null));
    m.zeroGrad();
    assert.ok(m.parameters().every((p) => p.grad === null));
  });
});

describe('layers', () => {
  it('Linear computes x Wᵀ + b with W [out, in], and initialises within ±1/√in', () => {
    const lin = new Linear(3, 2, { rng: new Rng(1) });
    const bound = 1 / Math.sqrt(3);
    assert.ok([...lin.weight.data, ...lin.bias!.data].every((v) => Math.abs(v) <= bound));
    lin.loadStateDict({
      weight: r.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      bias: r.tensor([10, 20]),
    });
    assert.deepEqual(
      lin
        .forward(
          r.tensor([
            [1, 0, -1],
            [1, 1, 1],
          ]),
        )
        .toArray(),
      [
        [8, 18],
        [16, 35],
      ],
    );
    assert.deepEqual(lin.forward(r.ones([2, 5, 3])).shape, [2, 5, 2]);
    assert.throws(() => lin.forward(r.ones([2, 4])), /linear: input \[2,4\] x weight \[2,3\]/);
  });
  it('Embedding looks up rows and has N(0,1) init', () => {
    const e = new Embedding(100, 50, { rng: new Rng(3) });
    const v = e.weight.data;
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    assert.ok(Math.abs(mean) < 0.05);
    assert.deepEqual(e.forward([[1, 2, 3]]).shape, [1, 3, 50]);
    assertClose(e.forward([7]).data, v.slice(350, 400));
  });
  it('invalid constructor arguments are rejected', () => {
    assert.throws(() => new Linear(0, 2), /inFeatures must be a positive integer/);
    assert.throws(() => new Dropout(2), /p must be between 0 and 1/);
  });
  it('activations', () => {
    const x = r.tensor([-1, 0, 2]);
    assert.deepEqual(new ReLU().forward(x).toArray(), [0, 0, 2]);
    assertClose(new Tanh().forward(x).data, [Math.tanh(-1), 0, Math.tanh(2)]);
  });
});
