/**
 * recur against PyTorch with real char models, both ways, without Python:
 * models trained in PyTorch (converted by tools/torch_interop.py, and imported
 * from the raw state dict by `recur import-torch`) and models trained by
 * `recur train` (run in PyTorch by the same tool). Fixtures and PyTorch's
 * float64 reference logits: test/fixtures/make_interop_fixtures.py.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import * as r from '../src/index.js';
import {
  charLMFromTorch,
  decodeCheckpoint,
  parseVocab,
  readSafetensors,
  writeSafetensors,
  type LanguageModel,
  type LanguageModelConfig,
  type Tensor,
} from '../src/index.js';
import { assertRelClose, ErrorLog } from './helpers.js';

interface Run {
  logits: number[];
  h: number[];
  c?: number[];
  h0?: number[];
  c0?: number[];
}
interface Expected {
  torch: string;
  config: LanguageModelConfig;
  texts: string[];
  ids: number[][];
  logitsShape: number[];
  runs: Run[];
}

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);
const json = <T>(name: string): T => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;
const CELLS = ['lstm', 'gru', 'rnn'] as const;

/** The largest errors seen against PyTorch, printed as a diagnostic. */
const worst = new ErrorLog();

/** recur's logits and final states for the fixture's inputs, compared with PyTorch's float64 values. */
function checkAgainst(model: LanguageModel, exp: Expected, what: string, t?: { diagnostic(s: string): void }): void {
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
      ['logits', out.logits.data, run.logits],
      ['h_n', out.state.h.data, run.h],
      ...(run.c ? [['c_n', out.state.c!.data, run.c]] : []),
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
        checkAgainst(
          decodeCheckpoint(readFileSync(fixture(`interop_recur_${cell}.safetensors`))).model,
          json<Expected>(`interop_recur_${cell}_torch.json`),
          `js backend, recur-trained ${cell}`,
          t,
        );
        checkAgainst(
          decodeCheckpoint(readFileSync(fixture(`interop_torch_${cell}.recur.safetensors`))).model,
          json<Expected>(`interop_torch_${cell}_expected.json`),
          `js backend, torch-trained ${cell}`,
          t,
        );
      }
    });
  });
});

describe('recur import-torch: a PyTorch state dict and its vocabulary -> a checkpoint', () => {
  const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
  let dir = '';
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'recur-import-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** One plain sentence on stderr, the expected exit code, no stack trace. */
  const fails = (res: ReturnType<typeof run>, code: number, message: RegExp): void => {
    assert.equal(res.status, code, `exit code ${res.status}, stderr: ${res.stderr}`);
    assert.match(res.stderr, message);
    if (code === 1) assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.doesNotMatch(res.stderr, /\n\s+at .*:\d+:\d+/);
  };

  for (const cell of CELLS) {
    it(`${cell}: the imported checkpoint gives PyTorch's logits and states, and recur sample uses it`, (t) => {
      const out = join(dir, `${cell}.safetensors`);
      const res = run(
        'import-torch',
        fileURLToPath(fixture(`interop_torch_${cell}.safetensors`)),
        '--vocab',
        fileURLToPath(fixture(`interop_torch_${cell}_vocab.json`)),
        '--out',
        out,
      );
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`imported a ${cell === 'rnn' ? 1 : 2} x 24 ${cell.toUpperCase()}`));
      if (cell === 'lstm') assert.match(res.stdout, /reading lstm\.\* as rnn\.\*, decoder\.\* as head\.\*, encoder\.\* as embedding\.\*/);
      const ck = decodeCheckpoint(readFileSync(out));
      assert.equal(ck.meta.createdBy, 'recur import-torch');
      checkAgainst(ck.model, json<Expected>(`interop_torch_${cell}_expected.json`), `imported torch-trained ${cell}`, t);
      const s = run('sample', out, '--prime', 'ROMEO:', '--length', '40', '--seed', '3');
      assert.equal(s.status, 0, s.stderr);
      assert.ok(s.stdout.startsWith('ROMEO:') && [...s.stdout].length === 6 + 40 + 1, JSON.stringify(s.stdout));
    });
  }

  it('reads any module names, JSON {char: index} and plain-text vocabularies, and fills missing recurrent biases with zeros', () => {
    const sd = readSafetensors(readFileSync(fixture('interop_torch_gru.safetensors')));
    const chars = json<string[]>('interop_torch_gru_vocab.json');
    const renamed: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(sd))
      renamed[
        k
          .replace(/^rnn\./, 'model.gru.')
          .replace(/^head\./, 'fc.')
          .replace(/^embedding\./, 'embed.')
      ] = v;
    const viaObject = parseVocab(JSON.stringify(Object.fromEntries(chars.map((c, i) => [c, i]))));
    const viaText = parseVocab(chars.join(''));
    assert.deepEqual(viaObject.chars, chars);
    assert.deepEqual(viaText.chars, chars);
    const { model, renamed: names } = charLMFromTorch(renamed, viaText, { model: 'gru' });
    assert.deepEqual(names, { 'model.gru.': 'rnn.', 'fc.': 'head.', 'embed.': 'embedding.' });
    checkAgainst(model, json<Expected>('interop_torch_gru_expected.json'), 'torch-trained gru under other names');
    const noBias = Object.fromEntries(Object.entries(renamed).filter(([k]) => !k.includes('bias_')));
    const m2 = charLMFromTorch(noBias, viaText).model;
    assert.deepEqual(Array.from(m2.stateDict()['rnn.bias_hh_l1'].data), new Array(72).fill(0));
  });

  it('bad input: one sentence and exit 1 (missing file, a pickle, wrong shapes, vocabulary size, unknown cell type, cell mismatch)', () => {
    const sd = fileURLToPath(fixture('interop_torch_lstm.safetensors'));
    const vocab = fileURLToPath(fixture('interop_torch_lstm_vocab.json'));
    const tensors = readSafetensors(readFileSync(sd));
    const save = (name: string, t: Record<string, Tensor>): string => {
      writeFileSync(join(dir, name), writeSafetensors(t));
      return name;
    };
    fails(run('import-torch', 'missing.safetensors', '--vocab', vocab), 1, /^recur: state dict 'missing.safetensors' does not exist\n$/);
    fails(run('import-torch', sd, '--vocab', 'missing.json'), 1, /text file 'missing.json' does not exist/);
    writeFileSync(join(dir, 'model.pt'), Buffer.from('PK\x03\x04 a zip archive'));
    fails(run('import-torch', 'model.pt', '--vocab', vocab), 1, /'model.pt' is a PyTorch pickle \(torch\.save\), not safetensors/);
    writeFileSync(join(dir, 'small.json'), JSON.stringify(['a', 'b', 'c']));
    fails(run('import-torch', sd, '--vocab', 'small.json'), 1, /the vocabulary has 3 characters but the model's output layer has 58/);
    writeFileSync(join(dir, 'dup.json'), JSON.stringify(['a', 'a']));
    fails(run('import-torch', sd, '--vocab', 'dup.json'), 1, /the vocabulary file 'dup.json' is not usable: the vocabulary lists "a" twice/);
    fails(run('import-torch', sd, '--vocab', vocab, '--model', 'gru'), 1, /the weights are an LSTM \(4 gate blocks\), not a GRU/);
    fails(run('import-torch', sd, '--vocab', vocab, '--model', 'transformer'), 2, /Allowed choices are lstm, gru, rnn/);
    const bad = { ...tensors, 'lstm.weight_hh_l1': r.zeros([96, 20]) };
    fails(
      run('import-torch', save('bad-shape.safetensors', bad), '--vocab', vocab),
      1,
      /'lstm.weight_hh_l1' has shape \[96,20\] but an LSTM of 2 layer\(s\) and 24 units on the layer below needs \[96,24\]/,
    );
    const odd = { ...tensors, 'lstm.weight_hh_l0': r.zeros([48, 24]) };
    fails(
      run('import-torch', save('odd.safetensors', odd), '--vocab', vocab),
      1,
      /unknown cell type: 'lstm.weight_hh_l0' has shape \[48,24\], which is 2 gate blocks of 24/,
    );
    const noRnn = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('lstm.')));
    fails(run('import-torch', save('no-rnn.safetensors', noRnn), '--vocab', vocab), 1, /has no recurrent layer/);
    fails(run('import-torch', fileURLToPath(fixture('interop_recur_lstm.safetensors')), '--vocab', vocab), 1, /is already a recur checkpoint/);
    fails(run('import-torch', sd), 2, /required option '--vocab <file>' not specified/);
  });
});
