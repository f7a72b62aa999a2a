/**
 * ONNX export checked in a real ONNX runtime: onnxruntime-web's WebAssembly
 * build, run in Node (onnxruntime-node's install script downloads CUDA
 * binaries on Linux, so the test uses the web package, which needs nothing
 * beyond npm). Logits and final states must match recur's within 1e-4
 * relative, for LSTM, GRU and RNN, 1 and 2 layers, embedding and one-hot
 * input, with default (zero) and given initial states.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import * as r from '../src/index.js';
import { LanguageModel, CharTokenizer, Rng, decodeCheckpoint, type CellType } from '../src/index.js';
import { exportLMOnnx } from '../src/export/onnx.js';
import { assertRelClose, ErrorLog } from './helpers.js';

ort.env.wasm.numThreads = 1; // no worker threads: the machine is shared and the models are tiny
ort.env.logLevel = 'error';

const worst = new ErrorLog();
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
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const feeds: Record<string, ort.Tensor> = { tokens: int64(ids, [B, T]) };
  let state: { h: r.Tensor; c?: r.Tensor } | undefined;
  if (withState) {
    const rand = () => Float32Array.from({ length: L * B * H }, () => rng.uniform(-0.8, 0.8));
    state = { h: r.tensor(rand(), [L, B, H]) };
    feeds.h0 = new ort.Tensor('float32', state.h.toFloat32Array(), [L, B, H]);
    if (cell === 'lstm') {
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
  if (cell === 'lstm') pairs.push(['cn', res.cn, want.state.c!]);
  for (const [name, got, w] of pairs) {
    const label = `${what}${withState ? ', given states' : ''}: ${name}`;
    assertRelClose(got.data as Float32Array, w.data, label);
    worst.add(got.data as Float32Array, w.data, label);
  }
}

describe('ONNX export, run in ONNX Runtime (onnxruntime-web, wasm)', () => {
  const cases: [CellType, number, number][] = [];
  for (const cell of ['lstm', 'gru', 'rnn'] as const) for (const layers of [1, 2]) for (const embed of [8, 0]) cases.push([cell, layers, embed]);
  for (const [cell, layers, embed] of cases) {
    const what = `${cell}, ${layers} layer(s), ${embed ? 'embedding' : 'one-hot input'}`;
    it(`${what}: logits and final states match recur (rel <= 1e-4), default and given initial states`, async (t) => {
      const rng = new Rng(layers * 10 + embed + cell.length);
      const V = 13;
      const model = new LanguageModel({ vocabSize: V, model: cell, layers, hidden: 16, embed, dropout: 0 }, { rng });
      model.eval();
      const vocab = new CharTokenizer('abcdefghijklm'.split(''));
      // optional states (the default): not fed, they are zeros broadcast to the batch
      const sess = await session(exportLMOnnx(model, vocab));
      assert.deepEqual(sess.outputNames, cell === 'lstm' ? ['logits', 'hn', 'cn'] : ['logits', 'hn']);
      await compare(model, sess, 3, 7, rng, false, what);
      await compare(model, sess, 1, 4, rng, false, what);
      await sess.release();
      // required states: fed every time
      const withStates = await session(exportLMOnnx(model, vocab, { states: 'required' }));
      assert.deepEqual(withStates.inputNames, cell === 'lstm' ? ['tokens', 'h0', 'c0'] : ['tokens', 'h0']);
      await compare(model, withStates, 2, 5, rng, true, `${what}, required states`);
      await compare(model, withStates, 1, 1, rng, true, `${what}, required states`);
      await withStates.release();
      t.diagnostic(`against ONNX Runtime so far: ${worst}`);
    });
  }

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
