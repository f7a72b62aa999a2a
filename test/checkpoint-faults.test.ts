/**
 * Checkpoint integrity ("nothing lost, nothing misreported"): the CRC-32s a
 * checkpoint records of its tensors and of its recur metadata, NaN and
 * infinities refused at load, and a resumed run's NaN loss blamed on the
 * checkpoint when its weights are the cause.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  Rng, Vocab, WordTokenizer, decodeCheckpoint, defaultTrainOptions, encodeCheckpoint, readSafetensors, readSafetensorsMetadata,
  trainCharLM, writeSafetensors, type Checkpoint, type TrainOptions,
} from '../src/index.js';
import type { LMTokenizer } from '../src/text/tokenizers.js';
import { Sampler } from '../src/sampler/index.js';
import { crc32, crc32Hex } from '../src/io/crc32.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const NAME = "'m.st'";
let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'recur-faults-')); });
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
const opts = (o: Partial<TrainOptions> = {}): TrainOptions =>
  ({ ...defaultTrainOptions, batch: 2, seq: 8, lr: 0.01, steps: 3, evalEvery: 0, sampleEvery: 0, sampleLength: 10, ...o });

/** The checkpoint trainCharLM hands over at the end: weights, Adam moments, carried state, progress with a validation loss. */
async function trained(vocab: LMTokenizer, model: 'lstm' | 'gru'): Promise<Uint8Array> {
  let bytes: Uint8Array | null = null;
  await trainCharLM({ text, vocab, config: { model, layers: 1, hidden: 8, embed: 4, dropout: 0 }, options: opts() }, { onCheckpoint: (b) => { bytes = b; } });
  return bytes!;
}
const charCk = await trained(Vocab.fromText(text), 'lstm');
const wordCk = await trained(WordTokenizer.fromText(text, { minCount: 1 }), 'gru');

/** A checkpoint's parts: the header object, where the data starts, each tensor's byte range in the file. */
function layout(bytes: Uint8Array): { header: Record<string, any>; dataStart: number; tensors: [string, number, number][] } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const dataStart = 8 + n;
  const tensors = Object.entries(header).filter(([k]) => k !== '__metadata__')
    .map(([k, e]: [string, any]): [string, number, number] => [k, dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]]);
  return { header, dataStart, tensors };
}

/** A file from a header object (or its text) and the data section, as any writer could lay it out. */
function build(header: object | string, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** The checkpoint as written by a model whose tensors were changed (valid checksums: encodeCheckpoint recomputes them). */
function reencode(ck: Checkpoint, edit: (ck: Checkpoint) => void): Uint8Array {
  edit(ck);
  return encodeCheckpoint(ck.model, ck.vocab, { options: ck.meta.options, progress: ck.meta.progress, optimizer: ck.optimizer, rng: ck.meta.rng, state: ck.state });
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
      for (let len = 0; len <= 70; len++) assert.equal(crc32(b.subarray(start, start + len)), zlibCrc32(b.subarray(start, start + len)), `bytes ${start}..${start + len}`);
    }
    assert.equal(crc32(b.subarray(1777), crc32(b.subarray(0, 1777))), zlibCrc32(b));
  });
});

describe('checkpoint checksums', () => {
  it('a checkpoint records the CRC-32 of every tensor\'s bytes in its recur metadata, and of that metadata beside it', () => {
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

  // the tool's own interpreter (its #! line): Debian's python3-torch; skipped where that is not installed
  const python = '/usr/bin/python3';
  const torchHere = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  it("tools/torch_interop.py's save_recur writes the same checksums, so its files are verified too", { skip: !torchHere && `no ${python} with torch` }, () => {
    const file = join(dir, 'py.st');
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(fileURLToPath(new URL('../tools/', import.meta.url)))})
import torch
from torch_interop import CharModel, save_recur
torch.manual_seed(0)
save_recur(CharModel(3, 'gru', 1, 4, 2), ['a', 'b', '\\u00e9'], sys.argv[1])`;
    const r = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
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
  const nanCk = reencode(decodeCheckpoint(charCk), (ck) => { ck.model.stateDict()['head.weight'].data[3] = NaN; });
  const slots = Object.keys(decodeCheckpoint(charCk).optimizer!.state);
  const infState = reencode(decodeCheckpoint(charCk), (ck) => { ck.state!.c!.data[0] = -Infinity; });
  const infMoment = reencode(decodeCheckpoint(charCk), (ck) => { ck.optimizer!.state[slots[1]].data[0] = Infinity; });
  const nanMessage = (tensor: string): RegExp => new RegExp(`^'m\\.st' is damaged: tensor '${tensor.replace(/\./g, '\\.')}' holds NaN or infinite values$`);

  it('a weight, with valid checksums: decodeCheckpoint, the sampler and the CLI', () => {
    assert.throws(() => decodeCheckpoint(nanCk, NAME), { message: nanMessage('head.weight') });
    assert.throws(() => new Sampler(nanCk, NAME), { message: nanMessage('head.weight') });
    writeFileSync(join(dir, 'm.st'), nanCk);
    assert.equal(cliFails(['info', 'm.st']), "recur: 'm.st' is damaged: tensor 'head.weight' holds NaN or infinite values");
    assert.equal(cliFails(['sample', 'm.st', '--length', '5']), "recur: 'm.st' is damaged: tensor 'head.weight' holds NaN or infinite values");
  });

  it('the carried state and the optimizer moments too, which the sampler does not use but a resumed run would', () => {
    for (const [bytes, tensor] of [[infState, 'state.c'], [infMoment, `optim.${slots[1]}`]] as const) {
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
  const message = /^training stopped at step 4: the checkpoint 'huge\.st' is the cause, not the learning rate: its weights give a loss of (NaN|Infinity) on the first batch before any training; resume from an earlier checkpoint or train anew$/;

  it('trainCharLM: the checkpoint, not the learning rate', async () => {
    const ck = decodeCheckpoint(huge, "'huge.st'"); // finite, with valid checksums: it loads
    await assert.rejects(trainCharLM({ text, vocab: ck.vocab, options: opts({ steps: 6 }), resume: ck, resumeName: "'huge.st'" }), { message });
  });

  it('a sound checkpoint resumed with a learning rate that blows up still blames the learning rate', async () => {
    const ck = decodeCheckpoint(charCk);
    await assert.rejects(
      trainCharLM({ text, vocab: ck.vocab, options: opts({ steps: 20, lr: 1e38, clip: 0 }), resume: ck, resumeName: "'m.st'" }),
      { message: /^training stopped at step \d+: the loss became (NaN|Infinity|-Infinity); the last checkpoint was kept\. Try a smaller --lr or --clip$/ },
    );
  });

  it('recur train --resume says so in one sentence', () => {
    writeFileSync(join(dir, 'huge.st'), huge);
    writeFileSync(join(dir, 'text.txt'), text);
    const line = cliFails(['train', 'text.txt', '--resume', 'huge.st', '--batch', '2', '--seq', '8', '--steps', '6', '--out', 'out.st']);
    assert.match(line.replace(/^recur: /, ''), message);
  });
});
