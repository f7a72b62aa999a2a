/**
 * recur/sampler, the embeddable sampler, as users get it: the bundle that
 * `npm run build` writes (dist/sampler/recur-sampler.js), not the sources.
 * Small, self-contained, and the same text as `recur sample`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lmShapes, type LanguageModelConfig } from '../src/models/config.js';
import { CELL_KIND_NAMES, CELL_KINDS } from '../src/nn/rnn/kinds.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  readSafetensorsMetadata,
  sampleText,
  writeSafetensors,
  LanguageModel,
  CharTokenizer,
  Rng,
  WordTokenizer,
  withBackend,
} from '../src/index.js';

const bundlePath = fileURLToPath(new URL('../dist/sampler/recur-sampler.js', import.meta.url));
const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
// the package's own export, resolved the way an application resolves it
const { loadSampler, Sampler, SAMPLE_DEFAULTS } = await import('recur-rnn/sampler');

/** `recur sample` prints the prime, the generated text and a newline. */
function cliSample(ck: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [bin, 'sample', ck, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('recur/sampler bundle', () => {
  it('is one ES module under 50 KB minified, with no imports, no Node modules and no WebAssembly binaries', (t) => {
    const size = statSync(bundlePath).size;
    t.diagnostic(`dist/sampler/recur-sampler.js: ${size} bytes (${(size / 1024).toFixed(1)} KiB) minified`);
    assert.ok(size < 50_000, `${size} bytes`);
    const code = readFileSync(bundlePath, 'utf8');
    assert.doesNotMatch(code, /\bimport\s*[\w{*"'(]|\brequire\(/, 'no imports of any kind');
    assert.doesNotMatch(code, /node:|WebAssembly|process\.env/);
    assert.match(code, /export\{/);
  });

  it('package.json maps recur/sampler to the bundle and its type declarations', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.deepEqual(pkg.exports['./sampler'], { types: './dist/src/sampler/index.d.ts', default: './dist/sampler/recur-sampler.js' });
    assert.ok(pkg.files.includes('dist/sampler'));
    assert.equal(typeof loadSampler, 'function');
    assert.deepEqual(SAMPLE_DEFAULTS, { length: 500, temperature: 0.8 });
  });
});

describe('recur/sampler gives the same text as recur sample', () => {
  const optionSets: [string, string[], Record<string, unknown>][] = [
    ['defaults (temperature 0.8, 500 characters, a newline as prime)', ['--seed', '11'], { seed: 11 }],
    [
      'prime, temperature 1.2, top-k 12',
      ['--seed', '3', '--prime', 'ROMEO:', '--temperature', '1.2', '--top-k', '12', '--length', '400'],
      { seed: 3, prime: 'ROMEO:', temperature: 1.2, topK: 12, length: 400 },
    ],
    [
      'top-p 0.9, temperature 1',
      ['--seed', '8', '--prime', 'First', '--top-p', '0.9', '--temperature', '1', '--length', '400'],
      { seed: 8, prime: 'First', topP: 0.9, temperature: 1, length: 400 },
    ],
    ['argmax after space', ['--seed', '2', '--argmax-after-space', '--length', '200'], { seed: 2, argmaxExceptAfterSpace: true, length: 200 }],
    ['argmax', ['--argmax', '--prime', 'the ', '--length', '120'], { argmax: true, prime: 'the ', length: 120 }],
  ];
  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`${cell}: every option set, against the CLI on its default (wasm) and js backends`, async () => {
      const ck = fixture(`interop_recur_${cell}.safetensors`);
      const sampler = await loadSampler(readFileSync(ck));
      assert.deepEqual(sampler.config, decodeCheckpoint(readFileSync(ck)).model.config);
      for (const [what, args, opts] of optionSets) {
        const text = sampler.sample(opts);
        const prime = (opts.prime as string | undefined) ?? '';
        assert.equal(prime + text + '\n', cliSample(ck, args), `${cell}, ${what}`);
        if (what.startsWith('prime')) assert.equal(prime + text + '\n', cliSample(ck, args, { RECUR_BACKEND: 'js' }), `${cell}, ${what}, js backend`);
      }
    });
  }

  // the kinds without a W_hh run a scan step in StepperCore: trained by the CLI here, sampled by both
  for (const [i, kind] of CELL_KIND_NAMES.filter((k) => CELL_KINDS[k].scan).entries()) {
    it(`${kind}: a checkpoint from recur train, every option set against the CLI; a one-hot one against sampleText`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'recur-sampler-'));
      try {
        const text = join(dir, 'text.txt');
        writeFileSync(text, readFileSync(fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)), 'utf8').slice(0, 20000));
        const ck = join(dir, `${kind}.safetensors`);
        const args = ['train', text, '--model', kind, '--layers', '2', '--hidden', '24', '--embed', '8', '--steps', '60', '--lr', '0.01'];
        const trained = spawnSync(process.execPath, [bin, ...args, '--seed', String(i + 1), '--quiet', '--out', ck], { encoding: 'utf8' });
        assert.equal(trained.status, 0, trained.stderr);
        const sampler = await loadSampler(readFileSync(ck));
        assert.equal(sampler.config.model, kind);
        for (const [what, cliArgs, opts] of optionSets) {
          const prime = (opts.prime as string | undefined) ?? '';
          assert.equal(prime + sampler.sample(opts) + '\n', cliSample(ck, cliArgs), `${kind}, ${what}`);
        }
        const [what, cliArgs, opts] = optionSets[1];
        assert.equal((opts.prime as string) + sampler.sample(opts) + '\n', cliSample(ck, cliArgs, { RECUR_BACKEND: 'js' }), `${kind}, ${what}, js backend`);

        const vocab = new CharTokenizer([...'ab cd\n']);
        const model = new LanguageModel({ vocabSize: vocab.size, model: kind, layers: 2, hidden: 9, embed: 0, dropout: 0 }, { rng: new Rng(13 + i) });
        const oneHot = await loadSampler(encodeCheckpoint(model, vocab));
        const o = { seed: 5, prime: 'ab', length: 200, temperature: 1.5 };
        assert.equal(oneHot.sample(o), sampleText(model, vocab, o));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a model trained by PyTorch and imported, and a 2-layer one-hot LSTM with a multilingual vocabulary, against sampleText', async () => {
    const imported = fixture('interop_torch_gru.recur.safetensors');
    const a = await loadSampler(readFileSync(imported));
    const ck = decodeCheckpoint(readFileSync(imported));
    assert.equal(a.sample({ seed: 21, length: 300 }), sampleText(ck.model, ck.vocab, { seed: 21, length: 300, temperature: 0.8 }));
    const vocab = new CharTokenizer([...'ab 한글😀\n']);
    const model = new LanguageModel({ vocabSize: vocab.size, model: 'lstm', layers: 2, hidden: 10, embed: 0, dropout: 0 }, { rng: new Rng(9) });
    const b = await loadSampler(encodeCheckpoint(model, vocab));
    assert.equal(
      b.sample({ seed: 4, prime: '한', length: 200, topK: 5 }),
      sampleText(model, vocab, { seed: 4, prime: '한', length: 200, topK: 5, temperature: 0.8 }),
    );
  });

  it('a word-level checkpoint: the same words and spacing as recur sample and sampleText, never <unk>', async () => {
    const text = 'the cat sat on the mat.\nthe dog sat on the log, and the cat ran.\n(the end) rare words here\n';
    const vocab = WordTokenizer.fromText(text, { minCount: 2 });
    const model = new LanguageModel({ vocabSize: vocab.size, model: 'gru', layers: 1, hidden: 12, embed: 6, dropout: 0 }, { rng: new Rng(5) });
    const bytes = encodeCheckpoint(model, vocab);
    const dir = mkdtempSync(join(tmpdir(), 'recur-sampler-'));
    try {
      const ck = join(dir, 'w.safetensors');
      writeFileSync(ck, bytes);
      const s = await loadSampler(bytes);
      assert.deepEqual(s.chars, vocab.tokens);
      const a = s.sample({ seed: 12, prime: 'the cat', length: 60 });
      assert.equal('the cat' + a + '\n', cliSample(ck, ['--seed', '12', '--prime', 'the cat', '--length', '60']));
      assert.equal(a, sampleText(model, vocab, { seed: 12, prime: 'the cat', length: 60, temperature: 0.8 }));
      assert.doesNotMatch(a, /<unk>|<join>/);
      const b = s.sample({ seed: 3, length: 40, temperature: 1.5, topK: 4 });
      assert.equal(b, sampleText(model, vocab, { seed: 3, length: 40, temperature: 1.5, topK: 4 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams: stream() and onChar give the characters of sample(), each run starts afresh', async () => {
    const s = await loadSampler(readFileSync(fixture('interop_recur_lstm.safetensors')));
    const whole = s.sample({ seed: 6, length: 150 });
    const seen: string[] = [];
    let streamed = '';
    for await (const c of s.stream({ seed: 6, length: 150, onChar: (ch: string) => seen.push(ch) })) streamed += c;
    assert.equal(streamed, whole);
    assert.equal(seen.join(''), whole);
    assert.equal(s.sample({ seed: 6, length: 150 }), whole);
    assert.notEqual(s.sample({ seed: 7, length: 150 }), whole);
  });

  it('bad input is a clear error', async () => {
    await assert.rejects(loadSampler(new Uint8Array([1, 2, 3])), /the checkpoint is not a readable checkpoint: the data is 3 bytes/);
    await assert.rejects(loadSampler(readFileSync(fixture('interop_torch_lstm.safetensors'))), /not a recur checkpoint \(it has no 'recur' metadata\)/);
    const model = new LanguageModel({ vocabSize: 2, model: 'gru', layers: 1, hidden: 3, embed: 2, dropout: 0 });
    const bytes = encodeCheckpoint(model, new CharTokenizer(['a', 'b']));
    const s = new Sampler(bytes);
    assert.throws(() => s.sample({ prime: 'abc' }), /character 'c' \(U\+0063\) is not in the model's vocabulary/);
    assert.throws(() => s.sample({ temperature: 0 }), /temperature must be a positive number/);
    const { 'head.bias': _, ...withoutBias } = model.stateDict();
    assert.throws(
      () => new Sampler(writeSafetensors(withoutBias, readSafetensorsMetadata(bytes)), "'m.safetensors'"),
      /'m.safetensors' does not match its own model description: 'head.bias' is missing/,
    );
  });
});

describe('recur/sampler runs block-form models (RMSNorm, the cell, the GELU feed-forward per block)', () => {
  for (const model of CELL_KIND_NAMES) {
    it(`${model}: 2 blocks, the same text as sampleText and as recur sample on the js backend`, () => {
      const vocab = new CharTokenizer([...'abcdefgh \n']);
      const config: LanguageModelConfig = { vocabSize: vocab.size, model, layers: 2, hidden: 8, embed: 8, dropout: 0, blocks: true };
      const lm = new LanguageModel(config, { rng: new Rng(3) });
      const bytes = encodeCheckpoint(lm, vocab);
      const sampler = new Sampler(bytes);
      assert.deepEqual(sampler.config, config);
      // wasm and js round differently, and untrained logits are close together, so one backend for both sides
      withBackend('js', () => {
        for (const o of [
          { seed: 5, length: 120, temperature: 1 },
          { seed: 9, prime: 'ab', length: 80, temperature: 1.3, topK: 4 },
        ]) {
          assert.equal(sampler.sample(o), sampleText(lm, vocab, o), JSON.stringify(o));
        }
      });
      const dir = mkdtempSync(join(tmpdir(), 'recur-sampler-'));
      try {
        const ck = join(dir, 'blocks.safetensors');
        writeFileSync(ck, bytes);
        const text = sampler.sample({ seed: 2, prime: 'h', length: 100, topP: 0.9 });
        assert.equal('h' + text + '\n', cliSample(ck, ['--seed', '2', '--prime', 'h', '--length', '100', '--top-p', '0.9'], { RECUR_BACKEND: 'js' }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('lmShapes (what the sampler checks a checkpoint against)', () => {
  it("lists LanguageModel's state dict: the same names, order and shapes", () => {
    for (const model of CELL_KIND_NAMES) {
      for (const [layers, embed] of [
        [1, 0],
        [3, 5],
      ]) {
        const c = { vocabSize: 7, model, layers, hidden: 4, embed, dropout: 0 };
        const own = Object.entries(new LanguageModel(c).stateDict()).map(([k, t]) => [k, [...t.shape]]);
        assert.deepEqual(Object.entries(lmShapes(c)), own);
      }
    }
  });
});

describe('the README', () => {
  it('shows a page of at most ten lines that uses the sampler', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const html = /```html\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(html, 'an html block');
    assert.ok(html.trimEnd().split('\n').length <= 10, html);
    assert.match(html, /import \{ loadSampler \} from '.*recur-sampler\.js'/);
    assert.match(html, /sampler\.stream\(/);
  });
});
