/**
 * The one char tokenizer against what recur built and saved before there was
 * one (test/fixtures/make_tokenizer_fixture.ts wrote the fixtures with the
 * code of that day, when Vocab and CharTokenizer were two classes): saved
 * checkpoints load to the same vocabulary and ids everywhere they are read,
 * and vocabularies built from a text come out as recur train built them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CharTokenizer, WordTokenizer, decodeCheckpoint, normalizeLineEnds, readCorpus, sampleText, withBackend } from '../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));

interface Encoded {
  tokens: string[];
  ids: number[];
}
interface SavedCheckpoint extends Encoded {
  file: string;
  sample: { seed: number; length: number; temperature: number; prime: string; text: string };
}
const before = JSON.parse(readFileSync(fixture('tokenizer_compat.json'), 'utf8')) as {
  text: string;
  char: { vocabFromText: Encoded; charTokenizerFromTexts: Encoded; readCorpus: Encoded };
  word: { fromText: Encoded; readCorpus: Encoded };
  checkpoints: { char: SavedCheckpoint; word: SavedCheckpoint };
};
const { text } = before;
const lf = normalizeLineEnds(text).text;
const list = (ids: ArrayLike<number>): number[] => Array.from(ids);

describe('tokenizer compatibility with files and vocabularies from before the one char tokenizer', () => {
  it('the fixture text has what makes tie-breaks differ: ties, emoji, Hangul, CJK, a combining mark, CRLF', () => {
    for (const c of ['😀', '👋🏽', '❤️', '안녕', '漢字', '\u0301', '\r\n', '！', 'ﬁ', '𝒳']) assert.ok(text.includes(c), c);
  });

  for (const kind of ['char', 'word'] as const) {
    it(`a ${kind} checkpoint saved then loads with the same vocabulary, ids and samples`, () => {
      const saved = before.checkpoints[kind];
      const ck = decodeCheckpoint(readFileSync(fixture(saved.file)), saved.file);
      assert.equal(ck.vocab.kind, kind);
      assert.deepEqual(ck.vocab.tokens, saved.tokens);
      assert.deepEqual(list(ck.vocab.encode(lf)), saved.ids);
      assert.equal(ck.vocab.decode(saved.ids), lf);
      const { text: sample, ...opts } = saved.sample;
      assert.equal(
        withBackend('js', () => sampleText(ck.model, ck.vocab, opts)),
        sample,
      );
    });
  }

  it('recur sample and recur/sampler read the saved checkpoints to the same text', async () => {
    const { Sampler } = await import('recur-rnn/sampler');
    for (const saved of Object.values(before.checkpoints)) {
      const { text: sample, seed, length, temperature, prime } = saved.sample;
      const s = new Sampler(readFileSync(fixture(saved.file)));
      assert.deepEqual(s.chars, saved.tokens);
      assert.equal(s.sample({ seed, length, temperature, prime }), sample);
      const args = ['--seed', seed, '--length', length, '--temperature', temperature, '--prime', prime].map(String);
      const r = spawnSync(process.execPath, [bin, 'sample', fixture(saved.file), ...args], {
        encoding: 'utf8',
        env: { ...process.env, RECUR_BACKEND: 'js' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, prime + sample + '\n');
    }
  });

  it('recur train builds the char vocabulary and ids it built before (code point order for ties)', () => {
    const corpus = readCorpus(text);
    assert.deepEqual(corpus.vocab.tokens, before.char.readCorpus.tokens);
    assert.deepEqual(list(corpus.ids), before.char.readCorpus.ids);
  });

  it('CharTokenizer.fromTexts gives what Vocab.fromText gave', () => {
    const t = CharTokenizer.fromTexts(text);
    assert.deepEqual(t.tokens, before.char.vocabFromText.tokens);
    assert.deepEqual(list(t.encode(text)), before.char.vocabFromText.ids);
  });

  it('only where a character beyond U+FFFF ties with one from U+E000 to U+FFFF does it differ from the old CharTokenizer.fromTexts (UTF-16 order)', () => {
    const now = CharTokenizer.fromTexts(text).tokens;
    const old = before.char.charTokenizerFromTexts.tokens;
    assert.deepEqual([...now].sort(), [...old].sort());
    const moved = now.filter((c, i) => c !== old[i]);
    assert.deepEqual(moved, ['ﬁ', '\ufe0f', '！', '𝒳', '🎭', '🏽', '👋']);
    assert.ok(moved.every((c) => c.codePointAt(0)! >= 0xe000));
  });

  it('word vocabularies built from a text keep their order (UTF-16 order for ties)', () => {
    const words = WordTokenizer.fromText(text);
    assert.deepEqual(words.tokens, before.word.fromText.tokens);
    assert.deepEqual(list(words.encode(text)), before.word.fromText.ids);
    const corpus = readCorpus(text, { tokens: 'word', minCount: 1 });
    assert.deepEqual(corpus.vocab.tokens, before.word.readCorpus.tokens);
    assert.deepEqual(list(corpus.ids), before.word.readCorpus.ids);
  });
});
