/**
 * recur against PyTorch with real char models, both ways, without Python:
 * models trained in PyTorch (converted by tools/torch_interop.py, and imported
 * from the raw state dict by `recur import-torch`) and models trained by
 * `recur train` (run in PyTorch by the same tool). Fixtures and PyTorch's
 * float64 reference logits: test/fixtures/make_interop_fixtures.py.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as r from '../src/index.js';
import { decodeCheckpoint, type CharLM, type CharLMConfig } from '../src/index.js';
import { assertRelClose, ErrorLog } from './helpers.js';

interface Run { logits: number[]; h: number[]; c?: number[]; h0?: number[]; c0?: number[] }
interface Expected { torch: string; config: CharLMConfig; texts: string[]; ids: number[][]; logitsShape: number[]; runs: Run[] }

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);
const json = <T>(name: string): T => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;
const CELLS = ['lstm', 'gru', 'rnn'] as const;

/** The largest errors seen against PyTorch, printed as a diagnostic. */
const worst = new ErrorLog();

/** recur's logits and final states for the fixture's inputs, compared with PyTorch's float64 values. */
function checkAgainst(model: CharLM, exp: Expected, what: string, t?: { diagnostic(s: string): void }): void {
  const [B, T] = [exp.ids.length, exp.ids[0].length];
  const ids = Int32Array.from(exp.ids.flat());
  const { layers, hidden } = model.config;
  model.eval();
  for (const [i, run] of exp.runs.entries()) {
    const state = run.h0 ? { h: r.tensor(run.h0, [layers, B, hidden]), c: run.c0 ? r.tensor(run.c0, [layers, B, hidden]) : undefined } : undefined;
    const out = r.noGrad(() => model.forward(ids, B, T, state));
    assert.deepEqual(out.logits.shape, exp.logitsShape);
    const label = `${what}, ${i === 0 ? 'zero' : 'given'} initial state`;
    for (const [name, got, want] of [
      ['logits', out.logits.data, run.logits], ['h_n', out.state.h.data, run.h], ...(run.c ? [['c_n', out.state.c!.data, run.c]] : []),
    ] as [string, Float32Array, number[]][]) {
      assertRelClose(got, want, `${label}: ${name}`);
      worst.add(got, want, `${label}: ${name}`);
    }
  }
  t?.diagnostic(`against PyTorch so far: ${worst}`);
}

describe('PyTorch -> recur: char models trained in PyTorch', () => {
  for (const cell of CELLS) {
    it(`${cell}: the checkpoint tools/torch_interop.py made gives PyTorch's logits and states (rel <= 1e-4)`, (t) => {
      const exp = json<Expected>(`interop_torch_${cell}_expected.json`);
      const ck = decodeCheckpoint(readFileSync(fixture(`interop_torch_${cell}.recur.safetensors`)));
      assert.deepEqual({ ...ck.model.config, dropout: 0 }, { ...exp.config, dropout: 0 });
      assert.equal(ck.meta.createdBy, 'tools/torch_interop.py');
      checkAgainst(ck.model, exp, `torch-trained ${cell}`, t);
    });
  }
});

describe('recur -> PyTorch: char models trained by recur train', () => {
  for (const cell of CELLS) {
    it(`${cell}: PyTorch running the recur checkpoint gives recur's logits and states (rel <= 1e-4)`, (t) => {
      const exp = json<Expected>(`interop_recur_${cell}_torch.json`);
      const ck = decodeCheckpoint(readFileSync(fixture(`interop_recur_${cell}.safetensors`)));
      assert.equal(ck.meta.createdBy, 'recur');
      assert.ok(ck.meta.progress.step > 0, 'trained by recur');
      checkAgainst(ck.model, exp, `recur-trained ${cell}`, t);
    });
  }
  it('on the js backend too', (t) => {
    r.withBackend('js', () => {
      for (const cell of CELLS) {
        checkAgainst(decodeCheckpoint(readFileSync(fixture(`interop_recur_${cell}.safetensors`))).model, json<Expected>(`interop_recur_${cell}_torch.json`), `js backend, recur-trained ${cell}`, t);
        checkAgainst(decodeCheckpoint(readFileSync(fixture(`interop_torch_${cell}.recur.safetensors`))).model, json<Expected>(`interop_torch_${cell}_expected.json`), `js backend, torch-trained ${cell}`, t);
      }
    });
  });
});
