/** The registry of cell kinds (src/nn/rnn/kinds.ts) is the one source of what a kind is. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as r from '../src/index.js';
import { LanguageModel, Rng } from '../src/index.js';
import {
  CELL_KIND_NAMES,
  CELL_KINDS,
  cellKindOfGateBlocks,
  fromOnnxGateOrder,
  fusedCell,
  layerCell,
  layerParamShapes,
  PEEPHOLE_GATES,
  toOnnxGateOrder,
} from '../src/nn/rnn/kinds.js';
import { lmShapes } from '../src/models/config.js';
import { recurrentLayerOf } from '../src/nn/rnn/layers.js';
import { assertClose } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('cell kind registry', () => {
  for (const kind of CELL_KIND_NAMES) {
    const spec = CELL_KINDS[kind];
    it(`${kind}: LanguageModel's state dict has the registry's names and shapes`, () => {
      for (const embed of [0, 5]) {
        const config = { vocabSize: 7, model: kind, layers: 3, hidden: 4, embed, dropout: 0 };
        const sd = new LanguageModel(config, { rng: new Rng(1) }).stateDict();
        const got = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, [...t.shape]]));
        assert.deepEqual(got, lmShapes(config));
        assert.deepEqual(Object.keys(got), Object.keys(lmShapes(config)), 'the same order');
        for (let l = 0; l < 3; l++) {
          for (const [name, shape] of Object.entries(layerParamShapes(kind, l, l === 0 ? embed || 7 : 4, 4))) assert.deepEqual(got[`rnn.${name}`], shape);
        }
      }
    });

    it(`${kind}: a bidirectional layer has the registry's parameters, and its state the registry's cell state`, () => {
      const layer = recurrentLayerOf(kind, { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, rng: new Rng(2) });
      assert.equal(layer.cellKind, kind);
      const want: Record<string, number[]> = {};
      for (let l = 0; l < 2; l++) for (const reverse of [false, true]) Object.assign(want, layerParamShapes(kind, l, l === 0 ? 3 : 8, 4, { reverse }));
      const got = Object.fromEntries(Object.entries(layer.stateDict()).map(([k, t]) => [k, [...t.shape]]));
      assert.deepEqual(got, want);
      const { state } = layer.forward(r.randn([2, 3, 3], { rng: new Rng(3) }));
      assert.equal(state.c !== undefined, spec.cellState);
      assert.equal(
        cellKindOfGateBlocks(spec.gates.length, !!spec.scan),
        kind,
        'the gate count (and whether W_hh exists) tells the kind (the PyTorch importer relies on it)',
      );
      assert.equal(layerCell(kind).gates, spec.gates.length);
      if (spec.fused) assert.equal(fusedCell(kind).gates, spec.gates.length);
      else assert.throws(() => fusedCell(kind), /scan kind/);
    });

    it(`${kind}: the ONNX gate permutation is a permutation and round-trips`, () => {
      const G = spec.gates.length;
      assert.deepEqual(
        [...spec.onnx.fromTorch].sort(),
        Array.from({ length: G }, (_, i) => i),
      );
      const H = 3;
      const data = Float32Array.from({ length: G * H * 2 }, (_, i) => i);
      const onnx = toOnnxGateOrder(kind, data);
      assert.deepEqual(fromOnnxGateOrder(kind, onnx), data);
      // block j of the ONNX tensor is PyTorch's block fromTorch[j]
      const block = H * 2;
      spec.onnx.fromTorch.forEach((f, j) => assert.equal(onnx[j * block], f * block));
    });

    it(`${kind}: the fused and the composed steps agree`, () => {
      const layer = recurrentLayerOf(kind, { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, rng: new Rng(4) });
      const x = r.randn([3, 4, 3], { rng: new Rng(5) });
      const a = layer.forward(x, { lengths: [4, 2, 3], path: 'fused' });
      const b = layer.forward(x, { lengths: [4, 2, 3], path: 'composed' });
      assertClose(Array.from(a.output.data), Array.from(b.output.data), 1e-5);
      assertClose(Array.from(a.state.h.data), Array.from(b.state.h.data), 1e-5);
    });
  }

  it('the ONNX orders name the gates ONNX uses', () => {
    const onnxGates = (k: r.CellKind) => CELL_KINDS[k].onnx.fromTorch.map((f) => CELL_KINDS[k].gates[f]).join('');
    assert.equal(onnxGates('lstm'), 'iofg'); // ONNX: i, o, f, c
    assert.equal(onnxGates('gru'), 'zrn'); // ONNX: z, r, h
    // ONNX's P input: P[iof]; and the forget-gate offset names one of the kind's gates
    assert.deepEqual(CELL_KINDS.lstm.onnx.peepholes, ['i', 'o', 'f']);
    assert.deepEqual([...CELL_KINDS.lstm.onnx.peepholes!].sort(), [...PEEPHOLE_GATES].sort());
    for (const k of CELL_KIND_NAMES) {
      const t = CELL_KINDS[k].tfOptions;
      if (t) assert.ok(CELL_KINDS[k].gates.includes(t.offsetGate), k);
    }
  });
});

/** Every TypeScript source outside the registry and the kernels. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  for (const d of ['src', 'web/src', 'assembly']) walk(join(root, d));
  return out;
}

describe('no file but the registry spells what a cell kind is', () => {
  // the fused kernels are each kind's arithmetic, so they know their own gate layout
  const kernels = new Set(['src/backend/js/index.ts', 'src/backend/recurrent-loop.ts', 'assembly/kernels.ts']);
  const rules: [string, RegExp, Set<string>][] = [
    ['a gate-count map', /\bgates:\s*4\b|\b(lstm|LSTM)\s*:\s*4\b|\b4\s*:\s*'lstm'|\bgru\s*:\s*3\b/, new Set()],
    ['a gate-count conditional', /\?\s*4\b[^;\n]*:[^;\n]*\?\s*3\b/, kernels],
    ['a PyTorch parameter name built by hand', /`(rnn\.)?(weight|bias)_(ih|hh)(_l)?\$\{|'(weight|bias)_(ih|hh)_l0'/, new Set()],
    ['the list of kinds', /\[\s*'lstm',\s*'gru',\s*'rnn'\s*\]/, new Set()],
    ['a PyTorch-spelled mode', /===\s*'(LSTM|GRU|RNN)'/, new Set()],
    ['a read of a subclass field through a cast', /as unknown as \{ nonlinearity/, new Set()],
  ];
  const files = sources().map((p) => ({ path: relative(root, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }));
  for (const [what, re, allowed] of rules) {
    it(`nowhere outside src/nn/rnn/kinds.ts: ${what}`, () => {
      const bad = files.filter((f) => f.path !== 'src/nn/rnn/kinds.ts' && !allowed.has(f.path) && re.test(f.text)).map((f) => f.path);
      assert.deepEqual(bad, []);
    });
  }
  it('the patterns find what they look for', () => {
    assert.match("const G = kind === 'lstm' ? 4 * H : kind === 'gru' ? 3 * H : H;", rules[1][1]);
    assert.match("const GATES: Record<number, CellType> = { 4: 'lstm', 3: 'gru', 1: 'rnn' };", rules[0][1]);
    assert.match('shapes[`rnn.weight_ih_l${l}`] = [G, H];', rules[2][1]);
  });
});
