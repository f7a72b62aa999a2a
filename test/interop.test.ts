/**
 * recur against PyTorch with real char models of every cell kind, both ways,
 * without Python: models trained in PyTorch (converted by
 * tools/torch_interop.py, and imported from the raw state dict by `recur
 * import-torch`) and models trained by `recur train` (run in PyTorch by the
 * same tool; MinGRU / MinLSTM by its modules), plain stacks and block models
 * (`<cell>_blocks`, config.blocks) alike. Fixtures and PyTorch's float64
 * reference logits: test/fixtures/make_interop_fixtures.py.
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
import { CELL_KIND_NAMES, CELL_KINDS } from '../src/nn/rnn/kinds.js';
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
/** Every kind has fixtures: a new kind without them fails here. */
const CELLS = CELL_KIND_NAMES;
/** The fixtures of the block form are named after the kind with this suffix. */
const BLOCKS = '_blocks';
/** Every fixture: each kind as a plain stack and as a block model. */
const VARIANTS = [...CELLS, ...CELLS.map((c) => c + BLOCKS)];

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
  for (const cell of VARIANTS) {
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
  for (const cell of VARIANTS) {
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
      for (const cell of VARIANTS) {
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
      assert.match(res.stdout, new RegExp(`imported a ${cell === 'rnn' ? 1 : 2} x 24 ${CELL_KINDS[cell].name} \\(`));
      if (cell === 'lstm') assert.match(res.stdout, /reading lstm\.\* as rnn\.\*, decoder\.\* as head\.\*, encoder\.\* as embedding\.\*/);
      if (cell === 'minlstm') assert.match(res.stdout, /\(one-hot input, .*reading cell\.\* as rnn\.\*, out\.\* as head\.\*;/);
      const ck = decodeCheckpoint(readFileSync(out));
      assert.equal(ck.meta.createdBy, 'recur import-torch');
      checkAgainst(ck.model, json<Expected>(`interop_torch_${cell}_expected.json`), `imported torch-trained ${cell}`, t);
      const s = run('sample', out, '--prime', 'ROMEO:', '--length', '40', '--seed', '3');
      assert.equal(s.status, 0, s.stderr);
      assert.ok(s.stdout.startsWith('ROMEO:') && [...s.stdout].length === 6 + 40 + 1, JSON.stringify(s.stdout));
    });
  }

  for (const cell of CELLS) {
    it(`${cell}: a block model's state dict imports by recur's names, gives PyTorch's logits and states, and recur sample uses it`, (t) => {
      const out = join(dir, `${cell}${BLOCKS}.safetensors`);
      const res = run(
        'import-torch',
        fileURLToPath(fixture(`interop_torch_${cell}${BLOCKS}.safetensors`)),
        '--vocab',
        fileURLToPath(fixture(`interop_torch_${cell}${BLOCKS}_vocab.json`)),
        '--model',
        cell,
        '--out',
        out,
      );
      assert.equal(res.status, 0, res.stderr);
      assert.match(
        res.stdout,
        new RegExp(
          `^recur: imported a block model, 2 blocks x 12 ${CELL_KINDS[cell].name} \\(RMSNorm, GELU FFN 48\\), vocabulary 58, [\\d,]+ parameters; saved`,
        ),
      );
      const ck = decodeCheckpoint(readFileSync(out));
      assert.equal(ck.meta.version, 3);
      assert.equal(ck.model.config.blocks, true);
      checkAgainst(ck.model, json<Expected>(`interop_torch_${cell}${BLOCKS}_expected.json`), `imported torch-trained ${cell} blocks`, t);
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

  it('a state dict without weight_hh_l0 is a scan kind: MinGRU or MinLSTM by the gate blocks in weight_ih_l0, H from the output layer', () => {
    const vocab = parseVocab(readFileSync(fixture('interop_torch_mingru_vocab.json'), 'utf8'));
    const gruSd = readSafetensors(readFileSync(fixture('interop_torch_gru.safetensors')));
    const minGruSd = readSafetensors(readFileSync(fixture('interop_torch_mingru.safetensors')));
    const minLstmSd = readSafetensors(readFileSync(fixture('interop_torch_minlstm.safetensors')));
    assert.equal(charLMFromTorch(minGruSd, vocab).model.config.model, 'mingru');
    assert.equal(charLMFromTorch(minLstmSd, vocab).model.config.model, 'minlstm');
    // a GRU and a MinLSTM both stack 3 gate blocks; the GRU's weight_hh_l0 tells them apart
    assert.equal(gruSd['rnn.weight_ih_l0'].shape[0], minLstmSd['cell.weight_ih_l0'].shape[0]);
    assert.equal(charLMFromTorch(gruSd, vocab).model.config.model, 'gru');
    assert.throws(
      () => charLMFromTorch(gruSd, vocab, { model: 'minlstm' }),
      /^Error: the weights are a GRU \(3 gate blocks in 'rnn\.weight_hh_l0'\), not a MinLSTM$/,
    );
    assert.throws(
      () => charLMFromTorch(minLstmSd, vocab, { model: 'gru' }),
      /^Error: the weights are a MinLSTM \(3 gate blocks in 'cell\.weight_ih_l0' and no 'cell\.weight_hh_l0'\), not a GRU$/,
    );
    // a GRU with its weight_hh_l1 but not weight_hh_l0 is not a MinLSTM either
    const { 'rnn.weight_hh_l0': _, ...gruCut } = gruSd;
    assert.throws(() => charLMFromTorch(gruCut, vocab), /unexpected keys in the recurrent layer: rnn\.bias_hh_l0, rnn\.weight_hh_l1, rnn\.bias_hh_l1/);
    // H is the head's input width: a head on 12 units makes MinGRU's [48, 12] weight 4 blocks, which no scan kind has
    const narrowHead = { ...minGruSd, 'head.weight': r.zeros([58, 12]) };
    assert.throws(
      () => charLMFromTorch(narrowHead, vocab),
      new RegExp(
        "^Error: unknown cell type: 'rnn\\.weight_ih_l0' has shape \\[48,12\\] and there is no 'rnn\\.weight_hh_l0', so its gates read only the input, " +
          "and 4 gate blocks of the 12 hidden units 'head\\.weight' \\[58,12\\] reads \\(MinGRU has 2, MinLSTM 3\\)$",
      ),
    );
    const badLayer = { ...minGruSd, 'rnn.weight_ih_l1': r.zeros([48, 20]) };
    assert.throws(
      () => charLMFromTorch(badLayer, vocab),
      /'rnn\.weight_ih_l1' has shape \[48,20\] but a MinGRU of 2 layer\(s\) and 24 units \(the width 'head\.weight' reads\) on the layer below needs \[48,24\]/,
    );
    // bias=False: zeros, as for the step kinds
    const noBias = Object.fromEntries(Object.entries(minLstmSd).filter(([k]) => !k.startsWith('cell.bias_')));
    assert.deepEqual(Array.from(charLMFromTorch(noBias, vocab).model.stateDict()['rnn.bias_ih_l1'].data), new Array(72).fill(0));
  });

  it("a block model's state dict: every weight and shape checked, a cell's missing biases are zeros, anything else wrong is one sentence", () => {
    const vocab = parseVocab(readFileSync(fixture(`interop_torch_mingru${BLOCKS}_vocab.json`), 'utf8'));
    const sd = readSafetensors(readFileSync(fixture(`interop_torch_mingru${BLOCKS}.safetensors`)));
    const model = "a 2-block MinGRU model of width 12 \\(the width 'embedding\\.weight' \\[58,12\\] gives\\)";
    const without = (...names: string[]): Record<string, Tensor> => Object.fromEntries(Object.entries(sd).filter(([k]) => !names.includes(k)));
    const noBias = charLMFromTorch(without('blocks.0.cell.bias_ih_l0', 'blocks.1.cell.bias_ih_l0'), vocab).model;
    assert.deepEqual(Array.from(noBias.stateDict()['blocks.1.cell.bias_ih_l0'].data), new Array(24).fill(0));
    assert.deepEqual(noBias.stateDict()['blocks.1.ffn.2.bias'].data, sd['blocks.1.ffn.2.bias'].data);
    for (const [what, dict, message] of [
      ['a missing weight', without('blocks.1.ffn.2.bias'), new RegExp(`^'blocks\\.1\\.ffn\\.2\\.bias' is missing but ${model} needs \\[12\\]$`)],
      [
        'a missing cell weight',
        without('blocks.1.cell.weight_ih_l0'),
        new RegExp(`^'blocks\\.1\\.cell\\.weight_ih_l0' is missing but ${model} needs \\[24,12\\]$`),
      ],
      [
        'a misshapen norm',
        { ...sd, 'blocks.0.norm2.weight': r.ones([13]) },
        new RegExp(`^'blocks\\.0\\.norm2\\.weight' has shape \\[13\\] but ${model} needs \\[12\\]$`),
      ],
      [
        'a cell of another width',
        { ...sd, 'blocks.1.cell.weight_ih_l0': r.zeros([24, 8]) },
        new RegExp(`^'blocks\\.1\\.cell\\.weight_ih_l0' has shape \\[24,8\\] but ${model} needs \\[24,12\\]$`),
      ],
      [
        'a gap in the block numbers',
        { ...sd, 'blocks.3.norm1.weight': r.ones([12]) },
        new RegExp(`^unexpected keys for ${model}: blocks\\.3\\.norm1\\.weight$`),
      ],
      ['no embedding', without('embedding.weight'), /^the state dict has blocks\.0\.\* keys, as a block model has, but no 'embedding\.weight'$/],
      [
        'a cell of no kind',
        { ...sd, 'blocks.0.cell.weight_ih_l0': r.zeros([48, 12]), 'blocks.0.cell.weight_hh_l0': r.zeros([24, 12]) },
        /^unknown cell type: 'blocks\.0\.cell\.weight_hh_l0' has shape \[24,12\], which is 2 gate blocks of 12 \(LSTM has 4, GRU 3, RNN 1\)$/,
      ],
      [
        'another vocabulary',
        { ...sd, 'head.weight': r.zeros([57, 12]), 'head.bias': r.zeros([57]) },
        /^the vocabulary has 58 characters but the model's output layer has 57$/,
      ],
    ] as const) {
      assert.throws(
        () => charLMFromTorch(dict, vocab),
        (e: Error) => message.test(e.message) && !e.message.includes('\n'),
        what,
      );
    }
    assert.throws(
      () => charLMFromTorch(sd, vocab, { model: 'gru' }),
      /^Error: the weights are a MinGRU \(2 gate blocks in 'blocks\.0\.cell\.weight_ih_l0' and no 'blocks\.0\.cell\.weight_hh_l0'\), not a GRU$/,
    );
  });

  it('a state dict of several recurrent modules not under blocks.{i}.* is refused in one sentence', () => {
    const vocab = parseVocab(readFileSync(fixture('interop_torch_mingru_vocab.json'), 'utf8'));
    const sd = readSafetensors(readFileSync(fixture('interop_torch_mingru.safetensors')));
    const twice = { ...sd, 'decoder.rnn.weight_ih_l0': sd['rnn.weight_ih_l0'], 'decoder.rnn.bias_ih_l0': sd['rnn.bias_ih_l0'] };
    assert.throws(
      () => charLMFromTorch(twice, vocab),
      new RegExp(
        '^Error: the state dict has 2 recurrent modules \\(rnn\\.weight_ih_l0, decoder\\.rnn\\.weight_ih_l0\\); recur imports a plain stack ' +
          '\\(an optional embedding, one recurrent module and one output layer\\) or a block model under its own names \\(blocks\\.0\\.\\*, \\.\\.\\.\\)$',
      ),
    );
  });

  it('bad input: one sentence and exit 1 (missing file, a pickle, wrong shapes, vocabulary size, unknown cell type, cell mismatch, GRU vs MinLSTM, an incomplete block model)', () => {
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
    fails(run('import-torch', sd, '--vocab', vocab, '--model', 'gru'), 1, /the weights are an LSTM \(4 gate blocks in 'lstm\.weight_hh_l0'\), not a GRU/);
    fails(run('import-torch', sd, '--vocab', vocab, '--model', 'transformer'), 2, /Allowed choices are lstm, gru, rnn/);
    const minLstm = fileURLToPath(fixture('interop_torch_minlstm.safetensors'));
    fails(
      run('import-torch', minLstm, '--vocab', vocab, '--model', 'gru'),
      1,
      /the weights are a MinLSTM \(3 gate blocks in 'cell\.weight_ih_l0' and no 'cell\.weight_hh_l0'\), not a GRU/,
    );
    fails(
      run('import-torch', fileURLToPath(fixture('interop_torch_gru.safetensors')), '--vocab', vocab, '--model', 'minlstm'),
      1,
      /the weights are a GRU \(3 gate blocks in 'rnn\.weight_hh_l0'\), not a MinLSTM/,
    );
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
    const blockSd = readSafetensors(readFileSync(fixture(`interop_torch_lstm${BLOCKS}.safetensors`)));
    const blockCut = Object.fromEntries(Object.entries(blockSd).filter(([k]) => k !== 'norm.weight'));
    fails(
      run('import-torch', save('block-cut.safetensors', blockCut), '--vocab', vocab),
      1,
      /^recur: 'block-cut\.safetensors' cannot be imported: 'norm\.weight' is missing but a 2-block LSTM model of width 12 .* needs \[12\]\n$/,
    );
    const noRnn = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('lstm.')));
    fails(run('import-torch', save('no-rnn.safetensors', noRnn), '--vocab', vocab), 1, /has no recurrent layer/);
    fails(run('import-torch', fileURLToPath(fixture('interop_recur_lstm.safetensors')), '--vocab', vocab), 1, /is already a recur checkpoint/);
    fails(run('import-torch', sd), 2, /required option '--vocab <file>' not specified/);
  });
});
