import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { assertClose } from './helpers.js';

describe('backward', () => {
  it('sums gradients over every path (diamond graph)', () => {
    const x = r.tensor([2], undefined, { requiresGrad: true });
    const a = x.mul(3); // 6
    const b = x.mul(x); // 4
    const y = a.mul(b).add(a); // 3x*x^2 + 3x -> dy/dx = 9x^2 + 3 = 39
    y.sum().backward();
    assertClose(x.grad!.data, [39]);
  });
  it('the same tensor used twice as both operands', () => {
    const x = r.tensor([3, -1], undefined, { requiresGrad: true });
    x.mul(x).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, -2]);
  });
  it('two leaves receiving the same gradient get separate tensors', () => {
    const a = r.tensor([1, 2], undefined, { requiresGrad: true });
    const b = r.tensor([3, 4], undefined, { requiresGrad: true });
    a.add(b).sum().backward();
    assert.notEqual(a.grad, b.grad);
    a.grad!.data[0] = 100;
    assert.equal(b.grad!.data[0], 1);
  });
  it('gradients accumulate across backward calls until zeroGrad', () => {
    const w = r.tensor([1, 2], undefined, { requiresGrad: true });
    w.mul(2).sum().backward();
    w.mul(3).sum().backward();
    assert.deepEqual(w.grad!.toArray(), [5, 5]);
    w.zeroGrad();
    assert.equal(w.grad, null);
  });
  it('a second backward through a freed graph is a clear error; retainGraph allows it', () => {
    const x = r.tensor([1, 2], undefined, { requiresGrad: true });
    const y = x.tanh().sum();
    y.backward();
    assert.throws(() => y.backward(), /already been freed.*retainGraph/);
    x.zeroGrad();
    const z = x.sigmoid().sum();
    z.backward(undefined, { retainGraph: true });
    const once = Array.from(x.grad!.data);
    z.backward();
    assertClose(
      x.grad!.data,
      once.map((v) => 2 * v),
    );
  });
  it('non-scalar outputs need an explicit gradient of matching shape', () => {
    const x = r.tensor([1, 2, 3], undefined, { requiresGrad: true });
    const y = x.mul(2);
    assert.throws(() => y.backward(), /only be implied for a one-element output/);
    assert.throws(() => y.backward(r.ones([2])), /grad shape \[2\] does not match the output shape \[3\]/);
    y.backward(r.tensor([1, 0, 2]));
    assert.deepEqual(x.grad!.toArray(), [2, 0, 4]);
  });
  it('backward on something that does not require grad is an error', () => {
    assert.throws(() => r.ones([1]).mul(2).backward(), /does not require grad/);
  });
  it('a deep chain (an unrolled loop of 20,000 ops) does not overflow the stack', () => {
    const x = r.tensor([0.5], undefined, { requiresGrad: true });
    let h = x;
    for (let i = 0; i < 20000; i++) h = h.mul(1.0001);
    h.sum().backward();
    assertClose(x.grad!.data, [Math.pow(1.0001, 20000)], 1e-4, 1e-3);
  });
  it('only leaves keep .grad; intermediates do not', () => {
    const x = r.tensor([1], undefined, { requiresGrad: true });
    const h = x.mul(2);
    h.mul(3).sum().backward();
    assert.equal(h.grad, null);
    assert.deepEqual(x.grad!.toArray(), [6]);
  });
});

describe('grad modes', () => {
  it('noGrad builds no graph', () => {
    const x = r.tensor([1], undefined, { requiresGrad: true });
    const y = r.noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.equal(r.isGradEnabled(), true);
  });
  it('noGrad restores the mode after an exception', () => {
    assert.throws(() =>
      r.noGrad(() => {
        throw new Error('boom');
      }),
    );
    assert.equal(r.isGradEnabled(), true);
  });
  it('detach cuts the graph but shares the data', () => {
    const x = r.tensor([1, 2], undefined, { requiresGrad: true });
    const h = x.mul(2);
    const d = h.detach();
    assert.equal(d.requiresGrad, false);
    assert.deepEqual(d.toArray(), [2, 4]);
    const y = d.mul(x).sum(); // gradient reaches x only through the second operand
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4]);
  });
  it('tensors that do not require grad get no gradient', () => {
    const a = r.tensor([1, 2], undefined, { requiresGrad: true });
    const b = r.tensor([3, 4]);
    a.mul(b).sum().backward();
    assert.equal(b.grad, null);
    assert.deepEqual(a.grad!.toArray(), [3, 4]);
  });
});

describe('memory: dispose and tidy', () => {
  it('a disposed tensor cannot be used and says so', () => {
    const t = r.ones([2]);
    t.dispose();
    t.dispose(); // idempotent
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.data, /was disposed/);
    assert.throws(() => t.add(1), /was disposed/);
  });
  it('views share storage until the last one is disposed', () => {
    const t = r.arange(6);
    const v = t.reshape(2, 3);
    t.dispose();
    assert.deepEqual(v.toArray(), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });
  it('tidy frees everything made inside except what it returns', () => {
    const outside = r.ones([3]);
    let inner: r.Tensor | null = null;
    const result = r.tidy(() => {
      inner = outside.mul(2);
      return inner.add(1);
    });
    assert.equal(inner!.isDisposed, true);
    assert.equal(result.isDisposed, false);
    assert.equal(outside.isDisposed, false);
    assert.deepEqual(result.toArray(), [3, 3, 3]);
  });
  it("tidy keeps what the returned tensor's graph still needs for backward", () => {
    const w = r.tensor([1, 2], undefined, { requiresGrad: true });
    const loss = r.tidy(() => w.mul(w).tanh().sum());
    loss.backward();
    assert.equal(w.grad!.size, 2);
  });
  it('gradients and kept tensors survive the scope that made them', () => {
    const w = r.tensor([1, 2], undefined, { requiresGrad: true });
    let kept: r.Tensor | null = null;
    r.tidy(() => {
      w.mul(3).sum().backward();
      kept = r.ones([2]).keep();
      return undefined;
    });
    assert.deepEqual(w.grad!.toArray(), [3, 3]);
    assert.equal(kept!.isDisposed, false);
  });
  it('nested scopes hand survivors to the outer scope', () => {
    let mid: r.Tensor | null = null;
    r.tidy(() => {
      mid = r.tidy(() => r.ones([1]).add(1));
      assert.equal(mid.isDisposed, false);
      return 0;
    });
    assert.equal(mid!.isDisposed, true);
  });
  it('tidy frees tensors when the function throws', () => {
    let t: r.Tensor | null = null;
    assert.throws(() =>
      r.tidy(() => {
        t = r.ones([2]);
        throw new Error('x');
      }),
    );
    assert.equal(t!.isDisposed, true);
  });
  it('a training step in tidy keeps the live tensor count flat', () => {
    // Count live tensors through a FinalizationRegistry-free proxy: tensors made per step must all be disposed.
    const w = r.randn([4, 3], { requiresGrad: true });
    const x = r.randn([5, 4]);
    const made: r.Tensor[] = [];
    const step = (): number =>
      r.tidy(() => {
        const h = r.tanh(r.matmul(x, w));
        const loss = r.crossEntropy(h, [0, 1, 2, 0, 1]);
        loss.backward();
        made.push(h, loss);
        return loss.item();
      });
    step();
    w.zeroGrad();
    step();
    assert.ok(made.every((t) => t.isDisposed));
    assert.equal(w.grad!.isDisposed, false);
  });
});
