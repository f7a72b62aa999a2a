/**
 * Every op's analytic gradient against central finite differences in float64
 * (gradcheck runs the function on the js-f64 backend). Shapes are random and
 * include broadcasting and size-1 dimensions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Rng, gradcheck, type Tensor } from '../src/index.js';
import { record } from '../src/internal.js';
import { rnd, rndAway } from './helpers.js';

const rng = new Rng(7);

/** Random shape of the given rank with dims in [1, max]; some dims forced to 1. */
function shapeOf(rank: number, max = 4): number[] {
  return Array.from({ length: rank }, () => (rng.random() < 0.25 ? 1 : 1 + rng.int(max)));
}

/** A pair of shapes that broadcast together (one may have fewer dims or 1s). */
function broadcastPair(): [number[], number[]] {
  const rank = 1 + rng.int(3);
  const full = shapeOf(rank);
  const other = full.map((d) => (rng.random() < 0.4 ? 1 : d)).slice(rng.int(rank));
  return rng.random() < 0.5 ? [full, other] : [other, full];
}

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const res = gradcheck(fn, inputs);
  assert.ok(res.checked > 0, 'gradcheck compared no elements');
}

describe('gradcheck itself', () => {
  it('catches a wrong backward', () => {
    const x = rnd(rng, [3]);
    const wrong = (a: Tensor): Tensor => {
      const out = r.tensor(
        Array.from(a.data, (v) => v * v),
        a.shape,
      );
      return record(out, 'badSquare', [a], (gy) => [r.mul(gy, 3)]);
    };
    assert.throws(() => gradcheck(wrong, [x]), /gradcheck: input 0/);
  });
});

describe('elementwise binary ops with broadcasting', () => {
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(op, () => {
      for (let trial = 0; trial < 6; trial++) {
        const [sa, sb] = broadcastPair();
        const a = rnd(rng, sa);
        const b = op === 'div' ? rndAway(rng, sb) : rnd(rng, sb);
        check((x, y) => r[op](x, y), [a, b]);
      }
    });
  }
  it('with a scalar operand', () => {
    const a = rnd(rng, [2, 3]);
    check((x) => r.add(r.mul(x, 3), 1), [a]);
    check((x) => r.div(2, r.sub(x, 3)), [a]);
  });
  it('only one side requiring grad', () => {
    const a = rnd(rng, [2, 3]);
    const b = rnd(rng, [3], -1, 1, false);
    check((x, y) => r.mul(x, y), [a, b]);
  });
});

describe('elementwise unary ops', () => {
  const cases: [string, (x: Tensor) => Tensor, (s: number[]) => Tensor][] = [
    ['neg', r.neg, (s) => rnd(rng, s)],
    ['exp', r.exp, (s) => rnd(rng, s)],
    ['log', r.log, (s) => rndAway(rng, s, 0.2, 3, true)],
    ['sqrt', r.sqrt, (s) => rndAway(rng, s, 0.2, 3, true)],
    ['tanh', r.tanh, (s) => rnd(rng, s, -2, 2)],
    ['sigmoid', r.sigmoid, (s) => rnd(rng, s, -3, 3)],
    ['relu', r.relu, (s) => rndAway(rng, s, 0.1, 2)],
    ['abs', r.abs, (s) => rndAway(rng, s, 0.1, 2)],
    ['pow 3', (x) => r.pow(x, 3), (s) => rnd(rng, s)],
    ['pow -0.5', (x) => r.pow(x, -0.5), (s) => rndAway(rng, s, 0.5, 2, true)],
    ['pow 0', (x) => r.pow(x, 0), (s) => rnd(rng, s)],
  ];
  for (const [name, fn, make] of cases) {
    it(name, () => {
      for (const s of [[5], shapeOf(2), shapeOf(3), []]) check(fn, [make(s)]);
    });
  }
});

describe('matmul', () => {
  it('2-D x 2-D', () => check(r.matmul, [rnd(rng, [3, 4]), rnd(rng, [4, 2])]));
  it('size-1 dims', () => check(r.matmul, [rnd(rng, [1, 4]), rnd(rng, [4, 1])]));
  it('batched 3-D x 3-D', () => check(r.matmul, [rnd(rng, [2, 3, 4]), rnd(rng, [2, 4, 5])]));
  it('batch 1 broadcasts', () => {
    check(r.matmul, [rnd(rng, [1, 3, 4]), rnd(rng, [3, 4, 2])]);
    check(r.matmul, [rnd(rng, [3, 3, 4]), rnd(rng, [1, 4, 2])]);
  });
  it('3-D x 2-D (shared weight)', () => check(r.matmul, [rnd(rng, [2, 3, 4]), rnd(rng, [4, 5])]));
  it('2-D x 3-D', () => check(r.matmul, [rnd(rng, [3, 4]), rnd(rng, [2, 4, 5])]));
  it('linear (x Wᵀ + b), with and without bias', () => {
    check((x, w, b) => r.linear(x, w, b), [rnd(rng, [2, 3, 4]), rnd(rng, [5, 4]), rnd(rng, [5])]);
    check((x, w) => r.linear(x, w), [rnd(rng, [3, 4]), rnd(rng, [2, 4])]);
  });
});

describe('layout ops', () => {
  it('reshape', () => check((x) => r.mul(r.reshape(x, [3, -1]), r.arange(4)), [rnd(rng, [2, 6])]));
  it('transpose and permute', () => {
    check((x) => r.mul(r.transpose(x, 0, 2), r.arange(24).reshape([4, 3, 2])), [rnd(rng, [2, 3, 4])]);
    check((x) => r.permute(x, [2, 0, 1]), [rnd(rng, [2, 3, 4])]);
  });
  it('slice and narrow', () => {
    check((x) => r.slice(x, 1, 1, 4, 2), [rnd(rng, [2, 5, 3])]);
    check((x) => r.slice(x, -1, -2), [rnd(rng, [3, 4])]);
    check((x) => r.narrow(x, 0, 1, 2), [rnd(rng, [4, 2])]);
  });
  it('concat and stack', () => {
    check((a, b) => r.concat([a, b, a], 1), [rnd(rng, [2, 1, 3]), rnd(rng, [2, 4, 3])]);
    check((a, b) => r.stack([a, b], 1), [rnd(rng, [2, 3]), rnd(rng, [2, 3])]);
  });
  it('split and chunk', () => {
    check(
      (x) => {
        const [p, q] = r.split(x, [1, 3], 1);
        return r.mul(r.sum(p, 1, true), q);
      },
      [rnd(rng, [2, 4])],
    );
    check(
      (x) => {
        const parts = r.chunk(x, 3, 0);
        return r.concat([parts[2], parts[0]], 0);
      },
      [rnd(rng, [5, 2])],
    );
  });
  it('unsqueeze, squeeze, expand, clone', () => {
    check((x) => r.expand(r.unsqueeze(x, 0), [3, 2, 4]), [rnd(rng, [2, 4])]);
    check((x) => r.squeeze(r.clone(x)), [rnd(rng, [1, 3, 1])]);
    check((x) => r.expand(x, [2, -1, 3]), [rnd(rng, [4, 1])]);
  });
});

describe('reductions', () => {
  for (const op of ['sum', 'mean'] as const) {
    it(`${op} over all, one dim, several dims, keepdim`, () => {
      const x = rnd(rng, [2, 3, 4]);
      check((t) => r[op](t), [x]);
      check((t) => r[op](t, 1), [x]);
      check((t) => r[op](t, -1, true), [x]);
      check((t) => r[op](t, [0, 2]), [x]);
      check((t) => r[op](t, [0, 1], true), [x]);
      check((t) => r[op](t, 0), [rnd(rng, [1, 3])]);
    });
  }
  it('max (distinct values, so the argmax is unambiguous)', () => {
    const distinct = (shape: number[]): Tensor => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = rng.shuffle(Array.from({ length: n }, (_, i) => i * 0.1 - 1));
      return r.tensor(v, shape, { requiresGrad: true });
    };
    const x = distinct([3, 4, 2]);
    check((t) => r.max(t), [x]);
    check((t) => r.max(t, 1), [x]);
    check((t) => r.max(t, 0, true), [x]);
    check((t) => r.max(t, [0, 2]), [x]);
  });
});

describe('softmax family and losses', () => {
  it('softmax and logSoftmax over the last dim', () => {
    check((x) => r.softmax(x), [rnd(rng, [3, 5], -3, 3)]);
    check((x) => r.logSoftmax(x), [rnd(rng, [2, 2, 4], -3, 3)]);
    check((x) => r.softmax(x), [rnd(rng, [4, 1])]);
  });
  it('softmax over another dim', () => check((x) => r.logSoftmax(x, 0), [rnd(rng, [3, 4])]));
  it('crossEntropy: mean, sum, none, ignoreIndex', () => {
    const logits = rnd(rng, [5, 4], -2, 2);
    check((x) => r.crossEntropy(x, [0, 3, 1, 1, 2]), [logits]);
    check((x) => r.crossEntropy(x, [0, 3, 1, 1, 2], { reduction: 'sum' }), [logits]);
    check((x) => r.crossEntropy(x, [0, 3, 1, 1, 2], { reduction: 'none' }), [logits]);
    check((x) => r.crossEntropy(x, [0, -100, 1, -100, 2]), [logits]);
    check((x) => r.crossEntropy(x, [0, 9, 1, 9, 2], { ignoreIndex: 9, reduction: 'sum' }), [logits]);
  });
  it('crossEntropy over [batch, time, classes]', () => {
    check(
      (x) =>
        r.crossEntropy(x, [
          [0, 1, 2],
          [2, 2, 0],
        ]),
      [rnd(rng, [2, 3, 3], -2, 2)],
    );
  });
  it('mseLoss', () => {
    check((a, b) => r.mseLoss(a, b), [rnd(rng, [3, 2]), rnd(rng, [3, 2])]);
    check((a, b) => r.mseLoss(a, b, { reduction: 'sum' }), [rnd(rng, [4]), rnd(rng, [4])]);
    check((a, b) => r.mseLoss(a, b, { reduction: 'none' }), [rnd(rng, [2, 2]), rnd(rng, [2, 2])]);
  });
});

describe('indexing, dropout, where', () => {
  it('embedding with repeated indices (scatter-add)', () => {
    check(
      (w) =>
        r.embedding(w, [
          [1, 0, 1],
          [3, 1, 1],
        ]),
      [rnd(rng, [4, 3])],
    );
  });
  it('indexSelect along a middle dim', () => check((x) => r.indexSelect(x, 1, [2, 0, 2]), [rnd(rng, [2, 3, 2])]));
  it('dropout with a fixed mask', () => {
    // the same seed each call, so finite differences see the same mask
    check((x) => r.dropout(x, 0.4, { rng: new Rng(3) }), [rnd(rng, [4, 5])]);
  });
  it('where and maskedFill with broadcasting', () => {
    // constants are made inside the function so they live on gradcheck's float64 backend
    const cond = (): Tensor => r.tensor([1, 0, 1]);
    check((a, b) => r.where(cond(), a, b), [rnd(rng, [2, 3]), rnd(rng, [3])]);
    check((a) => r.maskedFill(a, r.tensor([[1], [0]]), -5), [rnd(rng, [2, 3])]);
    check((b) => r.where(cond(), 2, b), [rnd(rng, [1])]);
  });
});

describe('composites', () => {
  it('a two-layer network with shared use of a weight', () => {
    check(
      (x, w1, b1, w2) => {
        const h = r.tanh(r.add(r.matmul(x, w1), b1));
        return r.crossEntropy(r.matmul(r.mul(h, h), w2), [0, 2, 1]);
      },
      [rnd(rng, [3, 4]), rnd(rng, [4, 5]), rnd(rng, [5]), rnd(rng, [5, 3])],
    );
  });
  it('a value used many times (diamond graph)', () => {
    check(
      (x) => {
        const a = r.sigmoid(x);
        return r.add(r.mul(a, a), r.mul(r.exp(a), a));
      },
      [rnd(rng, [3])],
    );
  });
});
