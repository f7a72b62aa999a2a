/** minGRU / minLSTM: the scan op's gradchecks (float64), fused against composed paths, and the layers' PyTorch-style contract. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { MinGRU, MinLSTM, Rng, gradcheck } from '../src/index.js';
import { scanLayer } from '../src/ops/scan.js';
import { CELL_KINDS } from '../src/nn/rnn/kinds.js';
import type { ScanKind } from '../src/backend/backend.js';
import { rnd, assertClose } from './helpers.js';

const rng = new Rng(17);
const SCAN_KINDS: ScanKind[] = ['mingru', 'minlstm'];

describe('scan op gradchecks', () => {
  for (const kind of SCAN_KINDS) {
    for (const [reverse, lengths] of [
      [false, null],
      [true, null],
      [false, [3, 1]],
      [true, [2, 3]],
    ] as const) {
      it(`${kind}${reverse ? ' reverse' : ''}${lengths ? ' with lengths' : ''}`, () => {
        const [B, T, I, H] = [2, 3, 2, 3];
        const gates = CELL_KINDS[kind].gates.length;
        const G = gates * H;
        const res = gradcheck(
          (x, h0, wih, bih) => {
            const o = scanLayer({ kind, gates, x, h0, weightIh: wih, biasIh: bih, lengths, reverse });
            // both results take part: every output, and the final h
            return r.add(r.sum(r.mul(o.output, o.output), 1), r.mul(o.h, 0.7));
          },
          [rnd(rng, [B, T, I]), rnd(rng, [B, H]), rnd(rng, [G, I]), rnd(rng, [G])],
        );
        assert.ok(res.checked > 0);
      });
    }
  }
  it('minLSTM at saturated gates (both f and i below 1e-40) stays finite and mixes by their ratio', () => {
    // f' = f / (f + i) computed as σ(logσ(p_f) - logσ(p_i)): p_f = -100, p_i = -101 gives f' = σ(1)
    const x = r.tensor([1], [1, 1, 1]);
    const w = r.tensor([-100, -101, 2], [3, 1]);
    const h0 = r.tensor([1], [1, 1]);
    const o = scanLayer({ kind: 'minlstm', gates: 3, x, h0, weightIh: w, biasIh: null, lengths: null, reverse: false });
    const fp = 1 / (1 + Math.exp(-1));
    assertClose(Array.from(o.h.data), [fp * 1 + (1 - fp) * 2], 1e-6, 1e-5, 'h');
  });
});

describe('MinGRU and MinLSTM layers', () => {
  const configs = [
    () => new MinGRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, rng: new Rng(1) }),
    () => new MinLSTM({ inputSize: 3, hiddenSize: 4, numLayers: 3, rng: new Rng(2) }),
    () => new MinLSTM({ inputSize: 3, hiddenSize: 6, bidirectional: true, rng: new Rng(3) }),
  ];
  for (const make of configs) {
    const layer = make();
    it(`${layer.spec.name} ${layer.numLayers} layers${layer.bidirectional ? ' bidirectional' : ''}: fused and composed paths agree (outputs, states, gradients)`, () => {
      const x = r.randn([4, 7, 3], { rng });
      const h0 = r.randn([layer.numLayers * layer.directions, 4, layer.hiddenSize], { rng });
      const lengths = [7, 3, 5, 1];
      const run = (path: 'fused' | 'composed') => {
        layer.zeroGrad();
        const xi = r.tensor(Array.from(x.data), x.shape, { requiresGrad: true });
        const hi = r.tensor(Array.from(h0.data), h0.shape, { requiresGrad: true });
        const { output, state } = layer.forward(xi, { lengths, path, state: { h: hi } });
        const loss = r.add(r.sum(r.tanh(output)), r.sum(r.mul(state.h, state.h)));
        loss.backward();
        return {
          out: Array.from(output.data),
          h: Array.from(state.h.data),
          gx: Array.from(xi.grad!.data),
          gh0: Array.from(hi.grad!.data),
          gw: layer.parameters().map((p) => Array.from(p.grad!.data)),
        };
      };
      const f = run('fused'),
        c = run('composed');
      assertClose(f.out, c.out, 1e-5, 1e-4, 'output');
      assertClose(f.h, c.h, 1e-5, 1e-4, 'h');
      assertClose(f.gx, c.gx, 1e-5, 1e-4, 'dx');
      assertClose(f.gh0, c.gh0, 1e-5, 1e-4, 'dh0');
      f.gw.forEach((g, i) => assertClose(g, c.gw[i], 1e-5, 1e-4, `param ${i}`));
    });
  }
  it("PyTorch's names and shapes: weight_ih_l{k} [G*H, in] and bias_ih_l{k}, no hidden-to-hidden weights", () => {
    const g = new MinGRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const shapes = Object.fromEntries(g.namedParameters().map(([n, p]) => [n, p.shape]));
    assert.deepEqual(shapes, {
      weight_ih_l0: [8, 3],
      bias_ih_l0: [8],
      weight_ih_l0_reverse: [8, 3],
      bias_ih_l0_reverse: [8],
      weight_ih_l1: [8, 8],
      bias_ih_l1: [8],
      weight_ih_l1_reverse: [8, 8],
      bias_ih_l1_reverse: [8],
    });
    const m = new MinLSTM({ inputSize: 2, hiddenSize: 5, bias: false });
    assert.deepEqual(
      m.namedParameters().map(([n, p]) => [n, p.shape]),
      [['weight_ih_l0', [15, 2]]],
    );
  });
  it('outputs past a sequence end are zero and its final state is the one at its last valid step', () => {
    const layer = new MinGRU({ inputSize: 2, hiddenSize: 3, rng: new Rng(4) });
    const x = r.randn([2, 5, 2], { rng });
    const full = layer.forward(r.narrow(x, 1, 0, 2)).state.h;
    const { output, state } = layer.forward(x, { lengths: [5, 2] });
    assertClose(Array.from(r.narrow(state.h, 1, 1, 1).data), Array.from(r.narrow(full, 1, 1, 1).data), 1e-6, 1e-6, 'h at step 2');
    assert.deepEqual(Array.from(r.narrow(r.narrow(output, 0, 1, 1), 1, 2, 3).data), new Array(9).fill(0));
  });
  it('a state carried across two windows equals one pass over both (stateful truncated BPTT)', () => {
    const layer = new MinLSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, rng: new Rng(6) });
    const x = r.randn([2, 6, 2], { rng });
    const whole = layer.forward(x);
    const a = layer.forward(r.narrow(x, 1, 0, 4));
    const b = layer.forward(r.narrow(x, 1, 4, 2), { state: a.state });
    assertClose(Array.from(b.state.h.data), Array.from(whole.state.h.data), 1e-6, 1e-5, 'h');
    assertClose(Array.from(b.output.data), Array.from(r.narrow(whole.output, 1, 4, 2).data), 1e-6, 1e-5, 'outputs');
  });
  it('an LSTM cell state is refused', () => {
    const layer = new MinGRU({ inputSize: 1, hiddenSize: 2 });
    assert.throws(() => layer.forward(r.zeros([1, 2, 1]), { state: { h: r.zeros([1, 1, 2]), c: r.zeros([1, 1, 2]) } }), /only an LSTM takes a cell state c/);
  });
});
