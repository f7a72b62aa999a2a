/**
 * The first steps of each optimizer against values worked out by hand from
 * PyTorch's update rules (the arithmetic is in the comments), plus resuming
 * from a state dict, clipping and schedules. Parameter starts at 1 (and -2 for
 * two-element cases); gradients are fed directly.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import {
  SGD,
  Adagrad,
  RMSprop,
  Adam,
  AdamW,
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  clipGradNorm,
  clipGradValue,
  getBackend,
  setBackend,
  type Optimizer,
  type Tensor,
} from '../src/index.js';
import type { Backend } from '../src/internal.js';
import { assertClose } from './helpers.js';

/** Run an optimizer over a parameter with the given gradient sequence; return the value after each step. */
function run(values: number[], grads: number[][], make: (p: Tensor) => Optimizer): number[][] {
  const p = r.tensor(values, undefined, { requiresGrad: true });
  const opt = make(p);
  return grads.map((g) => {
    p.grad = r.tensor(g);
    opt.step();
    return Array.from(p.data);
  });
}

const close = (got: number[][], want: number[][]): void => got.forEach((g, i) => assertClose(g, want[i], 1e-6, 1e-6, `step ${i + 1}`));

// each backend's update rules (the js backend's is the reference the conformance suite compares the others with)
for (const backend of ['js', 'wasm'] as const) {
  describe(`optimizer steps against hand-computed values (${backend} backend)`, () => {
    let before: Backend;
    beforeEach(() => {
      before = getBackend();
      setBackend(backend);
    });
    afterEach(() => {
      setBackend(before);
    });
    it('SGD', () => {
      // p -= 0.1 g: [1 - 0.05, -2 - 0.1] = [0.95, -2.1]; then [0.95 - 0.1, -2.1 + 0.1]
      close(
        run(
          [1, -2],
          [
            [0.5, 1],
            [1, -1],
          ],
          (p) => new SGD([p], { lr: 0.1 }),
        ),
        [
          [0.95, -2.1],
          [0.85, -2.0],
        ],
      );
    });
    it('SGD with momentum 0.9', () => {
      // step 1: buf = g = [0.5, 1] -> p = [0.95, -2.1]
      // step 2: buf = 0.9 [0.5, 1] + [1, -1] = [1.45, -0.1] -> p = [0.95 - 0.145, -2.1 + 0.01]
      close(
        run(
          [1, -2],
          [
            [0.5, 1],
            [1, -1],
          ],
          (p) => new SGD([p], { lr: 0.1, momentum: 0.9 }),
        ),
        [
          [0.95, -2.1],
          [0.805, -2.09],
        ],
      );
    });
    it('SGD with Nesterov momentum', () => {
      // step 1: buf = [0.5, 1], d = g + 0.9 buf = [0.95, 1.9] -> p = [0.905, -2.19]
      // step 2: buf = [1.45, -0.1], d = [1 + 1.305, -1 - 0.09] -> p = [0.905 - 0.2305, -2.19 + 0.109]
      close(
        run(
          [1, -2],
          [
            [0.5, 1],
            [1, -1],
          ],
          (p) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }),
        ),
        [
          [0.905, -2.19],
          [0.6745, -2.081],
        ],
      );
    });
    it('SGD with weight decay 0.1', () => {
      // d = g + 0.1 p = [0.6, 0.8] -> p = [1 - 0.06, -2 - 0.08]
      close(
        run([1, -2], [[0.5, 1]], (p) => new SGD([p], { lr: 0.1, weightDecay: 0.1 })),
        [[0.94, -2.08]],
      );
    });
    it('Adagrad (eps 1e-10 outside the root)', () => {
      // step 1: sum = [0.25, 1] -> p = [1 - 0.1*0.5/0.5, -2 - 0.1*1/1] = [0.9, -2.1]
      // step 2: sum = [1.25, 2] -> p = [0.9 - 0.1/√1.25, -2.1 + 0.1/√2] = [0.8105572809, -2.0292893219]
      close(
        run(
          [1, -2],
          [
            [0.5, 1],
            [1, -1],
          ],
          (p) => new Adagrad([p], { lr: 0.1 }),
        ),
        [
          [0.9, -2.1],
          [0.8105572809, -2.0292893219],
        ],
      );
    });
    it('Adagrad with lr decay and an initial accumulator', () => {
      // lrDecay 0.5: step 2 rate 0.1 / (1 + 0.5) -> p = 0.9 - 0.0666667/√1.25 = 0.8403715206
      close(
        run([1], [[0.5], [1]], (p) => new Adagrad([p], { lr: 0.1, lrDecay: 0.5 })),
        [[0.9], [0.8403715206]],
      );
      // initial 1: sum = 1.25 -> p = 1 - 0.05/√1.25 = 0.9552786405; then sum = 2.25 -> p -= 0.1/1.5
      close(
        run([1], [[0.5], [1]], (p) => new Adagrad([p], { lr: 0.1, initialAccumulatorValue: 1 })),
        [[0.9552786405], [0.8886119738]],
      );
    });
    it('RMSprop: plain, centered, momentum', () => {
      // sq = 0.01*0.25 = 0.0025 -> p = 1 - 0.01*0.5/0.05 = 0.9
      // sq = 0.99*0.0025 + 0.01 = 0.012475 -> p = 0.9 - 0.01/√0.012475 = 0.8104677318
      close(
        run([1], [[0.5], [1]], (p) => new RMSprop([p], { lr: 0.01 })),
        [[0.9], [0.8104677318]],
      );
      // centered: gAvg = 0.005, denom = √(0.0025 - 0.000025) -> p = 1 - 0.005/0.0497494 = 0.8994962387
      close(
        run([1], [[0.5], [1]], (p) => new RMSprop([p], { lr: 0.01, centered: true })),
        [[0.8994962387], [0.8091509785]],
      );
      // momentum: buf = 0.5/0.05 = 10 -> p = 0.9; buf = 9 + 1/√0.012475 = 17.9532 -> p = 0.7204677498
      close(
        run([1], [[0.5], [1]], (p) => new RMSprop([p], { lr: 0.01, momentum: 0.9 })),
        [[0.9], [0.7204677498]],
      );
    });
    it('Adam with bias correction', () => {
      // step 1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25 -> p = 1 - 0.1*0.5/0.5 = 0.9
      // step 2: m = 0.145, v = 0.00124975; m̂ = 0.145/0.19, v̂ = 0.00124975/0.001999 -> p = 0.8034818006
      close(
        run([1], [[0.5], [1]], (p) => new Adam([p], { lr: 0.1 })),
        [[0.9], [0.8034818006]],
      );
    });
    it('Adam with L2 weight decay and AdamW with decoupled decay', () => {
      // Adam: g' = g + 0.1 p = 0.6 -> p = 1 - 0.1 = 0.9; step 2 from g' = 1 + 0.09
      close(
        run([1], [[0.5], [1]], (p) => new Adam([p], { lr: 0.1, weightDecay: 0.1 })),
        [[0.9], [0.8025029703]],
      );
      // AdamW: p *= 1 - 0.1*0.1 -> 0.99, then - 0.1 -> 0.89
      close(
        run([1], [[0.5], [1]], (p) => new AdamW([p], { lr: 0.1, weightDecay: 0.1 })),
        [[0.89], [0.7845818006]],
      );
    });
    it('Adam with amsgrad keeps the largest second moment', () => {
      // step 2 with g = 0.01: v falls to 0.00024995 but v_max stays 0.00025
      close(
        run([1], [[0.5], [0.01]], (p) => new Adam([p], { lr: 0.1, amsgrad: true })),
        [[0.9], [0.8315394162]],
      );
      close(
        run([1], [[0.5], [0.01]], (p) => new Adam([p], { lr: 0.1 })),
        [[0.9], [0.8315188687]],
      );
    });
    it('parameters without a gradient are left alone', () => {
      const a = r.tensor([1], undefined, { requiresGrad: true });
      const b = r.tensor([2], undefined, { requiresGrad: true });
      const opt = new Adam([a, b], { lr: 0.1 });
      a.grad = r.tensor([1]);
      opt.step();
      assert.equal(b.data[0], 2);
      assert.notEqual(a.data[0], 1);
      opt.zeroGrad();
      assert.equal(a.grad, null);
    });
    it('invalid options are rejected', () => {
      const p = r.tensor([1], undefined, { requiresGrad: true });
      assert.throws(() => new SGD([p], { lr: -1 }), /lr must be a non-negative number/);
      assert.throws(() => new Adam([p], { betas: [1, 0.999] }), /beta1 must be in \[0, 1\)/);
      assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum needs momentum > 0/);
      assert.throws(() => new SGD([], {}), /no parameters/);
    });
  });
}

describe('optimizer state dicts', () => {
  for (const [name, make] of [
    ['SGD', (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
    ['Adagrad', (ps: Tensor[]) => new Adagrad(ps, { lr: 0.1 })],
    ['RMSprop', (ps: Tensor[]) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 })],
    ['Adam', (ps: Tensor[]) => new Adam(ps, { lr: 0.1, amsgrad: true })],
  ] as const) {
    it(`${name}: resuming from a state dict continues the run exactly`, () => {
      const grads = [
        [0.5, -1],
        [1, 0.2],
        [-0.3, 0.7],
        [0.9, 0.1],
        [0.2, -0.4],
      ];
      const p = r.tensor([1, -2], undefined, { requiresGrad: true });
      const opt = make([p]);
      let saved: ReturnType<Optimizer['stateDict']> | null = null;
      let pAt3: number[] = [];
      grads.forEach((g, i) => {
        p.grad = r.tensor(g);
        opt.step();
        if (i === 2) {
          saved = opt.stateDict();
          // a real checkpoint holds copies, not the live tensors
          saved = { ...saved, state: Object.fromEntries(Object.entries(saved.state).map(([k, t]) => [k, t.clone()])) };
          pAt3 = Array.from(p.data);
        }
      });
      const q = r.tensor(pAt3, undefined, { requiresGrad: true });
      const resumed = make([q]);
      resumed.loadStateDict(saved!);
      assert.equal(resumed.stepCount, 3);
      for (const g of grads.slice(3)) {
        q.grad = r.tensor(g);
        resumed.step();
      }
      assert.deepEqual(Array.from(q.data), Array.from(p.data));
    });
  }
  it("loading another optimizer's state or mismatched shapes is a clear error", () => {
    const p = r.tensor([1, 2], undefined, { requiresGrad: true });
    const adam = new Adam([p]);
    p.grad = r.tensor([1, 1]);
    adam.step();
    assert.throws(() => new SGD([p]).loadStateDict(adam.stateDict()), /saved by Adam, not SGD/);
    const q = r.tensor([1, 2, 3], undefined, { requiresGrad: true });
    assert.throws(() => new Adam([q]).loadStateDict(adam.stateDict()), /has shape \[2\] but parameter 0 is \[3\]/);
  });
});

describe('gradient clipping', () => {
  const withGrads = (...gs: number[][]): Tensor[] =>
    gs.map((g) => {
      const p = r.zeros([g.length]).requiresGrad_();
      p.grad = r.tensor(g);
      return p;
    });
  it('clipGradNorm scales to maxNorm and returns the norm before clipping', () => {
    const ps = withGrads([3, 0], [0, 4]); // global norm 5
    assertClose([clipGradNorm(ps, 1)], [5]);
    const after = Math.hypot(...ps.flatMap((p) => Array.from(p.grad!.data)));
    assertClose([after], [1], 1e-5);
    assertClose(ps[0].grad!.data, [0.6, 0], 1e-5);
  });
  it('clipGradNorm leaves small gradients alone', () => {
    const ps = withGrads([0.3, 0.4]);
    assertClose([clipGradNorm(ps, 5)], [0.5]);
    assertClose(ps[0].grad!.data, [0.3, 0.4]);
  });
  it('a non-finite norm is returned without touching the gradients, or thrown on request', () => {
    const ps = withGrads([NaN, 1]);
    assert.ok(Number.isNaN(clipGradNorm(ps, 1)));
    assert.equal(ps[0].grad!.data[1], 1);
    assert.throws(() => clipGradNorm(withGrads([Infinity]), 1, { errorIfNonfinite: true }), /total gradient norm is Infinity/);
  });
  it('clipGradValue clamps every element', () => {
    const ps = withGrads([-7, 2, 9]);
    clipGradValue(ps, 5);
    assert.deepEqual(Array.from(ps[0].grad!.data), [-5, 2, 5]);
  });
});

describe('learning-rate schedules', () => {
  const opt = (): Optimizer => new SGD([r.zeros([1]).requiresGrad_()], { lr: 1 });
  it('StepLR multiplies by gamma every stepSize epochs', () => {
    const s = new StepLR(opt(), 2, 0.5);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => s.step()),
      [1, 0.5, 0.5, 0.25, 0.25],
    );
  });
  it('ExponentialLR multiplies by gamma each epoch', () => {
    const s = new ExponentialLR(opt(), 0.9);
    assertClose([s.step(), s.step(), s.step()], [0.9, 0.81, 0.729]);
  });
  it('CosineAnnealingLR goes from the base rate to etaMin over tMax', () => {
    const s = new CosineAnnealingLR(opt(), 4, 0.1);
    // 0.1 + 0.9 (1 + cos(pi t / 4)) / 2
    assertClose(
      [1, 2, 3, 4].map(() => s.step()),
      [0.1 + 0.45 * (1 + Math.SQRT1_2), 0.55, 0.1 + 0.45 * (1 - Math.SQRT1_2), 0.1],
    );
  });
  it('a schedule resumes from its state dict', () => {
    const a = new StepLR(opt(), 2, 0.5);
    a.step();
    a.step();
    a.step();
    const o = opt();
    const b = new StepLR(o, 2, 0.5);
    b.loadStateDict(a.stateDict());
    assert.equal(o.lr, 0.5);
    assert.equal(b.step(), a.step());
  });
});

describe('optimizers minimise a quadratic end to end', () => {
  const target = [0.5, -1.5, 2];
  for (const [name, make, steps] of [
    ['SGD', (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.5 }), 100],
    ['Adagrad', (ps: Tensor[]) => new Adagrad(ps, { lr: 0.5 }), 200],
    ['RMSprop', (ps: Tensor[]) => new RMSprop(ps, { lr: 0.01 }), 400],
    ['Adam', (ps: Tensor[]) => new Adam(ps, { lr: 0.05 }), 400],
    ['AdamW', (ps: Tensor[]) => new AdamW(ps, { lr: 0.05, weightDecay: 0 }), 400],
  ] as const) {
    it(`${name} drives sum((p - t)^2) below 1e-3`, () => {
      const p = r.zeros([3]).requiresGrad_();
      const t = r.tensor(target);
      const o = make([p]);
      let loss = Infinity;
      for (let i = 0; i < steps; i++) {
        loss = r.tidy(() => {
          o.zeroGrad();
          const l = r.sum(r.pow(r.sub(p, t), 2));
          l.backward();
          o.step();
          return l.item();
        });
      }
      assert.ok(loss < 1e-3, `${name}: loss ${loss} after ${steps} steps`);
    });
  }
});
