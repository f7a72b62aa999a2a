/** The fused recurrent op: finite-difference gradchecks (float64) and agreement with the composed path. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { GRU, LSTM, RNN, Rng, gradcheck, type Tensor } from '../src/index.js';
import { recurrentLayer } from '../src/ops/recurrent.js';
import { CELL_KIND_NAMES, CELL_KINDS, fusedCell, type Nonlinearity } from '../src/nn/rnn/kinds.js';
import { rnd, assertClose } from './helpers.js';

const rng = new Rng(5);

describe('fused recurrent op gradchecks', () => {
  // every fused kernel of every registered step kind (the scan kinds' kernels are gradchecked in scan.test.ts)
  const cells = CELL_KIND_NAMES.filter((k) => CELL_KINDS[k].fused).flatMap((k) =>
    (['tanh', 'relu', 'sigmoid'] as Nonlinearity[]).map((nl) => fusedCell(k, nl)),
  );
  for (const cell of cells.filter((c, i) => cells.findIndex((d) => d.kind === c.kind) === i)) {
    const kind = cell.kind;
    for (const [reverse, lengths] of [
      [false, null],
      [true, null],
      [false, [3, 1]],
      [true, [2, 3]],
    ] as const) {
      it(`${kind}${reverse ? ' reverse' : ''}${lengths ? ' with lengths' : ''}`, () => {
        const [B, T, I, H] = [2, 3, 2, 3];
        const gh = cell.gates * H;
        const inputs = [rnd(rng, [B, T, I]), rnd(rng, [B, H]), rnd(rng, [gh, I]), rnd(rng, [gh, H]), rnd(rng, [gh]), rnd(rng, [gh])];
        if (cell.cellState) inputs.push(rnd(rng, [B, H]));
        gradcheck((x, h0, wih, whh, bih, bhh, c0) => {
          const res = recurrentLayer({ cell, x, h0, c0: c0 ?? null, w: { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh }, lengths, reverse });
          // every result takes part: outputs, final h, final c
          let out: Tensor = r.add(r.sum(res.output, 1), res.h);
          if (res.c) out = r.add(out, r.mul(res.c, 0.7));
          return out;
        }, inputs);
      });
    }
  }
});

describe("fused LSTM gradchecks with TensorFlow's options (peepholes, a forget-gate offset)", () => {
  const cell = fusedCell('lstm');
  for (const [peepholes, offset] of [
    [true, 0],
    [false, 1.5],
    [true, -0.7],
  ] as const) {
    for (const [reverse, lengths] of [
      [false, null],
      [true, [2, 3]],
    ] as const) {
      const what = `${peepholes ? 'peepholes' : 'no peepholes'}, offset ${offset}${reverse ? ', reverse' : ''}${lengths ? ', with lengths' : ''}`;
      it(`${what}: inputs, weights${peepholes ? ' and the three peephole vectors' : ''}`, () => {
        const [B, T, I, H] = [2, 3, 2, 3];
        const G = cell.gates * H;
        const inputs = [rnd(rng, [B, T, I]), rnd(rng, [B, H]), rnd(rng, [B, H]), rnd(rng, [G, I]), rnd(rng, [G, H]), rnd(rng, [G]), rnd(rng, [G])];
        if (peepholes) inputs.push(rnd(rng, [H]), rnd(rng, [H]), rnd(rng, [H]));
        gradcheck((x, h0, c0, wih, whh, bih, bhh, wci, wcf, wco) => {
          const res = recurrentLayer({
            cell,
            x,
            h0,
            c0,
            w: { weightIh: wih, weightHh: whh, biasIh: bih, biasHh: bhh },
            lengths,
            reverse,
            lstm: { peepholes: wci ? { weightCi: wci, weightCf: wcf, weightCo: wco } : null, forgetGateOffset: offset },
          });
          return r.add(r.add(r.sum(res.output, 1), res.h), r.mul(res.c!, 0.7));
        }, inputs);
      });
    }
  }
});

describe('fused path agrees with the composed path', () => {
  const configs = [
    () => new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, rng: new Rng(1) }),
    // H = 6: the wasm kernels' SIMD tail too
    () => new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, peepholes: true, forgetGateOffset: 1.25, rng: new Rng(4) }),
    () => new LSTM({ inputSize: 3, hiddenSize: 4, forgetGateOffset: -2, rng: new Rng(5) }),
    () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 3, rng: new Rng(2) }),
    () => new RNN({ inputSize: 3, hiddenSize: 6, bidirectional: true, nonlinearity: 'relu', rng: new Rng(3) }),
  ];
  for (const make of configs) {
    const layer = make();
    const extras = `${layer.peepholesEnabled ? ', peepholes' : ''}${layer.forgetGateOffset ? `, forget-gate offset ${layer.forgetGateOffset}` : ''}`;
    it(`${layer.spec.name} ${layer.numLayers} layers${layer.bidirectional ? ' bidirectional' : ''}${extras}: outputs, states and gradients`, () => {
      const x = r.randn([4, 7, 3], { rng });
      const lengths = [7, 3, 5, 1];
      const run = (path: 'fused' | 'composed') => {
        layer.zeroGrad();
        const xi = r.tensor(Array.from(x.data), x.shape, { requiresGrad: true });
        const { output, state } = layer.forward(xi, { lengths, path });
        const loss = r.add(r.sum(r.tanh(output)), r.sum(r.mul(state.h, state.h)));
        loss.backward();
        return {
          out: Array.from(output.data),
          h: Array.from(state.h.data),
          gx: Array.from(xi.grad!.data),
          gw: layer.parameters().map((p) => Array.from(p.grad!.data)),
        };
      };
      const f = run('fused'),
        c = run('composed');
      assertClose(f.out, c.out, 1e-5, 1e-4, 'output');
      assertClose(f.h, c.h, 1e-5, 1e-4, 'h');
      assertClose(f.gx, c.gx, 1e-5, 1e-4, 'dx');
      f.gw.forEach((g, i) => assertClose(g, c.gw[i], 1e-5, 1e-4, `param ${i}`));
    });
  }
  it('inference under noGrad builds no graph and frees the saved buffers', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const { output } = r.noGrad(() => lstm.forward(r.randn([2, 4, 2])));
    assert.equal(output.requiresGrad, false);
  });
  it('a bad path name is an error', () => {
    assert.throws(
      () => new GRU({ inputSize: 1, hiddenSize: 1 }).forward(r.zeros([1, 1, 1]), { path: 'fast' as 'fused' }),
      /path must be 'fused' or 'composed'/,
    );
  });
});
