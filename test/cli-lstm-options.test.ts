/**
 * `recur train --forget-bias B --peepholes` as a user runs it (the built
 * bin): train, info, sample, resume and the usage errors; and such models
 * through PyTorch with tools/torch_interop.py on /usr/bin/python3 (a forget
 * bias folded into bias_ih gives PyTorch recur's logits, and comes back folded
 * with the same outputs; peepholes are refused), skipped in one line where
 * python3-torch is missing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as r from '../src/index.js';
import { CharTokenizer, LanguageModel, Rng, decodeCheckpoint, encodeCheckpoint, type LanguageModelConfig } from '../src/index.js';
import { CELL_KINDS, offsetGateBlock } from '../src/nn/rnn/kinds.js';
import { assertClose, assertRelClose } from './helpers.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
const tools = fileURLToPath(new URL('../tools', import.meta.url));
const PYTHON = '/usr/bin/python3';
let dir = '';
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-cli-lstm-'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(shakespeare, 'utf8').slice(0, 20000));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One plain sentence on stderr, the expected exit code, no stack trace. */
function fails(res: ReturnType<typeof run>, code: number, message: RegExp): void {
  assert.equal(res.status, code, `exit code ${res.status}, stderr: ${res.stderr}`);
  assert.match(res.stderr, message);
  assert.doesNotMatch(res.stderr, /\n\s+at .*:\d+:\d+/);
  assert.doesNotMatch(res.stderr, /internal error/);
}

const small = ['--batch', '8', '--seq', '32', '--sample-every', '0', '--eval-every', '0'];

describe('recur train --forget-bias and --peepholes', () => {
  it('--help documents both, --forget-bias with its default', () => {
    const t = run('train', '--help');
    assert.match(t.stdout, /--forget-bias <b>\s+LSTM:\s+a\s+constant[^]*?\(default:\s+0\)/);
    assert.match(t.stdout, /--peepholes\s+LSTM:\s+peephole\s+weights/);
  });

  it('a plain LSTM with both: train -> info -> sample -> resume, the options kept in the checkpoint', () => {
    const t = run(
      'train',
      'small.txt',
      '--forget-bias',
      '1',
      '--peepholes',
      '--layers',
      '2',
      '--hidden',
      '16',
      '--embed',
      '8',
      ...small,
      '--steps',
      '6',
      '--out',
      'p.st',
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^recur: training a char-level model, 2 x 16 LSTM \(peepholes, forget bias 1\), embedding 8, on 'small\.txt'/);
    const ck = decodeCheckpoint(readFileSync(join(dir, 'p.st')));
    assert.deepEqual(ck.model.config, {
      model: 'lstm',
      layers: 2,
      hidden: 16,
      embed: 8,
      dropout: r.defaultLMConfig.dropout,
      blocks: false,
      forgetBias: 1,
      peepholes: true,
      vocabSize: ck.vocab.size,
    });
    assert.equal(ck.meta.version, 4);
    assert.ok('rnn.weight_co_l1' in ck.model.stateDict());

    const i = run('info', 'p.st');
    assert.equal(i.status, 0, i.stderr);
    assert.ok(i.stdout.startsWith(`model: 2 x 16 LSTM (peepholes, forget bias 1), embedding 8, dropout ${r.defaultLMConfig.dropout}\n`), i.stdout);
    assert.match(i.stdout, new RegExp(`parameters: ${ck.model.numParameters().toLocaleString('en-US')}\\n`));

    const s = run('sample', 'p.st', '--prime', 'ROMEO:', '--length', '30', '--seed', '2');
    assert.equal(s.status, 0, s.stderr);
    assert.ok(s.stdout.startsWith('ROMEO:'));
    assert.equal(s.stdout, run('sample', 'p.st', '--prime', 'ROMEO:', '--length', '30', '--seed', '2').stdout);

    // the options come from the checkpoint; the same values given again are no disagreement
    const again = run('train', 'small.txt', '--resume', 'p.st', '--forget-bias', '1', '--peepholes', '--steps', '8', ...small, '--out', 'p.st');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /2 x 16 LSTM \(peepholes, forget bias 1\), embedding 8, on 'small\.txt' .*resuming 'p\.st' at step 6/);
    const resumed = decodeCheckpoint(readFileSync(join(dir, 'p.st')));
    assert.equal(resumed.meta.progress.step, 8);
    assert.equal(resumed.model.config.forgetBias, 1);
    assert.equal(resumed.model.config.peepholes, true);
  });

  it('an LSTM block model with a negative forget bias: train -> info -> sample', () => {
    const t = run('train', 'small.txt', '--blocks', '--forget-bias', '-0.5', '--layers', '2', '--hidden', '12', ...small, '--steps', '4', '--out', 'b.st');
    assert.equal(t.status, 0, t.stderr);
    assert.ok(
      run('info', 'b.st').stdout.startsWith(`model: 2 blocks x 12 LSTM (forget bias -0.5; RMSNorm, GELU FFN 48), dropout ${r.defaultLMConfig.dropout}\n`),
    );
    const s = run('sample', 'b.st', '--length', '20', '--seed', '3');
    assert.equal(s.status, 0, s.stderr);
    assert.equal(decodeCheckpoint(readFileSync(join(dir, 'b.st'))).model.blocks![1].cell.forgetGateOffset, -0.5);
  });

  it('bad values are usage errors (exit 2), one sentence each: not a number, another cell kind, a resumed model that disagrees', () => {
    fails(
      run('train', 'small.txt', '--forget-bias', 'one', '--steps', '1'),
      2,
      /error: option '--forget-bias <b>' argument 'one' is invalid\. expected a number\./,
    );
    fails(run('train', 'small.txt', '--forget-bias', 'Infinity', '--steps', '1'), 2, /argument 'Infinity' is invalid\. expected a number\./);
    fails(
      run('train', 'small.txt', '--model', 'gru', '--forget-bias', '1', '--steps', '1'),
      2,
      /^recur: --forget-bias is an LSTM option, and --model gru is a GRU; leave it out\n$/,
    );
    fails(
      run('train', 'small.txt', '--model', 'minlstm', '--blocks', '--peepholes', '--steps', '1'),
      2,
      /^recur: --peepholes is an LSTM option, and --model minlstm is a MinLSTM; leave it out\n$/,
    );
    const plain = run('train', 'small.txt', '--layers', '1', '--hidden', '8', '--embed', '4', ...small, '--steps', '2', '--out', 'plain.st');
    assert.equal(plain.status, 0, plain.stderr);
    fails(
      run('train', 'small.txt', '--resume', 'plain.st', '--peepholes', '--steps', '3'),
      2,
      /^recur: --peepholes disagrees with the checkpoint 'plain\.st', a 1 x 8 LSTM, embedding 4; a resumed model keeps its architecture \(leave --peepholes out\)\n$/,
    );
    fails(
      run('train', 'small.txt', '--resume', 'p.st', '--forget-bias', '2', '--steps', '9'),
      2,
      /^recur: --forget-bias 2 disagrees with the checkpoint 'p\.st', a 2 x 16 LSTM \(peepholes, forget bias 1\), embedding 8; a resumed model keeps its architecture \(leave --forget-bias out\)\n$/,
    );
  });
});

const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skip = 'python3-torch is not installed (apt-get install python3-torch)';
if (!haveTorch) console.log(`# PyTorch tests of the LSTM options skipped: ${skip}`);

const CHARS = [...'abcdefghij .,\n'];
const [B, T] = [2, 7];
const IDS = Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % CHARS.length);

/** to-torch each checkpoint, then run it in PyTorch and bring it back with from-torch; a refusal's sentence instead where there is one. */
const DRIVER = String.raw`
import json, sys
import torch
sys.path.insert(0, sys.argv[1])
import torch_interop as ti
job = json.loads(sys.argv[2])
ids = torch.tensor(job['ids']).reshape(job['B'], job['T'])
result = {}
for name in job['names']:
    try:
        ti.main(['to-torch', f'{name}.safetensors', '--out', f'{name}.pt'])
    except SystemExit as e:
        result[name] = {'refused': str(e.code)}
        continue
    model, _ = ti.load_pt(f'{name}.pt')
    logits, _ = ti.logits_for(model, ids)
    ti.main(['from-torch', f'{name}.pt', '--out', f'back_{name}.safetensors'])
    result[name] = {'config': model.config, 'logits': logits.reshape(-1).tolist()}
json.dump(result, open('torch.json', 'w'))
`;

describe('LSTM options through PyTorch (tools/torch_interop.py on /usr/bin/python3)', { skip: !haveTorch && skip }, () => {
  const vocab = new CharTokenizer(CHARS);
  const base = { vocabSize: CHARS.length, model: 'lstm', layers: 2, hidden: 8, dropout: 0 } as const;
  const configs: Record<string, LanguageModelConfig> = {
    forget: { ...base, embed: 6, forgetBias: 1.5 },
    forget_blocks: { ...base, embed: 8, blocks: true, forgetBias: -1 },
    peepholes: { ...base, embed: 6, peepholes: true },
  };
  const models = new Map<string, LanguageModel>();
  let torchSide: Record<string, { refused?: string; config?: Record<string, unknown>; logits?: number[] }> = {};
  let stdout = '';

  before(() => {
    Object.entries(configs).forEach(([name, config], i) => {
      const model = new LanguageModel(config, { rng: new Rng(30 + i) });
      model.eval();
      models.set(name, model);
      writeFileSync(join(dir, `${name}.safetensors`), encodeCheckpoint(model, vocab));
    });
    const job = { names: Object.keys(configs), ids: IDS, B, T };
    const res = spawnSync(PYTHON, ['-c', DRIVER, tools, JSON.stringify(job)], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(res.status, 0, res.stderr);
    stdout = res.stdout;
    torchSide = JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8'));
  });

  const logits = (m: LanguageModel): Float32Array => r.noGrad(() => m.forward(Int32Array.from(IDS), B, T)).logits.toFloat32Array();

  for (const name of ['forget', 'forget_blocks']) {
    it(`${name}: to-torch folds the forget bias into bias_ih, and nn.LSTM gives recur's logits (rel <= 1e-4)`, () => {
      const side = torchSide[name];
      assert.equal(side.refused, undefined);
      assert.equal(side.config!.forgetBias, undefined, "PyTorch's model has no forget bias of its own");
      assert.match(stdout, new RegExp(`wrote ${name}\\.pt: .*, its forget bias ${configs[name].forgetBias} folded into bias_ih\\n`));
      assertRelClose(side.logits!, logits(models.get(name)!), `${name}: PyTorch's logits`);
    });

    it(`${name}: from-torch brings it back with the bias folded in and forgetBias 0: the same logits`, () => {
      const model = models.get(name)!;
      const back = decodeCheckpoint(readFileSync(join(dir, `back_${name}.safetensors`)));
      const { forgetBias, ...rest } = configs[name];
      assert.deepEqual(back.model.config, rest);
      back.model.eval();
      assertClose(logits(back.model), logits(model), 1e-5, 1e-4, `${name}: recur's logits after the round trip`);
      // exactly the forget rows moved, by the offset
      const H = configs[name].hidden;
      const f = offsetGateBlock('lstm');
      const bih = CELL_KINDS.lstm.params(0).biasIh;
      const key = configs[name].blocks ? `blocks.0.cell.${bih}` : `rnn.${bih}`;
      const before = model.stateDict()[key].data,
        after = back.model.stateDict()[key].data;
      before.forEach((v, j) => {
        const want = j >= f * H && j < (f + 1) * H ? Math.fround(v + forgetBias!) : v;
        assert.equal(after[j], want, `${key}[${j}]`);
      });
    });
  }

  it("peepholes: to-torch refuses, in one sentence (PyTorch's nn.LSTM has none)", () => {
    assert.equal(
      torchSide.peepholes.refused,
      "peepholes.safetensors is an LSTM with peepholes, which PyTorch's nn.LSTM does not have, so it cannot be converted",
    );
  });
});
