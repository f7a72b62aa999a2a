/**
 * Hostile and damaged model files against every reader of recur's own
 * files: the safetensors reader, decodeCheckpoint (the CLI's and the
 * playground worker's loader), the embeddable sampler bundle, and the CLI
 * itself (`recur info`, `recur import-torch`). Each file is built by hand so
 * that, without the limits, a reader would allocate far more than the file
 * (overlapping ranges, a config claiming 10^9 hidden units) or overflow the
 * stack (deep JSON); with them, each is one sentence and nothing is built.
 * The playground's own case is in web.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import { buildSafetensors as build } from './helpers.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LanguageModel, CharTokenizer, decodeCheckpoint, encodeCheckpoint, readSafetensors, readSafetensorsMetadata } from '../src/index.js';
import { MAX_JSON_BYTES } from '../src/io/json-limits.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const { Sampler } = await import('recur-rnn/sampler');

/** The header and data of a real checkpoint, to edit. */
function parts(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

const vocab = new CharTokenizer(['a', 'b', 'c']);
const model = new LanguageModel({ vocabSize: 3, model: 'lstm', layers: 1, hidden: 4, embed: 2, dropout: 0 });
const good = encodeCheckpoint(model, vocab, { state: model.initialState(2) });
const goodMeta = JSON.parse(readSafetensorsMetadata(good).recur);

/** The good checkpoint with its recur metadata edited (as an object, or as the JSON text itself). */
function withMeta(edit: (m: any) => void, editText: (json: string) => string = (j) => j): Uint8Array {
  const { header, data } = parts(good);
  const m = structuredClone(goodMeta);
  edit(m);
  header.__metadata__ = { recur: editText(JSON.stringify(m)) };
  return build(header, data);
}

/** The good checkpoint with its tensor entries edited. */
function withTensors(edit: (h: Record<string, any>) => void): Uint8Array {
  const { header, data } = parts(good);
  edit(header);
  return build(header, data);
}

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

// [what, bytes, the sentence's gist]: files broken at the safetensors level
const headerCases: [string, () => Uint8Array, RegExp][] = [
  [
    'a header length of 2^60 bytes',
    () => {
      const b = good.slice();
      new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true);
      return b;
    },
    /the header claims 1152921504606846976 bytes but the file has only \d+/,
  ],
  [
    'a header over the 100 MiB cap',
    () => build(`{"a":"${' '.repeat(MAX_JSON_BYTES)}"}`),
    /the header is 104,857,6\d\d bytes of JSON, more than the 104,857,600 recur reads/,
  ],
  ['a header nested 100,000 deep', () => build(`{"x":${deep(100000)}}`), /the header nests 100001 levels deep, more than the 64 recur reads/],
  [
    'a tensor whose bytes lie past the end of the file',
    () => build({ w: { dtype: 'F32', shape: [1000000], data_offsets: [0, 4000000] } }, new Uint8Array(16)),
    /data_offsets \[0, 4000000\] outside the 16 bytes of data/,
  ],
  // without the overlap check these 2,000 names for one 4 MB range would decode into 8 GB
  [
    '2,000 tensors over the same 4 MB',
    () => {
      const h: Record<string, object> = {};
      for (let i = 0; i < 2000; i++) h[`t${i}`] = { dtype: 'F32', shape: [1000000], data_offsets: [0, 4000000] };
      return build(h, new Uint8Array(4000000));
    },
    /tensors 't\d+' and 't\d+' overlap in the data section/,
  ],
  [
    'a negative shape whose product still matches the byte count',
    () => build({ w: { dtype: 'F32', shape: [-2, -2], data_offsets: [0, 16] } }, new Uint8Array(16)),
    /tensor 'w' has shape \[-2,-2\], which is not a list of at most 8 whole numbers/,
  ],
  ['a fractional shape', () => build({ w: { dtype: 'F32', shape: [0.5, 8], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor 'w' has shape \[0\.5,8\]/],
  ['metadata that is a list', () => build({ __metadata__: ['x'] }), /__metadata__ is not an object of strings/],
];

// files that are sound safetensors but whose recur description is hostile or inconsistent
const metaCases: [string, () => Uint8Array, RegExp][] = [
  [
    'a config claiming hidden size 10^9',
    () =>
      withMeta((m) => {
        m.config.hidden = 1e9;
      }),
    /hidden must be a whole number from 1 to 65,536, got 1000000000/,
  ],
  [
    'a config whose sizes are each allowed but whose parameters are not',
    () =>
      withMeta((m) => {
        m.config.hidden = 60000;
        m.config.layers = 4;
      }),
    /a 4 x 60000 LSTM with vocabulary 3 and embedding 2 has 100,802,580,009 parameters, more than the 134,217,728 recur builds/,
  ],
  [
    'a vocabulary size of 10^7 with 3 characters listed',
    () =>
      withMeta((m) => {
        m.config.vocabSize = 1e7;
      }),
    /the model expects 10000000 tokens but the vocabulary has 3/,
  ],
  [
    'a config that is not an object',
    () =>
      withMeta((m) => {
        m.config = 'big';
      }),
    /does not match its own model description/,
  ],
  [
    'recur metadata nested 10,000 deep',
    () =>
      withMeta(
        (m) => {
          m.options = 'DEEP';
        },
        (j) => j.replace('"DEEP"', `{"x":${deep(10000)}}`),
      ),
    /corrupt recur metadata \(nests 10002 levels deep, more than the 64 recur reads\)/,
  ],
  [
    'a negative progress window',
    () =>
      withMeta((m) => {
        m.progress.window = -1;
      }),
    /its progress window -1 is not a whole number of 0 or more/,
  ],
  [
    'a progress step that is text',
    () =>
      withMeta((m) => {
        m.progress.step = '5';
      }),
    /its progress step "5" is not a whole number/,
  ],
  [
    'an all-zero random-generator state',
    () =>
      withMeta((m) => {
        m.rng = { s: [0, 0, 0, 0], spare: null };
      }),
    /random-generator state is not four 32-bit words, not all zero/,
  ],
  [
    'vocabulary entries that are not strings',
    () =>
      withMeta((m) => {
        m.vocab = [1, 2, 3];
      }),
    /the vocabulary has entries that are not strings/,
  ],
  [
    'weights of another size than the config says',
    () =>
      withMeta((m) => {
        m.config.hidden = 8;
      }),
    /'rnn\.weight_ih_l0' has shape \[16, 2\], not \[32, 2\]/,
  ],
  [
    'a carried state of the wrong shape',
    () =>
      withTensors((h) => {
        h['state.h'].shape = [1, 4, 2];
      }),
    /'state\.h' has shape \[1, 4, 2\], not \[1, batch, 4\]/,
  ],
  [
    'an optimizer slot for a weight the model lacks',
    () =>
      withTensors((h) => {
        h['optim.99.m'] = h['state.c'];
        delete h['state.c'];
      }),
    /'optim\.99\.m' belongs to none of the model's 7 weights/,
  ],
  [
    'a tensor that is not part of the model',
    () =>
      withTensors((h) => {
        h.evil = h['state.c'];
        delete h['state.c'];
      }),
    /'evil' is not a tensor of this model/,
  ],
];

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-untrusted-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One sentence on stderr with exit code 1, no stack trace. */
function failsInCli(args: string[], message: RegExp): void {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 1, `exit code ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
}

describe('untrusted files: every reader refuses them with one sentence, before allocating', () => {
  it('the good checkpoint these are made from loads in every reader', () => {
    assert.equal(decodeCheckpoint(good).model.config.hidden, 4);
    assert.equal(new Sampler(good).config.hidden, 4);
  });

  for (const [what, make, message] of headerCases) {
    it(`safetensors level: ${what}`, () => {
      const bytes = make();
      assert.throws(() => readSafetensors(bytes), message);
      assert.throws(
        () => decodeCheckpoint(bytes, "'m.st'"),
        (e: Error) => /^'m\.st' is not a readable checkpoint: /.test(e.message) && message.test(e.message),
      );
      assert.throws(() => new Sampler(bytes, "'m.st'"), message);
      const file = join(dir, 'bad.safetensors');
      writeFileSync(file, bytes);
      failsInCli(['info', file], message);
      writeFileSync(join(dir, 'vocab.json'), '["a","b","c"]');
      failsInCli(['import-torch', file, '--vocab', join(dir, 'vocab.json'), '--out', join(dir, 'imported.st')], message);
    });
  }

  for (const [what, make, message] of metaCases) {
    it(`checkpoint level: ${what}`, () => {
      const bytes = make();
      assert.throws(
        () => decodeCheckpoint(bytes, "'m.st'"),
        (e: Error) => e.message.startsWith("'m.st' ") && message.test(e.message),
      );
      assert.throws(() => new Sampler(bytes, "'m.st'"), message);
      const file = join(dir, 'bad.safetensors');
      writeFileSync(file, bytes);
      failsInCli(['info', file], message);
      failsInCli(['sample', file, '--length', '5'], message);
    });
  }

  it('a file that is not a regular file (a device) is refused before reading', () => {
    failsInCli(['info', '/dev/zero'], /checkpoint '\/dev\/zero' is not a regular file \(it is a device, pipe or socket\)/);
  });

  it('a vocabulary file for import-torch that nests deeper than a list is refused', () => {
    const st = join(dir, 'sd.safetensors');
    writeFileSync(st, build({ __metadata__: { format: 'pt' } }));
    writeFileSync(join(dir, 'deep.json'), deep(50000));
    failsInCli(
      ['import-torch', st, '--vocab', join(dir, 'deep.json'), '--out', join(dir, 'x.st')],
      /the vocabulary file '.*deep\.json' is not usable: it nests 50000 levels deep; a vocabulary is a flat JSON list or object/,
    );
  });
});
