/**
 * recur's recurrent layers against PyTorch: outputs, final states and the
 * gradients of a random linear function of them, for every cell type, 1-3
 * layers, both directions, with and without lengths and initial states.
 * Golden values: test/fixtures/rnn_golden.json (PyTorch's own modules) and
 * rnn_golden_min.json (MinGRU / MinLSTM: tools/torch_interop.py's modules on
 * PyTorch, checked there against the closed-form solution of the recurrence),
 * made by make_rnn_fixtures.py; rnn_golden_blocks.json holds block language
 * models of every cell kind (tools/torch_interop.py's BlockCharModel), whose
 * logits, final states and gradients recur's block form must give.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as r from '../src/index.js';
import { ErrorLog } from './helpers.js';
import {
  GRU,
  LSTM,
  LanguageModel,
  MinGRU,
  MinLSTM,
  RNN,
  RNNCell,
  LSTMCell,
  GRUCell,
  type LanguageModelConfig,
  type RecurrentBase,
  type RecurrentOptions,
  type Tensor,
} from '../src/index.js';

interface Param {
  shape: number[];
  data: number[];
  grad: number[];
}
/** A case's final state, the weights of the loss L = sum(out*wo) + sum(h_n*wh) [+ sum(c_n*wc)], and the initial state with its gradients when given. */
interface StateCase {
  hn: number[];
  stateShape: number[];
  wo: number[];
  wh: number[];
  cn?: number[];
  wc?: number[];
  h0?: number[];
  gradH0?: number[];
  c0?: number[];
  gradC0?: number[];
}
/** The fixtures' loss, L = sum(out*wo) + sum(h_n*wh) [+ sum(c_n*wc)], whose gradients PyTorch recorded. */
function goldenLoss(out: Tensor, outShape: number[], state: { h: Tensor; c?: Tensor }, c: StateCase): Tensor {
  const loss = r.add(r.sum(r.mul(out, r.tensor(c.wo, outShape))), r.sum(r.mul(state.h, r.tensor(c.wh, c.stateShape))));
  return c.wc ? r.add(loss, r.sum(r.mul(state.c!, r.tensor(c.wc, c.stateShape)))) : loss;
}
interface LayerCase extends StateCase {
  mode: 'RNN' | 'LSTM' | 'GRU' | 'MinGRU' | 'MinLSTM';
  nonlinearity: 'tanh' | 'relu';
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  batchFirst: boolean;
  inputSize: number;
  hiddenSize: number;
  lengths: number[] | null;
  x: { shape: number[]; data: number[] };
  params: Record<string, Param>;
  output: number[];
  outputShape: number[];
  gradX: number[];
}
interface CellCase {
  name: 'RNNCell' | 'LSTMCell' | 'GRUCell';
  nonlinearity: 'tanh' | 'relu';
  x: number[];
  h: number[];
  h1: number[];
  w1: number[];
  gradX: number[];
  gradH: number[];
  params: Record<string, Param>;
  c?: number[];
  c1?: number[];
  w2?: number[];
  gradC?: number[];
}

/** A block language model and what PyTorch computed with it: L = sum(logits*wo) + sum(h_n*wh) [+ sum(c_n*wc)] and its gradients. */
interface BlockCase extends StateCase {
  config: LanguageModelConfig;
  ids: number[][];
  params: Record<string, Param>;
  logits: number[];
  logitsShape: number[];
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/rnn_golden.json', import.meta.url), 'utf8')) as {
  torch: string;
  layers: LayerCase[];
  cells: CellCase[];
};
const goldenMin = JSON.parse(readFileSync(new URL('./fixtures/rnn_golden_min.json', import.meta.url), 'utf8')) as {
  torch: string;
  layers: LayerCase[];
};

const goldenBlocks = JSON.parse(readFileSync(new URL('./fixtures/rnn_golden_blocks.json', import.meta.url), 'utf8')) as {
  torch: string;
  models: BlockCase[];
};

/** Relative error <= 1e-4 (with a 1e-5 floor for values near zero). */
function close(got: ArrayLike<number>, want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(err <= 1e-4 * Math.abs(want[i]) + 1e-5, `${what}[${i}]: got ${got[i]}, PyTorch ${want[i]}`);
  }
}

function describeCase(c: LayerCase): string {
  return (
    `${c.mode}${c.mode === 'RNN' ? `(${c.nonlinearity})` : ''} ${c.numLayers} layer(s)${c.bidirectional ? ' bidirectional' : ''}` +
    ` x ${JSON.stringify(c.x.shape)}${c.lengths ? ` lengths ${JSON.stringify(c.lengths)}` : ''}${c.h0 ? ' initial state' : ''}` +
    `${c.batchFirst ? '' : ' time-major'}${c.bias ? '' : ' no bias'}`
  );
}

function build(c: LayerCase): RecurrentBase {
  const o = {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    batchFirst: c.batchFirst,
    bias: c.bias,
  };
  const layers: Record<LayerCase['mode'], (o: RecurrentOptions) => RecurrentBase> = {
    LSTM: (o) => new LSTM(o),
    GRU: (o) => new GRU(o),
    RNN: (o) => new RNN({ ...o, nonlinearity: c.nonlinearity }),
    MinGRU: (o) => new MinGRU(o),
    MinLSTM: (o) => new MinLSTM(o),
  };
  return layers[c.mode](o);
}

for (const path of ['fused', 'composed'] as const)
  for (const [cases, what] of [
    [golden.layers, `recurrent layers (${path} path) match PyTorch ${golden.torch}`],
    [goldenMin.layers, `MinGRU and MinLSTM layers (${path} path) match tools/torch_interop.py's on PyTorch ${goldenMin.torch}`],
  ] as const)
    describe(what, () => {
      for (const c of cases) {
        it(describeCase(c), () => {
          const layer = build(c);
          assert.deepEqual(
            layer.namedParameters().map(([n]) => n),
            Object.keys(c.params),
            'parameter names and order',
          );
          layer.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, p]) => [k, r.tensor(p.data, p.shape)])));
          const x = r.tensor(c.x.data, c.x.shape, { requiresGrad: true });
          const h0 = c.h0 ? r.tensor(c.h0, c.stateShape, { requiresGrad: true }) : undefined;
          const c0 = c.c0 ? r.tensor(c.c0, c.stateShape, { requiresGrad: true }) : undefined;
          const { output, state } = layer.forward(x, { state: h0 ? { h: h0, c: c0 } : undefined, lengths: c.lengths ?? undefined, path });
          assert.deepEqual(output.shape, c.outputShape);
          assert.deepEqual(state.h.shape, c.stateShape);
          close(output.data, c.output, 'output');
          close(state.h.data, c.hn, 'h_n');
          if (c.cn) close(state.c!.data, c.cn, 'c_n');
          goldenLoss(output, c.outputShape, state, c).backward();
          close(x.grad!.data, c.gradX, 'd/dx');
          if (h0) close(h0.grad!.data, c.gradH0!, 'd/dh0');
          if (c0) close(c0.grad!.data, c.gradC0!, 'd/dc0');
          for (const [name, p] of layer.namedParameters()) close(p.grad!.data, c.params[name].grad, `d/d${name}`);
        });
      }
    });

describe(`cells match PyTorch ${golden.torch}`, () => {
  for (const c of golden.cells) {
    it(`${c.name}${c.name === 'RNNCell' ? ` (${c.nonlinearity})` : ''}`, () => {
      const o = { inputSize: 3, hiddenSize: 4 };
      const cell = c.name === 'LSTMCell' ? new LSTMCell(o) : c.name === 'GRUCell' ? new GRUCell(o) : new RNNCell({ ...o, nonlinearity: c.nonlinearity });
      assert.deepEqual(
        cell.namedParameters().map(([n]) => n),
        Object.keys(c.params),
      );
      cell.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, p]) => [k, r.tensor(p.data, p.shape)])));
      const x = r.tensor(c.x, [2, 3], { requiresGrad: true });
      const h = r.tensor(c.h, [2, 4], { requiresGrad: true });
      let loss: Tensor;
      let cc: Tensor | null = null;
      if (cell instanceof LSTMCell) {
        cc = r.tensor(c.c!, [2, 4], { requiresGrad: true });
        const [h1, c1] = cell.forward(x, [h, cc]);
        close(h1.data, c.h1, 'h1');
        close(c1.data, c.c1!, 'c1');
        loss = r.add(r.sum(r.mul(h1, r.tensor(c.w1, [2, 4]))), r.sum(r.mul(c1, r.tensor(c.w2!, [2, 4]))));
      } else {
        const h1 = cell.forward(x, h);
        close(h1.data, c.h1, 'h1');
        loss = r.sum(r.mul(h1, r.tensor(c.w1, [2, 4])));
      }
      loss.backward();
      close(x.grad!.data, c.gradX, 'd/dx');
      close(h.grad!.data, c.gradH, 'd/dh');
      if (cc) close(cc.grad!.data, c.gradC!, 'd/dc');
      for (const [name, p] of cell.namedParameters()) close(p.grad!.data, c.params[name].grad, `d/d${name}`);
    });
  }
});

/** The largest errors of the block models against PyTorch, printed as a diagnostic. */
const worstBlocks = new ErrorLog();

/** One block model on the current backend: the weights by name, PyTorch's logits, final states and every gradient. */
function checkBlockModel(c: BlockCase): void {
  const check = (got: Float32Array, want: number[], what: string): void => {
    close(got, want, what);
    worstBlocks.add(got, want, `${c.config.model} ${what}`);
  };
  const model = new LanguageModel(c.config);
  assert.deepEqual(Object.keys(model.stateDict()), Object.keys(c.params), 'parameter names and order');
  model.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, p]) => [k, r.tensor(p.data, p.shape)])));
  const [B, T] = [c.ids.length, c.ids[0].length];
  const h0 = c.h0 ? r.tensor(c.h0, c.stateShape, { requiresGrad: true }) : undefined;
  const c0 = c.c0 ? r.tensor(c.c0, c.stateShape, { requiresGrad: true }) : undefined;
  const { logits, state } = model.forward(Int32Array.from(c.ids.flat()), B, T, h0 ? { h: h0, c: c0 } : undefined);
  assert.deepEqual(logits.shape, c.logitsShape);
  check(logits.data, c.logits, 'logits');
  check(state.h.data, c.hn, 'h_n');
  if (c.cn) check(state.c!.data, c.cn, 'c_n');
  goldenLoss(logits, c.logitsShape, state, c).backward();
  if (h0) check(h0.grad!.data, c.gradH0!, 'd/dh0');
  if (c0) check(c0.grad!.data, c.gradC0!, 'd/dc0');
  for (const [name, p] of model.namedParameters()) check(p.grad!.data, c.params[name].grad, `d/d${name}`);
}

for (const backend of ['default', 'js'] as const)
  describe(`block language models (${backend} backend) match tools/torch_interop.py's BlockCharModel on PyTorch ${goldenBlocks.torch}`, () => {
    for (const c of goldenBlocks.models) {
      const { model, layers, hidden, vocabSize } = c.config;
      it(`${model}: ${layers} block(s) of width ${hidden}, vocabulary ${vocabSize}, ids ${JSON.stringify([c.ids.length, c.ids[0].length])}${c.h0 ? ', initial state' : ''}`, (t) => {
        if (backend === 'js') r.withBackend('js', () => checkBlockModel(c));
        else checkBlockModel(c);
        t.diagnostic(`block models against PyTorch so far: ${worstBlocks}`);
      });
    }
  });
