import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSafetensors as build } from './helpers.js';
import * as r from '../src/index.js';
import { readSafetensors, readSafetensorsMetadata, readSafetensorsWithMetadata, writeSafetensors } from '../src/index.js';

describe('safetensors', () => {
  it('round-trips tensors (any rank, including scalars and empty) and string metadata', () => {
    const rec = {
      a: r.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      b: r.tensor(-0.5),
      c: r.zeros([0, 4]),
      'layer.weight_ih_l0': r.randn([8, 3]),
    };
    const bytes = writeSafetensors(rec, { config: JSON.stringify({ hidden: 8 }) });
    const { tensors, metadata } = readSafetensorsWithMetadata(bytes);
    assert.deepEqual(Object.keys(tensors), Object.keys(rec));
    for (const [k, t] of Object.entries(rec)) {
      assert.deepEqual(tensors[k].shape, t.shape);
      assert.deepEqual(Array.from(tensors[k].data), Array.from(t.data));
    }
    assert.deepEqual(JSON.parse(metadata.config), { hidden: 8 });
    assert.equal(readSafetensorsMetadata(bytes).config, metadata.config);
    // the data section starts 8-byte aligned
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLen) % 8, 0);
  });
  it('reads a file written by another writer, with F64, F16, BF16 and I64 tensors', () => {
    const data = new Uint8Array(8 + 2 + 2 + 8 + 8);
    const v = new DataView(data.buffer);
    v.setFloat64(0, 1.25, true);
    v.setUint16(8, 0x3c00, true); // F16 1.0
    v.setUint16(10, 0xc000, true); // BF16 -2.0
    v.setBigInt64(12, 42n, true);
    v.setFloat32(20, 3.5, true);
    v.setFloat32(24, -1, true);
    const bytes = build(
      {
        x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [], data_offsets: [8, 10] },
        b: { dtype: 'BF16', shape: [1, 1], data_offsets: [10, 12] },
        i: { dtype: 'I64', shape: [1], data_offsets: [12, 20] },
        f: { dtype: 'F32', shape: [2], data_offsets: [20, 28] },
        __metadata__: { format: 'pt' },
      },
      data,
    );
    const t = readSafetensors(bytes);
    assert.deepEqual(t.x.toArray(), [1.25]);
    assert.equal(t.h.item(), 1);
    assert.deepEqual(t.b.toArray(), [[-2]]);
    assert.deepEqual(t.i.toArray(), [42]);
    assert.deepEqual(t.f.toArray(), [3.5, -1]);
  });
  it('corrupt, truncated or foreign files give one clear sentence', () => {
    const good = writeSafetensors({ w: r.ones([4]) });
    assert.throws(() => readSafetensors(new Uint8Array(3)), /too short to be a safetensors file/);
    assert.throws(() => readSafetensors(good.subarray(0, good.length - 4)), /outside the 12 bytes of data; the file is truncated or corrupt/);
    assert.throws(() => readSafetensors(good.subarray(0, 20)), /the header claims \d+ bytes but the file has only 12/);
    const text = new TextEncoder().encode('hello world, this is not a model file');
    assert.throws(() => readSafetensors(text), /truncated or not safetensors/);
    const badJson = build({}, new Uint8Array(0));
    badJson[8] = 0x7b + 1;
    assert.throws(() => readSafetensors(badJson), /not valid JSON/);
    assert.throws(() => readSafetensors(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))), /needs 12 bytes but has 8/);
    assert.throws(
      () => readSafetensors(build({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))),
      /dtype C64, which recur cannot read/,
    );
  });
  it('loads into a module with loadStateDict', () => {
    const a = new r.Linear(3, 2);
    const b = new r.Linear(3, 2);
    b.loadStateDict(readSafetensors(writeSafetensors(a.stateDict())));
    assert.deepEqual(Array.from(b.weight.data), Array.from(a.weight.data));
  });
});

describe('weights saved from PyTorch', () => {
  it("an nn.LSTM state dict in a .safetensors file loads with loadStateDict and gives PyTorch's outputs", async () => {
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(new URL('./fixtures/torch_lstm.safetensors', import.meta.url));
    const want = JSON.parse(readFileSync(new URL('./fixtures/torch_lstm_expected.json', import.meta.url), 'utf8'));
    const lstm = new r.LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    lstm.loadStateDict(readSafetensors(new Uint8Array(bytes)));
    const { output, state } = lstm.forward(r.tensor(want.x, [2, 5, 3]));
    const close = (got: ArrayLike<number>, exp: number[]) =>
      exp.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-4 * Math.abs(v) + 1e-6, `${got[i]} vs ${v}`));
    close(output.data, want.output);
    close(state.h.data, want.h);
    close(state.c!.data, want.c);
  });
});
