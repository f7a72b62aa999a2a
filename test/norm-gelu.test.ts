/**
 * rmsNorm and gelu: gradients against finite differences (gradcheck, float64),
 * then each float32 backend's values and gradients against those float64 ones,
 * values against PyTorch 1.13 on each backend, and their layers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { GELU, RMSNorm, Rng, gradcheck, type Tensor } from '../src/index.js';
import { assertClose, rnd, rndAway } from './helpers.js';
import { GELU_TANH } from '../src/backend/kernel-constants.js';

const rng = new Rng(11);

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const res = gradcheck(fn, inputs);
  assert.ok(res.checked > 0, 'gradcheck compared no elements');
}

/**
 * Run fn on the backend with the inputs copied there, and return its output and
 * every input's gradient under loss = sum(fn(...) * weights), fixed weights as
 * gradcheck uses (so each backend's fused kernels, not only js-f64's, are checked).
 */
function valuesAndGrads(backend: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): number[][] {
  return r.withBackend(backend, () => {
    const xs = inputs.map((t) => r.tensor(Array.from(t.data), t.shape, { requiresGrad: true }));
    const y = fn(...xs);
    const wrng = new Rng(5);
    const w = r.tensor(
      Array.from({ length: y.size }, () => wrng.uniform(-1, 1)),
      y.shape,
    );
    r.sum(r.mul(y, w)).backward();
    return [Array.from(y.data), ...xs.map((x) => Array.from(x.grad!.data))];
  });
}

/** Each float32 backend against js-f64 (whose gradients gradcheck checks against finite differences). */
function agreesOnEachBackend(what: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const want = valuesAndGrads('js-f64', fn, inputs);
  for (const backend of ['js', 'wasm']) {
    const got = valuesAndGrads(backend, fn, inputs);
    got.forEach((g, i) => assertClose(g, want[i], 2e-6, 1e-4, `${backend} ${what} ${i === 0 ? 'output' : `gradient of input ${i - 1}`}`));
  }
}

describe('rmsNorm', () => {
  it('gradients of x and weight: 1-D, 2-D, 3-D, a row of one, a large and a zero eps', () => {
    for (const shape of [[5], [3, 4], [2, 3, 6], [4, 1]]) {
      const d = shape[shape.length - 1];
      check((x, w) => r.rmsNorm(x, w), [rnd(rng, shape), rnd(rng, [d])]);
    }
    check((x, w) => r.rmsNorm(x, w, 0.5), [rnd(rng, [3, 4]), rnd(rng, [4])]);
    check((x, w) => r.rmsNorm(x, w, 0), [rndAway(rng, [2, 5]), rnd(rng, [5])]);
  });
  it('gradient of x without a weight, and with a weight that needs none', () => {
    check((x) => r.rmsNorm(x, null), [rnd(rng, [3, 5])]);
    const w = rnd(rng, [5], -1, 1, false);
    check((x) => r.rmsNorm(x, r.tensor(w.data)), [rnd(rng, [2, 5])]);
  });
  it('on js and wasm, values and gradients agree with float64 (with and without weight, d with a SIMD tail, one row, many rows)', () => {
    for (const shape of [[7], [3, 5], [2, 4, 8], [64, 37]]) {
      const d = shape[shape.length - 1];
      agreesOnEachBackend(`rmsNorm ${shape}`, (x, w) => r.rmsNorm(x, w), [rnd(rng, shape, -2, 2), rnd(rng, [d])]);
      agreesOnEachBackend(`rmsNorm ${shape} without weight`, (x) => r.rmsNorm(x, null), [rnd(rng, shape, -2, 2)]);
    }
  });
  it('gradient inside a graph: the output used twice, then a loss', () => {
    check(
      (x, w) => {
        const y = r.rmsNorm(x, w);
        return r.crossEntropy(r.mul(y, r.tanh(y)), [1, 0, 3]);
      },
      [rnd(rng, [3, 4]), rnd(rng, [4])],
    );
  });
  for (const backend of ['js', 'wasm'] as const) {
    it(`${backend}: values as PyTorch computes x * rsqrt(mean(x², -1) + 1e-5) * w`, () => {
      r.withBackend(backend, () => {
        const x = r.tensor([
          [0.5, -1.25, 2.0],
          [3.0, 0.1, -0.7],
        ]);
        const y = r.rmsNorm(x, r.tensor([1.5, -0.5, 0.75]));
        // torch 1.13, float64: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
        assertClose(
          y.data,
          [0.5388145155930464, 0.4490120963275387, 1.0776290311860928, 2.5287776984668335, -0.02809752998296482, -0.2950240648211306],
          1e-6,
          1e-5,
        );
        // small values, where eps matters: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 0.01)
        assertClose(r.rmsNorm(r.tensor([[0.05, -0.1, 0.2]]), null, 0.01).data, [0.30151134457776363, -0.6030226891555273, 1.2060453783110545], 1e-6, 1e-5);
      });
    });
  }
  it('bad shapes and eps are one sentence', () => {
    assert.throws(() => r.rmsNorm(r.ones([2, 3]), r.ones([2])), /rmsNorm: weight has shape \[2\] but x's last dimension is 3/);
    assert.throws(() => r.rmsNorm(r.tensor(1), null), /rmsNorm: x must have at least one dimension/);
    assert.throws(() => r.rmsNorm(r.ones([3]), null, -1), /rmsNorm: eps must be a number of at least 0, got -1/);
  });
  it('RMSNorm: weight of ones named weight, rows of RMS 1, learns its scale', () => {
    const norm = new RMSNorm(4);
    assert.deepEqual(Object.keys(norm.stateDict()), ['weight']);
    assert.deepEqual(Array.from(norm.weight.data), [1, 1, 1, 1]);
    const y = norm.forward(rnd(rng, [3, 4], -5, 5, false));
    for (let i = 0; i < 3; i++) {
      const row = Array.from(y.data.subarray(i * 4, i * 4 + 4));
      assert.ok(Math.abs(Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 4) - 1) < 1e-4, `row ${i}: ${row}`);
    }
    r.sum(norm.forward(rnd(rng, [2, 4]))).backward();
    assert.ok(norm.weight.grad !== null);
    assert.throws(() => new RMSNorm(0), /RMSNorm: dim must be a positive integer, got 0/);
  });
});

describe('gelu', () => {
  it("its constants are PyTorch's tanh approximation: √(2/π) and 0.044715", () => {
    assert.ok(Math.abs(GELU_TANH.C - Math.sqrt(2 / Math.PI)) < 1e-15);
    assert.equal(GELU_TANH.A, 0.044715);
  });
  it('gradients, including around 0 and in both tails', () => {
    check(r.gelu, [rnd(rng, [3, 4], -4, 4)]);
    check(r.gelu, [r.tensor([-6, -2.5, -0.3, 0, 0.01, 1.7, 5], [7], { requiresGrad: true })]);
    check((x) => r.mul(r.gelu(x), x), [rnd(rng, [2, 5])]);
  });
  it('on js and wasm, values and gradients agree with float64 (n with a SIMD tail, one value, many)', () => {
    for (const shape of [[1], [3, 5], [16], [40, 53]]) agreesOnEachBackend(`gelu ${shape}`, r.gelu, [rnd(rng, shape, -4, 4)]);
  });
  for (const backend of ['js', 'wasm'] as const) {
    it(`${backend}: values as PyTorch's gelu(x, approximate='tanh')`, () => {
      r.withBackend(backend, () => {
        const y = r.gelu(r.tensor([-3, -1, -0.2, 0, 0.5, 2.5]));
        // torch 1.13, float64: torch.nn.functional.gelu(x, approximate='tanh')
        assertClose(y.data, [-0.0036373920817729943, -0.15880800939172324, -0.08414857021789374, 0, 0.34571400982514394, 2.484915733910001], 1e-6, 1e-5);
        assert.deepEqual(new GELU().forward(r.tensor([[-1, 2.5]])).shape, [1, 2]);
      });
    });
  }
});
