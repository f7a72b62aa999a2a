/**
 * Char models of every cell kind, as plain stacks and as block models
 * (config.blocks), through real PyTorch, at test time:
 * recur checkpoints run by tools/torch_interop.py (`to-torch`, then loaded as
 * a user loads the .pt) give recur's logits and final states, come back
 * unchanged through `from-torch`, and state dicts trained in PyTorch (under
 * other module names) give PyTorch's logits after `recur import-torch`. One
 * Python process does all the PyTorch side. Needs Debian's python3-torch at
 * /usr/bin/python3 and the built CLI (npm run build); skipped (with one line
 * saying so) where torch is missing. test/interop.test.ts checks the same
 * without Python, on fixtures.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as r from '../src/index.js';
import { CharTokenizer, decodeCheckpoint, encodeCheckpoint, LanguageModel, Rng, type LanguageModelConfig } from '../src/index.js';
import { CELL_KIND_NAMES, CELL_KINDS, type CellKind } from '../src/nn/rnn/kinds.js';
import { assertRelClose } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const tools = fileURLToPath(new URL('../tools', import.meta.url));
const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));

const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skip = 'python3-torch is not installed (apt-get install python3-torch)';
if (!haveTorch) console.log(`# PyTorch round-trip tests skipped: ${skip}`);

const CHARS = [...'abcdefghij .,\n'];
const [B, T, L, H] = [2, 7, 2, 8];
const IDS = Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % CHARS.length);

/** A model to move both ways: each kind as a plain stack and as a block model. */
interface Variant {
  /** The kind, with '_blocks' for the block form: the name of its files. */
  name: string;
  kind: CellKind;
  config: LanguageModelConfig;
}
/** Every other kind's plain stack reads one-hot vectors, so both input layers are crossed; a block model's embedding is as wide as its blocks. */
const VARIANTS: Variant[] = CELL_KIND_NAMES.flatMap((kind, i) => {
  const base = { vocabSize: CHARS.length, model: kind, layers: L, hidden: H, dropout: 0 };
  return [
    { name: kind, kind, config: { ...base, embed: i % 2 ? 0 : 6 } },
    { name: `${kind}_blocks`, kind, config: { ...base, embed: H, blocks: true } },
  ];
});

interface TorchRun {
  logits: number[];
  h: number[];
  c?: number[];
}
interface TorchSide {
  /** PyTorch's float64 runs of the recur checkpoint: from zeros, and from the given state. */
  recur: TorchRun[];
  /** The same for the model trained in PyTorch, whose state dict is torch_<kind>.safetensors. */
  torch: TorchRun[];
}

/**
 * For each variant: to-torch the recur checkpoint, load the .pt, run it, from-torch it back; train a
 * model of the same shape in PyTorch for a few steps and save its state dict, a plain stack's under
 * other names, a block model's under recur's (which it needs).
 */
const DRIVER = String.raw`
import json, sys
import torch
sys.path.insert(0, sys.argv[1])
import torch_interop as ti
job = json.loads(sys.argv[2])
ids = torch.tensor(job['ids']).reshape(job['B'], job['T'])

def runs(model, kind, init):
    out = []
    for start in (None, init):
        if start is not None and kind == 'lstm':
            start = tuple(torch.tensor(s, dtype=torch.float64).reshape(job['L'], job['B'], job['H']) for s in start)
        elif start is not None:
            start = torch.tensor(start[0], dtype=torch.float64).reshape(job['L'], job['B'], job['H'])
        logits, st = ti.logits_for(model, ids, start)
        h, c = st if kind == 'lstm' else (st, None)
        run = {'logits': logits.reshape(-1).tolist(), 'h': h.reshape(-1).tolist()}
        if c is not None:
            run['c'] = c.reshape(-1).tolist()
        out.append(run)
    return out

result = {}
for i, v in enumerate(job['variants']):
    name, kind, config = v['name'], v['kind'], v['config']
    init = job['init'][name]
    ti.main(['to-torch', f'recur_{name}.safetensors', '--out', f'{name}.pt'])
    model, vocab = ti.load_pt(f'{name}.pt')
    assert model.config == config, (model.config, config)
    ti.main(['from-torch', f'{name}.pt', '--out', f'back_{name}.safetensors'])
    torch.manual_seed(100 + i)
    cm = ti.model_for(config)
    opt = torch.optim.Adam(cm.parameters(), lr=0.02)
    for _ in range(20):
        x = torch.randint(0, len(vocab), (4, 9))
        loss = torch.nn.functional.cross_entropy(cm(x[:, :-1])[0].reshape(-1, len(vocab)), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    sd = cm.state_dict()
    if not config.get('blocks'):
        names = {'embedding.': 'embed.', 'rnn.': 'layers.', 'head.': 'proj.'}
        sd = {names[k[:k.index('.') + 1]] + k[k.index('.') + 1:]: v for k, v in sd.items()}
    ti.write_safetensors(f'torch_{name}.safetensors', sd, {'format': 'pt'})
    result[name] = {'recur': runs(model, kind, init), 'torch': runs(cm.eval(), kind, init)}

# what the tool cannot convert: a state dict of several recurrent modules not under blocks.{i}.*, a
# block model's without one of its weights or under other names, a scan state dict whose weight_ih_l0
# has a block count no scan kind has, a GRU without weight_hh_l0
sd, _ = ti.read_safetensors('torch_mingru.safetensors')
ti.write_safetensors('stacked.safetensors', {**sd, 'extra.weight_ih_l0': sd['layers.weight_ih_l0']})
ti.write_safetensors('narrow.safetensors', {**sd, 'proj.weight': sd['proj.weight'][:, :4]})
blocks, _ = ti.read_safetensors('torch_mingru_blocks.safetensors')
ti.write_safetensors('block-cut.safetensors', {k: v for k, v in blocks.items() if k != 'blocks.1.ffn.2.bias'})
ti.write_safetensors('block-renamed.safetensors', {k.replace('embedding.', 'embed.'): v for k, v in blocks.items()})
gru, _ = ti.read_safetensors('torch_gru.safetensors')
ti.write_safetensors('gru-cut.safetensors', {k: v for k, v in gru.items() if 'weight_hh' not in k})
refusals = {}
for name, argv in job['refusals'].items():
    try:
        ti.main(argv)
        refusals[name] = None
    except SystemExit as e:
        refusals[name] = str(e.code)
result['refusals'] = refusals
json.dump(result, open('result.json', 'w'))
`;

describe('char models through PyTorch (tools/torch_interop.py on /usr/bin/python3)', { skip: !haveTorch && skip }, () => {
  let dir = '';
  const models = new Map<string, LanguageModel>();
  const inits = new Map<string, { h: number[]; c?: number[] }>();
  let torchSide: Record<string, TorchSide> = {};
  let refusals: Record<string, string | null> = {};
  const vocab = new CharTokenizer(CHARS);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'recur-torch-roundtrip-'));
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(CHARS));
    VARIANTS.forEach(({ name, kind, config }, i) => {
      const model = new LanguageModel(config, { rng: new Rng(10 + i) });
      models.set(name, model);
      writeFileSync(join(dir, `recur_${name}.safetensors`), encodeCheckpoint(model, vocab));
      const rng = new Rng(50 + i);
      const state = () => Array.from(r.randn([L, B, H], { rng }).data);
      inits.set(name, { h: state(), c: CELL_KINDS[kind].cellState ? state() : undefined });
    });
    const job = {
      variants: VARIANTS,
      ids: IDS,
      B,
      T,
      L,
      H,
      init: Object.fromEntries([...inits].map(([k, s]) => [k, s.c ? [s.h, s.c] : [s.h]])),
      refusals: {
        blockCut: ['from-torch', 'block-cut.safetensors', '--vocab', 'vocab.json', '--out', 'block-cut-out.safetensors'],
        blockRenamed: ['from-torch', 'block-renamed.safetensors', '--vocab', 'vocab.json', '--out', 'block-renamed-out.safetensors'],
        stacked: ['from-torch', 'stacked.safetensors', '--vocab', 'vocab.json', '--out', 'stacked-out.safetensors'],
        narrow: ['from-torch', 'narrow.safetensors', '--vocab', 'vocab.json', '--out', 'narrow-out.safetensors'],
        gruAsMinLstm: ['from-torch', 'gru-cut.safetensors', '--vocab', 'vocab.json', '--out', 'gru-cut-out.safetensors'],
      },
    };
    const res = spawnSync(PYTHON, ['-c', DRIVER, tools, JSON.stringify(job)], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(res.status, 0, res.stderr);
    ({ refusals, ...torchSide } = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { refusals: typeof refusals } & Record<string, TorchSide>);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** recur's logits and final state for IDS against PyTorch's, from zeros and from the kind's given state. */
  function matches(model: LanguageModel, name: string, want: TorchRun[], what: string): void {
    model.eval();
    const init = inits.get(name)!;
    const starts = [undefined, { h: r.tensor(init.h, [L, B, H]), c: init.c ? r.tensor(init.c, [L, B, H]) : undefined }];
    starts.forEach((state, i) => {
      const out = r.noGrad(() => model.forward(Int32Array.from(IDS), B, T, state));
      const label = `${what}, ${state ? 'given' : 'zero'} initial state`;
      assertRelClose(out.logits.data, want[i].logits, `${label}: logits`);
      assertRelClose(out.state.h.data, want[i].h, `${label}: h_n`);
      if (want[i].c) assertRelClose(out.state.c!.data, want[i].c!, `${label}: c_n`);
      else assert.equal(out.state.c, undefined, `${label}: no cell state`);
    });
  }

  for (const { name, kind, config } of VARIANTS) {
    it(`${name}: PyTorch runs the recur checkpoint (to-torch) with recur's logits and final states (rel <= 1e-4)`, () => {
      matches(models.get(name)!, name, torchSide[name].recur, `${name} recur -> torch`);
    });

    it(`${name}: from-torch gives back the checkpoint's config, version and exactly its weights`, () => {
      const back = decodeCheckpoint(readFileSync(join(dir, `back_${name}.safetensors`)));
      const model = models.get(name)!;
      assert.deepEqual(back.model.config, model.config);
      assert.equal(back.meta.version, config.blocks ? 3 : 1);
      assert.deepEqual(back.vocab.tokens, CHARS);
      const want = model.stateDict();
      const got = back.model.stateDict();
      assert.deepEqual(Object.keys(got), Object.keys(want));
      for (const [k, t] of Object.entries(want)) assert.deepEqual(got[k].data, t.data, k);
    });

    it(`${name}: a state dict trained in PyTorch imports (recur import-torch) with PyTorch's logits and final states`, () => {
      const res = spawnSync(
        process.execPath,
        [bin, 'import-torch', `torch_${name}.safetensors`, '--vocab', 'vocab.json', '--model', kind, '--out', `imported_${name}.safetensors`],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.equal(res.status, 0, res.stderr);
      if (config.blocks) {
        assert.match(res.stdout, new RegExp(`imported a block model, ${L} blocks x ${H} ${CELL_KINDS[kind].name} \\(RMSNorm, GELU FFN ${4 * H}\\), `));
      } else {
        assert.match(res.stdout, new RegExp(`imported a ${L} x ${H} ${CELL_KINDS[kind].name} \\(`));
        assert.match(res.stdout, /reading layers\.\* as rnn\.\*, proj\.\* as head\.\*/);
      }
      const ck = decodeCheckpoint(readFileSync(join(dir, `imported_${name}.safetensors`)));
      assert.deepEqual(ck.model.config, config);
      matches(ck.model, name, torchSide[name].torch, `${name} torch -> recur`);
    });
  }

  it("what the tool cannot convert is one sentence: several recurrent modules, a block model's state dict missing a weight or under other names, a scan kind of unknown width, a GRU without weight_hh_l0", () => {
    assert.equal(
      refusals.stacked,
      'the state dict has 2 recurrent modules (layers.weight_ih_l0, extra.weight_ih_l0): this tool converts a plain stack, ' +
        "one embedding, one recurrent module and one output layer, or a block model under BlockCharModel's names (blocks.0.*, ...)",
    );
    assert.match(
      refusals.blockCut!,
      /^the weights in block-cut\.safetensors do not fit a 2-block MinGRU of width 8: .*Missing key\(s\) in state_dict: "blocks\.1\.ffn\.2\.bias"/,
    );
    assert.equal(refusals.blockRenamed, "the state dict has blocks.0.* keys, as a block model has, but no 'embedding.weight': it is not a BlockCharModel");
    assert.equal(
      refusals.narrow,
      'unknown cell type: rnn.weight_ih_l0 has shape [16, 14] and there is no rnn.weight_hh_l0, with 4 hidden units read from head.weight, ' +
        "where MinGRU's 2 or MinLSTM's 3 gate blocks of 4 rows were expected",
    );
    // its W_ih stacks 3 blocks as a MinLSTM's does, but its b_hh is no MinLSTM's
    assert.match(
      refusals.gruAsMinLstm!,
      /^the weights in gru-cut\.safetensors do not fit a 2x8 MinLSTM: .*Unexpected key\(s\) in state_dict: "rnn\.bias_hh_l0"/,
    );
  });
});
