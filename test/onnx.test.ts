/**
 * ONNX export checked in a real ONNX runtime: onnxruntime-web's WebAssembly
 * build, run in Node (onnxruntime-node's install script downloads CUDA
 * binaries on Linux, so the test uses the web package, which needs nothing
 * beyond npm). Logits and final states must match recur's within 1e-4
 * relative, for every cell kind (LSTM, GRU and RNN as ONNX's recurrent
 * operators, minGRU and minLSTM as a Scan), 1 and 2 layers, embedding and
 * one-hot input, and as residual blocks, and LSTMs with TensorFlow's
 * options (a forget bias folded into B, peepholes as the P input), with
 * default (zero) and given initial states.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import * as r from '../src/index.js';
import { LanguageModel, CharTokenizer, Rng, decodeCheckpoint, encodeCheckpoint, recurrentLayerOf, type CellType } from '../src/index.js';
import { exportLMOnnx, lmOnnxModel } from '../src/export/onnx.js';
import { CELL_KINDS, CELL_KIND_NAMES } from '../src/nn/rnn/kinds.js';
import { assertRelClose, ErrorLog } from './helpers.js';

ort.env.wasm.numThreads = 1; // no worker threads: the machine is shared and the models are tiny
ort.env.logLevel = 'error';

const worst = new ErrorLog();
const worstBlocks = new ErrorLog();
const ortVsTorch = new ErrorLog();
const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
const int64 = (ids: Int32Array, dims: number[]) =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from(ids, (v) => BigInt(v)),
    dims,
  );

/** Run the exported model and recur on the same ids (and states), compare everything ONNX returns. */
async function compare(model: LanguageModel, sess: ort.InferenceSession, B: number, T: number, rng: Rng, withState: boolean, what: string): Promise<void> {
  const { vocabSize: V, layers: L, hidden: H, model: cell } = model.config;
  const withC = CELL_KINDS[cell].cellState;
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const feeds: Record<string, ort.Tensor> = { tokens: int64(ids, [B, T]) };
  let state: { h: r.Tensor; c?: r.Tensor } | undefined;
  if (withState) {
    const rand = () => Float32Array.from({ length: L * B * H }, () => rng.uniform(-0.8, 0.8));
    state = { h: r.tensor(rand(), [L, B, H]) };
    feeds.h0 = new ort.Tensor('float32', state.h.toFloat32Array(), [L, B, H]);
    if (withC) {
      state.c = r.tensor(rand(), [L, B, H]);
      feeds.c0 = new ort.Tensor('float32', state.c.toFloat32Array(), [L, B, H]);
    }
  }
  const res = await sess.run(feeds);
  const want = r.noGrad(() => model.forward(ids, B, T, state));
  assert.deepEqual(res.logits.dims, [B, T, V]);
  assert.deepEqual(res.hn.dims, [L, B, H]);
  const pairs: [string, ort.Tensor, r.Tensor][] = [
    ['logits', res.logits, want.logits],
    ['hn', res.hn, want.state.h],
  ];
  if (withC) pairs.push(['cn', res.cn, want.state.c!]);
  for (const [name, got, w] of pairs) {
    const label = `${what}${withState ? ', given states' : ''}: ${name}`;
    assertRelClose(got.data as Float32Array, w.data, label);
    worst.add(got.data as Float32Array, w.data, label);
    if (model.config.blocks) worstBlocks.add(got.data as Float32Array, w.data, label);
  }
}

/** Export with both kinds of states and compare each in ONNX Runtime at a few batch sizes and lengths, with zero and given initial states. */
async function checkBothStateKinds(model: LanguageModel, vocab: CharTokenizer, rng: Rng, what: string): Promise<void> {
  const withC = CELL_KINDS[model.config.model].cellState;
  // optional states (the default): not fed, they are zeros broadcast to the batch
  const sess = await session(exportLMOnnx(model, vocab));
  assert.deepEqual(sess.outputNames, withC ? ['logits', 'hn', 'cn'] : ['logits', 'hn']);
  await compare(model, sess, 3, 7, rng, false, what);
  await compare(model, sess, 1, 4, rng, false, what);
  await sess.release();
  // required states: fed every time
  const withStates = await session(exportLMOnnx(model, vocab, { states: 'required' }));
  assert.deepEqual(withStates.inputNames, withC ? ['tokens', 'h0', 'c0'] : ['tokens', 'h0']);
  await compare(model, withStates, 2, 5, rng, true, `${what}, required states`);
  await compare(model, withStates, 1, 1, rng, true, `${what}, required states`);
  await withStates.release();
}

describe('ONNX export, run in ONNX Runtime (onnxruntime-web, wasm)', () => {
  const cases: [CellType, number, number][] = [];
  for (const cell of CELL_KIND_NAMES) for (const layers of [1, 2]) for (const embed of [8, 0]) cases.push([cell, layers, embed]);
  for (const [cell, layers, embed] of cases) {
    const what = `${cell}, ${layers} layer(s), ${embed ? 'embedding' : 'one-hot input'}`;
    it(`${what}: logits and final states match recur (rel <= 1e-4), default and given initial states`, async (t) => {
      const rng = new Rng(layers * 10 + embed + cell.length);
      const V = 13;
      const model = new LanguageModel({ vocabSize: V, model: cell, layers, hidden: 16, embed, dropout: 0 }, { rng });
      model.eval();
      await checkBothStateKinds(model, new CharTokenizer('abcdefghijklm'.split('')), rng, what);
      t.diagnostic(`against ONNX Runtime so far: ${worst}`);
    });
  }

  for (const cell of CELL_KIND_NAMES) {
    const what = `${cell}, 3 blocks`;
    it(`${what}: logits and final states match recur (rel <= 1e-4), default and given initial states`, async (t) => {
      const rng = new Rng(100 + cell.length);
      const [V, d] = [11, 12];
      const model = new LanguageModel({ vocabSize: V, model: cell, layers: 3, hidden: d, embed: d, dropout: 0, blocks: true }, { rng });
      model.eval();
      // the norms' weights start as ones: made to differ, so that each one's place in the graph is checked too
      const sd = model.stateDict();
      for (const [name, w] of Object.entries(sd)) {
        if (/(^|\.)norm\d?\.weight$/.test(name))
          sd[name] = r.tensor(
            Float32Array.from({ length: w.size }, () => rng.uniform(0.5, 1.5)),
            w.shape,
          );
      }
      // even tokens' embeddings shrunk to about 1e-3, whose mean square is a tenth of RMSNorm's eps: the eps shows in the logits
      const emb = sd['embedding.weight'].toFloat32Array();
      for (let id = 0; id < V; id += 2) for (let j = 0; j < d; j++) emb[id * d + j] *= 1e-3;
      sd['embedding.weight'] = r.tensor(emb, [V, d]);
      model.loadStateDict(sd);
      await checkBothStateKinds(model, new CharTokenizer('abcdefghijk'.split('')), rng, what);
      t.diagnostic(`block models against ONNX Runtime so far: ${worstBlocks}`);
    });
  }

  // TensorFlow's LSTM options: the forget-gate offset folded into B, the peepholes as the LSTM operator's P input
  for (const [blocks, layers] of [
    [false, 1],
    [false, 2],
    [true, 2],
  ] as const) {
    for (const lstm of [{ forgetBias: 1.5 }, { peepholes: true }, { forgetBias: -0.8, peepholes: true }]) {
      const opts = Object.entries(lstm)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const what = `lstm, ${layers} ${blocks ? 'blocks' : 'layer(s)'}, ${opts}`;
      it(`${what}: logits and final states match recur (rel <= 1e-4), default and given initial states`, async (t) => {
        const rng = new Rng(200 + layers + (blocks ? 10 : 0) + opts.length);
        const [V, d] = [11, 12];
        const model = new LanguageModel({ vocabSize: V, model: 'lstm', layers, hidden: d, embed: blocks ? d : 8, dropout: 0, blocks, ...lstm }, { rng });
        model.eval();
        // peephole weights far from one another and from their small initial values, so that one in the wrong place in P shows
        const sd = model.stateDict();
        for (const [name, w] of Object.entries(sd)) {
          if (/weight_c[ifo]_l\d+$/.test(name))
            sd[name] = r.tensor(
              Float32Array.from({ length: w.size }, () => rng.uniform(-1.5, 1.5)),
              w.shape,
            );
        }
        model.loadStateDict(sd);
        const { graph } = lmOnnxModel(model, new CharTokenizer('abcdefghijk'.split(''))) as {
          graph: { node: { op_type: string; input: string[] }[]; initializer: { name: string; dims: number[] }[] };
        };
        for (const node of graph.node.filter((n) => n.op_type === 'LSTM')) {
          assert.equal(node.input.length, lstm.peepholes ? 8 : 7, 'P only with peepholes');
          if (lstm.peepholes) assert.deepEqual(graph.initializer.find((i) => i.name === node.input[7])!.dims, [1, 3 * d]);
        }
        await checkBothStateKinds(model, new CharTokenizer('abcdefghijk'.split('')), rng, what);
        t.diagnostic(`against ONNX Runtime so far: ${worst}`);
      });
    }
  }

  it('a block model is standard operators at opset 17: RMSNorm from ReduceMean and Sqrt, GELU from Tanh, the cell as for a plain stack', () => {
    type Node = { op_type: string };
    const ops = (cell: CellType) => {
      const model = new LanguageModel({ vocabSize: 5, model: cell, layers: 2, hidden: 4, embed: 4, dropout: 0, blocks: true }, { rng: new Rng(2) });
      return (lmOnnxModel(model, new CharTokenizer('abcde'.split(''))) as { graph: { node: Node[] } }).graph.node.map((n) => n.op_type);
    };
    const count = (list: string[], op: string) => list.filter((o) => o === op).length;
    for (const cell of CELL_KIND_NAMES) {
      const list = ops(cell);
      // two norms per block and the final one; one feed-forward per block
      assert.equal(count(list, 'ReduceMean'), 5, cell);
      assert.equal(count(list, 'Tanh'), 2, cell);
      assert.equal(count(list, CELL_KINDS[cell].onnx.op), 2, cell);
    }
  });

  it("optional states are overridable initializers, which ONNX Runtime's JavaScript API cannot feed (hence --states required)", async () => {
    const model = new LanguageModel({ vocabSize: 3, model: 'rnn', layers: 1, hidden: 4, embed: 0, dropout: 0 }, { rng: new Rng(1) });
    const sess = await session(exportLMOnnx(model, new CharTokenizer(['x', 'y', 'z'])));
    assert.deepEqual(sess.inputNames, ['tokens']);
    await assert.rejects(
      sess.run({ tokens: int64(Int32Array.of(1), [1, 1]), h0: new ort.Tensor('float32', new Float32Array(4), [1, 1, 4]) }),
      /invalid input 'h0'/,
    );
    await sess.release();
  });

  it('the metadata carries the config and vocabulary; the graph uses the standard recurrent operators at opset 17', async () => {
    const model = new LanguageModel({ vocabSize: 3, model: 'gru', layers: 2, hidden: 4, embed: 2, dropout: 0 }, { rng: new Rng(1) });
    const bytes = exportLMOnnx(model, new CharTokenizer(['x', 'y', '\n']));
    const sess = await session(bytes);
    // a protobuf string field holds the JSON verbatim: find it without a second decoder
    const text = new TextDecoder().decode(bytes);
    assert.ok(text.includes('{"config":{"vocabSize":3,"model":"gru","layers":2,"hidden":4,"embed":2,"dropout":0},"vocab":["x","y","\\n"]}'));
    for (const op of ['GRU', 'Gather', 'MatMul', 'linear_before_reset']) assert.ok(text.includes(op), op);
    await sess.release();
  });

  for (const cell of ['mingru', 'minlstm'] as const) {
    it(`${cell}: each layer is one MatMul over the whole sequence, then a Scan whose body is only h + u (h~ - h)`, () => {
      const model = new LanguageModel({ vocabSize: 5, model: cell, layers: 2, hidden: 4, embed: 3, dropout: 0 }, { rng: new Rng(2) });
      type Node = { op_type: string; attribute: { name: string; g?: { node: Node[] } }[] };
      const { graph } = lmOnnxModel(model, new CharTokenizer('abcde'.split(''))) as { graph: { node: Node[] } };
      const ops = graph.node.map((n) => n.op_type);
      assert.equal(ops.filter((op) => op === 'Scan').length, 2);
      assert.equal(ops.filter((op) => op === 'MatMul').length, 3, "one per layer, and the head's");
      for (const op of ['LSTM', 'GRU', 'RNN', 'Loop']) assert.ok(!ops.includes(op), op);
      for (const scan of graph.node.filter((n) => n.op_type === 'Scan')) {
        const body = scan.attribute.find((a) => a.name === 'body')!.g!;
        assert.deepEqual(
          body.node.map((n) => n.op_type),
          ['Sub', 'Mul', 'Add', 'Identity'],
        );
      }
    });
  }

  it('minlstm: gates saturated near 0 (pre-activations about -60) still mix as i / (f + i), as recur computes it', async () => {
    const H = 8;
    const model = new LanguageModel({ vocabSize: 6, model: 'minlstm', layers: 2, hidden: H, embed: 4, dropout: 0 }, { rng: new Rng(3) });
    model.eval();
    const sd = model.stateDict();
    const { gates } = CELL_KINDS.minlstm;
    for (let l = 0; l < 2; l++) {
      const name = `rnn.${CELL_KINDS.minlstm.params(l).biasIh}`;
      const bias = sd[name].toFloat32Array();
      // both gates where ONNX Runtime's Sigmoid returns 0 (from about -20), with ratios i / (f + i) that differ per unit
      for (const g of ['f', 'i']) for (let j = 0; j < H; j++) bias[gates.indexOf(g) * H + j] = -60 + (g === 'i' ? j % 4 : 0);
      sd[name] = r.tensor(bias, [bias.length]);
    }
    model.loadStateDict(sd);
    const vocab = new CharTokenizer('abcdef'.split(''));
    const rng = new Rng(4);
    const sess = await session(exportLMOnnx(model, vocab));
    await compare(model, sess, 2, 6, rng, false, 'minlstm, saturated gates');
    await sess.release();
    const withStates = await session(exportLMOnnx(model, vocab, { states: 'required' }));
    await compare(model, withStates, 2, 6, rng, true, 'minlstm, saturated gates, required states');
    await withStates.release();
  });

  it('refused, in one sentence: a bidirectional stack, a non-tanh RNN (also as a block cell), and a model with parts the exporter does not know', () => {
    const vocab = new CharTokenizer('abc'.split(''));
    for (const cell of ['mingru', 'minlstm'] as const) {
      const model = new LanguageModel({ vocabSize: 3, model: cell, layers: 2, hidden: 4, embed: 2, dropout: 0 }, { rng: new Rng(5) });
      model.rnn = recurrentLayerOf(cell, { inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: true, rng: new Rng(6) });
      assert.throws(() => exportLMOnnx(model, vocab), { message: 'a bidirectional model cannot be exported as a char LM' });
    }
    const relu = new LanguageModel({ vocabSize: 3, model: 'rnn', layers: 1, hidden: 4, embed: 0, dropout: 0 }, { rng: new Rng(7) });
    relu.rnn = new r.RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu', rng: new Rng(8) });
    assert.throws(() => exportLMOnnx(relu, vocab), { message: 'only tanh RNN layers are exported' });
    const reluBlock = new LanguageModel({ vocabSize: 3, model: 'rnn', layers: 2, hidden: 4, embed: 4, dropout: 0, blocks: true }, { rng: new Rng(7) });
    reluBlock.blocks![1].cell = new r.RNN({ inputSize: 4, hiddenSize: 4, nonlinearity: 'relu', rng: new Rng(8) });
    assert.throws(() => exportLMOnnx(reluBlock, vocab), { message: 'only tanh RNN layers are exported' });
    // weights the graph would silently leave out
    const extra = new LanguageModel({ vocabSize: 3, model: 'mingru', layers: 1, hidden: 4, embed: 2, dropout: 0 }, { rng: new Rng(9) });
    Object.assign(extra, { ffn: new r.Linear(4, 4, { rng: new Rng(10) }) });
    const refusal = "only recur's language models (a plain stack or residual blocks, as built from their config) can be exported to ONNX, and this one";
    assert.throws(() => exportLMOnnx(extra, vocab), { message: `${refusal} has 'ffn.weight'` });
    const extraInBlock = new LanguageModel({ vocabSize: 3, model: 'gru', layers: 1, hidden: 4, embed: 4, dropout: 0, blocks: true }, { rng: new Rng(9) });
    Object.assign(extraInBlock.blocks![0], { norm3: new r.RMSNorm(4) });
    assert.throws(() => exportLMOnnx(extraInBlock, vocab), { message: `${refusal} has 'blocks.0.norm3.weight'` });
  });
});

describe('recur export --onnx', () => {
  const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'recur-onnx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`${cell}: a checkpoint trained by recur runs in ONNX Runtime with recur's and PyTorch's logits`, async (t) => {
      const ckPath = fileURLToPath(new URL(`./fixtures/interop_recur_${cell}.safetensors`, import.meta.url));
      const res = run('export', ckPath, '--onnx', `${cell}.onnx`);
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`wrote '${cell}.onnx' \\(ONNX opset 17, [\\d.]+ KiB\\): inputs tokens int64 \\[batch, seq\\] and optional h0`));
      const req = run('export', ckPath, '--onnx', `${cell}-states.onnx`, '--states', 'required');
      assert.equal(req.status, 0, req.stderr);
      const sess = await session(readFileSync(join(dir, `${cell}.onnx`)));
      const withStates = await session(readFileSync(join(dir, `${cell}-states.onnx`)));
      const ck = decodeCheckpoint(readFileSync(ckPath));
      ck.model.eval();
      await compare(ck.model, sess, 2, 9, new Rng(4), false, `recur-trained ${cell} via the CLI`);
      await compare(ck.model, withStates, 2, 9, new Rng(5), true, `recur-trained ${cell} via the CLI`);
      await withStates.release();
      // and against PyTorch's float64 logits for the same checkpoint (test/fixtures/make_interop_fixtures.py)
      const exp = JSON.parse(readFileSync(new URL(`./fixtures/interop_recur_${cell}_torch.json`, import.meta.url), 'utf8'));
      const [B, T] = [exp.ids.length, exp.ids[0].length];
      const out = await sess.run({ tokens: int64(Int32Array.from(exp.ids.flat()), [B, T]) });
      assertRelClose(out.logits.data as Float32Array, exp.runs[0].logits, `ONNX Runtime vs PyTorch, ${cell}`);
      ortVsTorch.add(out.logits.data as Float32Array, exp.runs[0].logits, `recur-trained ${cell}: logits`);
      await sess.release();
      t.diagnostic(`ONNX Runtime against recur so far: ${worst}`);
      t.diagnostic(`ONNX Runtime against PyTorch (float64) so far: ${ortVsTorch}`);
    });
  }

  for (const cell of ['mingru', 'minlstm'] as const) {
    it(`${cell}: a checkpoint exports via the CLI and runs in ONNX Runtime with recur's logits`, async () => {
      const model = new LanguageModel({ vocabSize: 7, model: cell, layers: 2, hidden: 12, embed: 0, dropout: 0 }, { rng: new Rng(11) });
      writeFileSync(join(dir, `${cell}.safetensors`), encodeCheckpoint(model, new CharTokenizer('abcdefg'.split(''))));
      const res = run('export', `${cell}.safetensors`, '--onnx', `${cell}.onnx`, '--states', 'required');
      assert.equal(res.status, 0, res.stderr);
      assert.match(
        res.stdout,
        new RegExp(
          `wrote '${cell}.onnx' \\(ONNX opset 17, [\\d.]+ KiB\\): inputs tokens int64 \\[batch, seq\\] and h0 \\[2, batch, 12\\]; outputs logits \\[batch, seq, 7\\] and hn \\[2, batch, 12\\]\n$`,
        ),
      );
      const sess = await session(readFileSync(join(dir, `${cell}.onnx`)));
      model.eval();
      await compare(model, sess, 3, 8, new Rng(12), true, `${cell} via the CLI`);
      await sess.release();
    });
  }

  it("lstm blocks: a block checkpoint exports via the CLI and runs in ONNX Runtime with recur's logits and states", async () => {
    const model = new LanguageModel({ vocabSize: 6, model: 'lstm', layers: 2, hidden: 8, embed: 8, dropout: 0, blocks: true }, { rng: new Rng(13) });
    writeFileSync(join(dir, 'blocks.safetensors'), encodeCheckpoint(model, new CharTokenizer('abcdef'.split(''))));
    const res = run('export', 'blocks.safetensors', '--onnx', 'blocks.onnx', '--states', 'required');
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /inputs tokens int64 \[batch, seq\] and h0, c0 \[2, batch, 8\]; outputs logits \[batch, seq, 6\] and hn, cn \[2, batch, 8\]\n$/);
    const sess = await session(readFileSync(join(dir, 'blocks.onnx')));
    model.eval();
    await compare(model, sess, 2, 6, new Rng(14), true, 'lstm blocks via the CLI');
    await sess.release();
  });

  it('errors: a missing or foreign checkpoint is one sentence and exit 1; no --onnx is a usage error', () => {
    const missing = run('export', 'missing.safetensors', '--onnx', 'x.onnx');
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, "recur: checkpoint 'missing.safetensors' does not exist\n");
    const foreign = run('export', fileURLToPath(new URL('./fixtures/interop_torch_lstm.safetensors', import.meta.url)), '--onnx', 'x.onnx');
    assert.equal(foreign.status, 1);
    assert.match(foreign.stderr, /is a safetensors file but not a recur checkpoint/);
    const usage = run('export', 'missing.safetensors');
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /required option '--onnx <file>' not specified/);
  });
});
