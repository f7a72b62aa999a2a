/**
 * Checkpoint integrity ("nothing lost, nothing misreported"): the CRC-32s a
 * checkpoint records of its tensors and of its recur metadata, NaN and
 * infinities refused at load, a resumed run's NaN loss blamed on the
 * checkpoint when its weights are the cause, and fault injection: hundreds of
 * damaged copies of two real checkpoints (char and word level, with
 * optimizer moments and carried state), each of which decodeCheckpoint and
 * the sampler must refuse with one sentence or read exactly as the original.
 */
import { describe, it, before, after } from 'node:test';
import { buildSafetensors as build } from './helpers.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  Rng,
  CharTokenizer,
  WordTokenizer,
  decodeCheckpoint,
  defaultTrainOptions,
  encodeCheckpoint,
  readSafetensors,
  readSafetensorsMetadata,
  trainLM,
  writeSafetensors,
  type Checkpoint,
  type TrainOptions,
} from '../src/index.js';
import type { LMTokenizer } from '../src/text/tokenizers.js';
import { Sampler } from '../src/sampler/index.js';
import { crc32, crc32Hex } from '../src/io/crc32.js';
import type { FaultJob, FaultOutcome, Reading } from './checkpoint-faults-worker.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const NAME = "'m.st'";
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-faults-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Exit code 1 and exactly one line on stderr, no stack trace; returns that line. */
function cliFails(args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 1, `recur ${args.join(' ')}: exit code ${r.status}, stderr: ${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  return r.stderr.trimEnd();
}

// ---- real checkpoints, trained a few steps ----

const text = 'to be, or not to be: that is the question. whether tis nobler in the mind to suffer\n'.repeat(12);
const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  ...defaultTrainOptions,
  batch: 2,
  seq: 8,
  lr: 0.01,
  steps: 3,
  evalEvery: 0,
  sampleEvery: 0,
  sampleLength: 10,
  ...o,
});

/** The checkpoint trainLM hands over at the end: weights, Adam moments, carried state, progress with a validation loss. */
async function trained(vocab: LMTokenizer, model: 'lstm' | 'gru'): Promise<Uint8Array> {
  let bytes: Uint8Array | null = null;
  await trainLM(
    { text, vocab, config: { model, layers: 1, hidden: 8, embed: 4, dropout: 0 }, options: opts() },
    {
      onCheckpoint: (b) => {
        bytes = b;
      },
    },
  );
  return bytes!;
}
const charCk = await trained(CharTokenizer.fromTexts(text), 'lstm');
const wordCk = await trained(WordTokenizer.fromText(text, { minCount: 1 }), 'gru');

/** A checkpoint's parts: the header object, where the data starts, each tensor's byte range in the file. */
function layout(bytes: Uint8Array): { header: Record<string, any>; dataStart: number; tensors: [string, number, number][] } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const dataStart = 8 + n;
  const tensors = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([k, e]: [string, any]): [string, number, number] => [k, dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]]);
  return { header, dataStart, tensors };
}

/** The checkpoint as written by a model whose tensors were changed (valid checksums: encodeCheckpoint recomputes them). */
function reencode(ck: Checkpoint, edit: (ck: Checkpoint) => void): Uint8Array {
  edit(ck);
  return encodeCheckpoint(ck.model, ck.vocab, {
    options: ck.meta.options,
    progress: ck.meta.progress,
    optimizer: ck.optimizer,
    rng: ck.meta.rng,
    state: ck.state,
  });
}

/** One line, starting with the file's name, with no sign of an unformatted value in it. */
function assertSentence(message: string, what: string): void {
  assert.ok(message.startsWith(`${NAME} `), `${what}: the message does not start with the file name: ${message}`);
  assert.ok(!/[\r\n]/.test(message), `${what}: the message is more than one line: ${message}`);
  assert.doesNotMatch(message.replace('NaN or infinite values', ''), /undefined|NaN|\[object/, `${what}: ${message}`);
}

describe('CRC-32', () => {
  it('gives zlib\'s values (the check value of "123456789", every length and alignment up to 70 bytes, continued over pieces)', () => {
    assert.equal(crc32Hex(new TextEncoder().encode('123456789')), 'cbf43926');
    const rng = new Rng(3);
    const b = Uint8Array.from({ length: 5000 }, () => Math.floor(rng.random() * 256));
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 70; len++)
        assert.equal(crc32(b.subarray(start, start + len)), zlibCrc32(b.subarray(start, start + len)), `bytes ${start}..${start + len}`);
    }
    assert.equal(crc32(b.subarray(1777), crc32(b.subarray(0, 1777))), zlibCrc32(b));
  });
});

describe('checkpoint checksums', () => {
  it("a checkpoint records the CRC-32 of every tensor's bytes in its recur metadata, and of that metadata beside it", () => {
    const { header, tensors } = layout(charCk);
    const meta = JSON.parse(header.__metadata__.recur);
    assert.deepEqual(Object.keys(meta.checksums).sort(), tensors.map(([k]) => k).sort());
    for (const [k, begin, end] of tensors) assert.equal(meta.checksums[k], zlibCrc32(charCk.subarray(begin, end)).toString(16).padStart(8, '0'), k);
    assert.equal(header.__metadata__.recur_crc32, zlibCrc32(new TextEncoder().encode(header.__metadata__.recur)).toString(16).padStart(8, '0'));
    assert.ok(tensors.some(([k]) => k.startsWith('optim.')) && tensors.some(([k]) => k === 'state.c'), 'the moments and the carried state are covered too');
  });

  it('a changed byte in a tensor names that tensor, in decodeCheckpoint, the sampler and the CLI', () => {
    const [, begin] = layout(charCk).tensors.find(([k]) => k === 'rnn.weight_hh_l0')!;
    const bad = charCk.slice();
    bad[begin + 5] ^= 0x10;
    const message = /^'m\.st' is damaged: tensor 'rnn\.weight_hh_l0' fails its checksum$/;
    assert.throws(() => decodeCheckpoint(bad, NAME), { message });
    assert.throws(() => new Sampler(bad, NAME), { message });
    writeFileSync(join(dir, 'm.st'), bad);
    assert.equal(cliFails(['info', 'm.st']), "recur: 'm.st' is damaged: tensor 'rnn.weight_hh_l0' fails its checksum");
  });

  it('a changed byte in the recur metadata (the last validation loss) names the metadata instead of misreporting it', () => {
    // a digit of the loss changed in place: still valid JSON, still a plausible loss
    const key = '\\"lastValLoss\\":';
    const at = Buffer.from(charCk).indexOf(key) + key.length + 3;
    assert.ok(at > key.length + 3 && /[0-9]/.test(String.fromCharCode(charCk[at])), 'a digit of the loss');
    const bad = charCk.slice();
    bad[at] = bad[at] === 0x35 ? 0x36 : 0x35;
    const loss = JSON.parse(readSafetensorsMetadata(charCk).recur).progress.lastValLoss;
    const changed = JSON.parse(readSafetensorsMetadata(bad).recur).progress.lastValLoss;
    assert.ok(Number.isFinite(changed) && changed !== loss, `${changed} vs ${loss}`);
    const message = /^'m\.st' is damaged: its recur metadata fails its checksum$/;
    assert.throws(() => decodeCheckpoint(bad, NAME), { message });
    assert.throws(() => new Sampler(bad, NAME), { message });
    writeFileSync(join(dir, 'm.st'), bad);
    assert.equal(cliFails(['info', 'm.st']), "recur: 'm.st' is damaged: its recur metadata fails its checksum");
    // without the metadata's checksum the same file would report the changed loss
    const { header, dataStart } = layout(bad);
    delete header.__metadata__.recur_crc32;
    assert.equal(decodeCheckpoint(build(header, bad.subarray(dataStart)), NAME).meta.progress.lastValLoss, changed);
  });

  it("tools/torch_interop.py's save_recur writes the same checksums, so its files are verified too", (t) => {
    const file = join(dir, 'py.st');
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(fileURLToPath(new URL('../tools/', import.meta.url)))})
try:
    import torch
except ImportError:
    sys.exit(3)
from torch_interop import CharModel, save_recur
torch.manual_seed(0)
save_recur(CharModel(3, 'gru', 1, 4, 2), ['a', 'b', '\\u00e9'], sys.argv[1])`;
    // the tool's own interpreter (its #! line), with Debian's python3-torch; npm test does not need either
    const r = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
    if (r.error || r.status === 3) {
      t.skip('no /usr/bin/python3 with torch');
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    const bytes = new Uint8Array(readFileSync(file));
    const { header, tensors } = layout(bytes);
    assert.match(header.__metadata__.recur_crc32, /^[0-9a-f]{8}$/);
    assert.equal(Object.keys(JSON.parse(header.__metadata__.recur).checksums).length, 7);
    assert.deepEqual(decodeCheckpoint(bytes, NAME).vocab.tokens, ['a', 'b', 'é']);
    const [, begin] = tensors.find(([k]) => k === 'head.weight')!;
    bytes[begin] ^= 1;
    assert.throws(() => decodeCheckpoint(bytes, NAME), { message: /^'m\.st' is damaged: tensor 'head\.weight' fails its checksum$/ });
  });

  it('checkpoints from before checksums (the fixtures) still load, in decodeCheckpoint and the sampler', () => {
    const fixtures = readdirSync(fileURLToPath(new URL('./fixtures/', import.meta.url))).filter((f) => f.endsWith('.safetensors'));
    let loaded = 0;
    for (const f of fixtures) {
      const bytes = new Uint8Array(readFileSync(new URL(`./fixtures/${f}`, import.meta.url)));
      const metadata = readSafetensorsMetadata(bytes);
      if (!metadata.recur) continue; // a PyTorch state dict, not a checkpoint
      if (f.startsWith('tokenizer_')) continue; // written with checksums, for tokenizer-compat.test.ts
      // the minGRU/minLSTM and block-model interop fixtures came after checksums, and carry them
      if (/_min(gru|lstm)[._]|_blocks[._]/.test(f)) continue;
      assert.equal(metadata.recur_crc32, undefined, f);
      assert.equal(JSON.parse(metadata.recur).checksums, undefined, f);
      assert.ok(decodeCheckpoint(bytes, `'${f}'`).model.numParameters() > 0, f);
      assert.ok(new Sampler(bytes, `'${f}'`).sample({ seed: 1, length: 5 }).length > 0, f);
      loaded++;
    }
    assert.ok(loaded >= 6, `${loaded} recur checkpoints among the fixtures`);
  });
});

describe('NaN and infinite values are refused at load', () => {
  const nanCk = reencode(decodeCheckpoint(charCk), (ck) => {
    ck.model.stateDict()['head.weight'].data[3] = NaN;
  });
  const slots = Object.keys(decodeCheckpoint(charCk).optimizer!.state);
  const infState = reencode(decodeCheckpoint(charCk), (ck) => {
    ck.state!.c!.data[0] = -Infinity;
  });
  const infMoment = reencode(decodeCheckpoint(charCk), (ck) => {
    ck.optimizer!.state[slots[1]].data[0] = Infinity;
  });
  const nanMessage = (tensor: string): RegExp => new RegExp(`^'m\\.st' is damaged: tensor '${tensor.replace(/\./g, '\\.')}' holds NaN or infinite values$`);

  it('a weight, with valid checksums: decodeCheckpoint, the sampler and the CLI', () => {
    assert.throws(() => decodeCheckpoint(nanCk, NAME), { message: nanMessage('head.weight') });
    assert.throws(() => new Sampler(nanCk, NAME), { message: nanMessage('head.weight') });
    writeFileSync(join(dir, 'm.st'), nanCk);
    assert.equal(cliFails(['info', 'm.st']), "recur: 'm.st' is damaged: tensor 'head.weight' holds NaN or infinite values");
    assert.equal(cliFails(['sample', 'm.st', '--length', '5']), "recur: 'm.st' is damaged: tensor 'head.weight' holds NaN or infinite values");
  });

  it('the carried state and the optimizer moments too, which the sampler does not use but a resumed run would', () => {
    for (const [bytes, tensor] of [
      [infState, 'state.c'],
      [infMoment, `optim.${slots[1]}`],
    ] as const) {
      assert.throws(() => decodeCheckpoint(bytes, NAME), { message: nanMessage(tensor) });
      assert.throws(() => new Sampler(bytes, NAME), { message: nanMessage(tensor) });
    }
  });

  it('in a checkpoint from before checksums as well', () => {
    const meta = JSON.parse(readSafetensorsMetadata(nanCk).recur);
    delete meta.checksums;
    const old = writeSafetensors(readSafetensors(nanCk), { recur: JSON.stringify(meta) });
    assert.throws(() => decodeCheckpoint(old, NAME), { message: nanMessage('head.weight') });
    assert.throws(() => new Sampler(old, NAME), { message: nanMessage('head.weight') });
  });
});

describe('a NaN loss on resume names the checkpoint when its weights are the cause', () => {
  // finite weights whose logits overflow float32 (rows of ±3e38): the loss is infinite or NaN before any update
  const huge = reencode(decodeCheckpoint(charCk), (ck) => {
    const w = ck.model.stateDict()['head.weight'];
    for (let i = 0; i < w.data.length; i++) w.data[i] = Math.floor(i / w.shape[1]) % 2 ? 3e38 : -3e38;
  });
  const message =
    /^training stopped at step 4: the checkpoint 'huge\.st' is the cause, not the learning rate: its weights give a loss of (NaN|Infinity) on the first batch before any training; resume from an earlier checkpoint or train anew$/;

  it('trainLM: the checkpoint, not the learning rate', async () => {
    const ck = decodeCheckpoint(huge, "'huge.st'"); // finite, with valid checksums: it loads
    await assert.rejects(trainLM({ text, vocab: ck.vocab, options: opts({ steps: 6 }), resume: ck, resumeName: "'huge.st'" }), { message });
  });

  it('a sound checkpoint resumed with a learning rate that blows up still blames the learning rate', async () => {
    const ck = decodeCheckpoint(charCk);
    await assert.rejects(trainLM({ text, vocab: ck.vocab, options: opts({ steps: 20, lr: 1e38, clip: 0 }), resume: ck, resumeName: "'m.st'" }), {
      message: /^training stopped at step \d+: the loss became (NaN|Infinity|-Infinity); the last checkpoint was kept\. Try a smaller --lr or --clip$/,
    });
  });

  it('recur train --resume says so in one sentence', () => {
    writeFileSync(join(dir, 'huge.st'), huge);
    writeFileSync(join(dir, 'text.txt'), text);
    const line = cliFails(['train', 'text.txt', '--resume', 'huge.st', '--batch', '2', '--seq', '8', '--steps', '6', '--out', 'out.st']);
    assert.match(line.replace(/^recur: /, ''), message);
  });
});

// ---- fault injection ----

interface Fault {
  kind: string;
  what: string;
  bytes: Uint8Array;
  source: 'char' | 'word';
  expect?: RegExp;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Damaged copies of one checkpoint: random bytes and bits, truncations at every boundary, edited headers. */
function faults(original: Uint8Array, source: 'char' | 'word', rng: Rng): Fault[] {
  const out: Fault[] = [];
  const { header, dataStart, tensors } = layout(original);
  const data = original.subarray(dataStart);
  const int = (n: number): number => Math.floor(rng.random() * n);
  const add = (kind: string, what: string, bytes: Uint8Array, expect?: RegExp): void => {
    out.push({ kind, what: `${source}: ${what}`, bytes, source, expect });
  };
  const owner = (pos: number): string => tensors.find(([, b, e]) => pos >= b && pos < e)![0];

  for (let i = 0; i < 60; i++) {
    const pos = int(original.length),
      b = original.slice();
    b[pos] ^= 1 + int(255);
    add('byte anywhere', `byte ${pos} changed to ${b[pos]}`, b, pos >= dataStart ? new RegExp(`tensor '${esc(owner(pos))}' fails its checksum`) : undefined);
  }
  for (let i = 0; i < 40; i++) {
    const pos = int(dataStart),
      b = original.slice();
    b[pos] ^= 1 + int(255);
    add('byte in length or header', `byte ${pos} changed to ${b[pos]}`, b);
  }
  for (let i = 0; i < 30; i++) {
    const pos = dataStart + int(data.length),
      bit = int(8),
      b = original.slice();
    b[pos] ^= 1 << bit;
    add(
      'bit in data',
      `bit ${bit} of byte ${pos} (in '${owner(pos)}')`,
      b,
      new RegExp(`^'m\\.st' is damaged: tensor '${esc(owner(pos))}' fails its checksum$`),
    );
  }

  const cuts = new Set([4, 8, 8 + Math.floor((dataStart - 8) / 2), dataStart - 1, dataStart, original.length - 1]);
  for (const [, b, e] of tensors)
    cuts
      .add(b)
      .add(e)
      .add(Math.floor((b + e) / 2));
  cuts.delete(original.length);
  for (const at of [...cuts].sort((a, b) => a - b))
    add('truncation', `cut to ${at} bytes`, original.slice(0, at), /is not a readable checkpoint: .*(too short|truncated)/);

  /**
   * The header edited in place (the data as it was; recur_crc32 kept unless
   * the edit is to it): refused with `expect`, or 'same' for edits that
   * change nothing a reader uses.
   */
  const headerEdit = (what: string, edit: (h: Record<string, any>) => void, expect: RegExp | 'same', kind = 'header edit'): void => {
    const h = structuredClone(header);
    edit(h);
    const json = what.startsWith('whitespace') ? JSON.stringify(h, null, 2) : JSON.stringify(h);
    if (expect === 'same') add(`${kind} (harmless)`, what, build(json, data));
    else add(kind, what, build(json, data), expect);
  };
  const metaEdit = (what: string, edit: (m: Record<string, any>) => void): void =>
    headerEdit(
      what,
      (h) => {
        const m = JSON.parse(h.__metadata__.recur);
        edit(m);
        h.__metadata__.recur = JSON.stringify(m);
      },
      /^'m\.st' is damaged: its recur metadata fails its checksum$/,
      'recur metadata edit',
    );
  const names = tensors.map(([k]) => k);
  const optim = names.filter((k) => k.startsWith('optim.0.'));
  const last = names[names.length - 1];

  headerEdit(
    'a weight transposed',
    (h) => {
      h['rnn.weight_ih_l0'].shape.reverse();
    },
    /does not match its own model description: 'rnn\.weight_ih_l0' has shape/,
  );
  headerEdit(
    'a dimension one larger',
    (h) => {
      h['head.weight'].shape[1]++;
    },
    /is not a readable checkpoint: tensor 'head\.weight' of shape .* needs \d+ bytes but has \d+/,
  );
  headerEdit(
    'the carried state for one stream fewer (shape and range)',
    (h) => {
      for (const k of ['state.h', 'state.c'])
        if (h[k]) {
          h[k].shape[1]--;
          h[k].data_offsets[1] -= h[k].shape[2] * 4;
        }
    },
    /is damaged: tensor 'state\.h' fails its checksum/,
  );
  headerEdit(
    'dtype F32 -> I32 (same width)',
    (h) => {
      h['head.bias'].dtype = 'I32';
    },
    /is damaged: tensor 'head\.bias' is stored as I32, but its checksum is of F32 data/,
  );
  headerEdit(
    'dtype F32 -> F16',
    (h) => {
      h['head.bias'].dtype = 'F16';
    },
    /tensor 'head\.bias' of shape \[\d+\] and dtype F16 needs \d+ bytes but has \d+/,
  );
  headerEdit(
    'dtype F32 -> F8',
    (h) => {
      h['head.bias'].dtype = 'F8';
    },
    /tensor 'head\.bias' has dtype F8, which recur cannot read/,
  );
  headerEdit(
    'two same-size biases swap their data',
    (h) => {
      [h['rnn.bias_ih_l0'].data_offsets, h['rnn.bias_hh_l0'].data_offsets] = [h['rnn.bias_hh_l0'].data_offsets, h['rnn.bias_ih_l0'].data_offsets];
    },
    /is damaged: tensor 'rnn\.bias_ih_l0' fails its checksum/,
  );
  headerEdit(
    'two optimizer moments swap their data',
    (h) => {
      [h[optim[0]].data_offsets, h[optim[1]].data_offsets] = [h[optim[1]].data_offsets, h[optim[0]].data_offsets];
    },
    new RegExp(`is damaged: tensor '${esc(optim[0])}' fails its checksum`),
  );
  headerEdit(
    'the first tensor moved 4 bytes on',
    (h) => {
      h[names[0]].data_offsets = h[names[0]].data_offsets.map((o: number) => o + 4);
    },
    /overlap in the data section|fails its checksum/,
  );
  headerEdit(
    'the last tensor moved 4 bytes back',
    (h) => {
      h[last].data_offsets = h[last].data_offsets.map((o: number) => o - 4);
    },
    /overlap in the data section/,
  );
  headerEdit(
    'an optimizer moment left out',
    (h) => {
      delete h[optim[1]];
    },
    new RegExp(`is damaged: it lists a checksum for tensor '${esc(optim[1])}', which is missing`),
  );
  headerEdit(
    'an optimizer moment renamed to another slot',
    (h) => {
      h['optim.0.zz'] = h[optim[1]];
      delete h[optim[1]];
    },
    /is damaged: it lists a checksum for tensor 'optim\.0\.\w+', which is missing/,
  );
  headerEdit(
    'the carried state renamed',
    (h) => {
      h['state.x'] = h['state.h'];
      delete h['state.h'];
    },
    /does not match its own model description: 'state\.(x' is not a tensor of this model|c' is there without 'state\.h')/,
  );
  headerEdit(
    'the metadata checksum changed',
    (h) => {
      h.__metadata__.recur_crc32 = ((parseInt(h.__metadata__.recur_crc32, 16) ^ 1) >>> 0).toString(16).padStart(8, '0');
    },
    /^'m\.st' is damaged: its recur metadata fails its checksum$/,
  );
  headerEdit(
    'the metadata checksum not hex',
    (h) => {
      h.__metadata__.recur_crc32 = 'checksum';
    },
    /^'m\.st' is damaged: its recur metadata checksum is not 8 hex digits$/,
  );
  headerEdit(
    'the metadata checksum removed (the metadata itself intact)',
    (h) => {
      delete h.__metadata__.recur_crc32;
    },
    'same',
  );
  headerEdit(
    'keys reordered, metadata last',
    (h) => {
      const m = h.__metadata__;
      delete h.__metadata__;
      h.__metadata__ = m;
    },
    'same',
  );
  headerEdit('whitespace between the tokens', () => {}, 'same');
  headerEdit(
    'other metadata added',
    (h) => {
      h.__metadata__.note = 'hello';
    },
    'same',
  );

  metaEdit('config hidden + 1', (m) => {
    m.config.hidden++;
  });
  metaEdit('config cell type', (m) => {
    m.config.model = m.config.model === 'lstm' ? 'gru' : 'lstm';
  });
  metaEdit('config embedding size', (m) => {
    m.config.embed--;
  });
  metaEdit('config dropout', (m) => {
    m.config.dropout = 0.5;
  });
  metaEdit('a vocabulary entry', (m) => {
    m.vocab[1] = m.vocab[1] === 'x' ? 'y' : 'x';
  });
  metaEdit('two vocabulary entries swapped', (m) => {
    [m.vocab[0], m.vocab[2]] = [m.vocab[2], m.vocab[0]];
  });
  metaEdit('progress step', (m) => {
    m.progress.step += 1000;
  });
  metaEdit('progress epoch', (m) => {
    m.progress.epoch++;
  });
  metaEdit('progress window', (m) => {
    m.progress.window++;
  });
  metaEdit('progress last validation loss', (m) => {
    m.progress.lastValLoss *= 0.5;
  });
  metaEdit('progress seconds', (m) => {
    m.progress.seconds += 3600;
  });
  metaEdit('optimizer learning rate', (m) => {
    m.optimizer.options.lr *= 10;
  });
  metaEdit('optimizer step', (m) => {
    m.optimizer.step++;
  });
  metaEdit('random-generator state', (m) => {
    m.rng.s[0] ^= 1;
  });
  metaEdit('training options', (m) => {
    m.options.batch = 64;
  });
  metaEdit('a tensor checksum', (m) => {
    m.checksums[names[0]] = '00000000';
  });
  metaEdit('the tensor checksums removed', (m) => {
    delete m.checksums;
  });
  if (source === 'word') {
    metaEdit("the word tokenizer's unknown token", (m) => {
      m.tokenizer.unknown = '<UNK>';
    });
    metaEdit('a word tokenizer entry', (m) => {
      m.tokenizer.tokens[3] = 'zzz';
    });
  }
  return out;
}

/** Read every file in a worker; if one file takes longer than `budgetMs`, stop the worker and fail, naming it. */
function readAll(files: Fault[], budgetMs: number): Promise<FaultOutcome[]> {
  const progress = new SharedArrayBuffer(4);
  const at = new Int32Array(progress);
  // tsx hooks only the main thread: the worker registers them itself
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register();
    await import(${JSON.stringify(new URL('./checkpoint-faults-worker.ts', import.meta.url).href)});`;
  const job: FaultJob = { files: files.map((f) => f.bytes), progress, name: NAME };
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: job });
  return new Promise((resolve, reject) => {
    let seen = 0,
      since = performance.now();
    const watchdog = setInterval(() => {
      const now = Atomics.load(at, 0);
      if (now !== seen) [seen, since] = [now, performance.now()];
      // before the first file the worker is still loading its modules
      else if (now > 0 && performance.now() - since > budgetMs) {
        clearInterval(watchdog);
        void worker.terminate();
        reject(new Error(`reading '${files[now - 1].what}' took more than ${budgetMs} ms: a hang`));
      }
    }, 50);
    worker.once('message', (m: FaultOutcome[]) => {
      clearInterval(watchdog);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearInterval(watchdog);
      reject(new Error(`the worker exited with code ${code} before reporting`));
    });
  });
}

describe('fault injection: damaged copies of real checkpoints are refused in one sentence or read exactly as the original', () => {
  it('hundreds of damaged files against decodeCheckpoint and the sampler, a few through the CLI', { timeout: 120_000 }, async (t) => {
    const rng = new Rng(20240611);
    const files: Fault[] = [
      { kind: 'original', what: 'char: the original', bytes: charCk, source: 'char' },
      { kind: 'original', what: 'word: the original', bytes: wordCk, source: 'word' },
      ...faults(charCk, 'char', rng),
      ...faults(wordCk, 'word', rng),
    ];
    const budgetMs = 5000;
    const outcomes = await readAll(files, budgetMs);
    const fingerprint = (r: Reading, what: string): string => {
      assert.ok('fingerprint' in r, `${what}: ${'error' in r ? r.error : ''}`);
      return r.fingerprint;
    };
    const originals = {
      char: { decode: fingerprint(outcomes[0].decode, 'char original'), sampler: fingerprint(outcomes[0].sampler, 'char original') },
      word: { decode: fingerprint(outcomes[1].decode, 'word original'), sampler: fingerprint(outcomes[1].sampler, 'word original') },
    };
    const counts = new Map<string, { refused: number; same: number }>();
    const refused: { fault: Fault; message: string }[] = [];
    let slowest = 0;
    for (const [i, f] of files.entries()) {
      if (f.kind === 'original') continue;
      const o = outcomes[i];
      slowest = Math.max(slowest, o.ms);
      const c = counts.get(f.kind) ?? { refused: 0, same: 0 };
      counts.set(f.kind, c);
      if (!('error' in o.decode) && !('error' in o.sampler)) {
        assert.equal(o.decode.fingerprint, originals[f.source].decode, `${f.what}: decodeCheckpoint read something other than the original`);
        assert.equal(o.sampler.fingerprint, originals[f.source].sampler, `${f.what}: the sampler read something other than the original`);
        assert.equal(f.expect, undefined, `${f.what}: read as the original, but ${f.expect} was expected`);
        c.same++;
        continue;
      }
      for (const [reader, r] of [
        ['decodeCheckpoint', o.decode],
        ['the sampler', o.sampler],
      ] as const) {
        assert.ok('error' in r, `${f.what}: ${reader} read it while the other refused it`);
        assertSentence(r.error, `${f.what} (${reader})`);
        if (f.expect) assert.match(r.error, f.expect, `${f.what} (${reader})`);
      }
      c.refused++;
      refused.push({ fault: f, message: (o.decode as { error: string }).error });
    }
    const total = [...counts.values()].reduce((a, c) => a + c.refused + c.same, 0);
    assert.ok(total >= 200, `${total} damaged files`);
    assert.ok(slowest < budgetMs, `the slowest file took ${slowest} ms`);
    for (const [kind, c] of counts) t.diagnostic(`${kind}: ${c.refused} refused, ${c.same} read as the original`);
    t.diagnostic(
      `${total} damaged files: ${refused.length} refused, ${total - refused.length} read as the original; slowest ${slowest.toFixed(1)} ms for both readers`,
    );

    // the CLI gives the same sentence with the path it was given: the first refused file of each kind, and a few more
    const kinds = [...new Set(refused.map((r) => r.fault.kind))];
    const picks = [...kinds.map((k) => refused.find((r) => r.fault.kind === k)!), ...refused.filter((_, i) => i % 60 === 7)].slice(0, 10);
    assert.ok(picks.length >= 8, `${picks.length} files for the CLI`);
    for (const { fault, message } of picks) {
      writeFileSync(join(dir, 'm.st'), fault.bytes);
      assert.equal(cliFails(['info', 'm.st']), `recur: ${message}`, fault.what);
    }
    t.diagnostic(`through recur info: ${picks.length} refused files, each exit code 1 and the same one line`);
  });
});
