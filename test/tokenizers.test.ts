/** Character and word tokenizers: vocabularies, round trips, unknowns, specs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CharTokenizer, Vocab, WordTokenizer, readCorpus, tokenizerFromSpec, wordPieces } from '../src/index.js';
import { prepareGeneration } from '../src/generate/core.js';

const shakespeare = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');

describe('CharTokenizer', () => {
  it('specials first, then code points by frequency; round-trips emoji and Hangul', () => {
    const text = '안녕 👋🏽 abba';
    const t = CharTokenizer.fromTexts(text, { specials: ['<pad>', '<sos>', '<eos>'] });
    assert.deepEqual(t.tokens.slice(0, 5), ['<pad>', '<sos>', '<eos>', ' ', 'a']);
    assert.equal(t.decode(t.encode(text)), text);
    assert.equal(t.encode(text).length, [...text].length);
    assert.equal(t.decode([t.id('<sos>'), t.id('a'), t.id('<eos>')]), '<sos>a<eos>');
    assert.equal(t.decode([t.id('<sos>'), t.id('a'), t.id('<eos>')], { skipSpecials: true }), 'a');
  });
  it('unknown characters: an error naming them, or the unknown token', () => {
    const strict = CharTokenizer.fromTexts(['abc', 'cd']);
    assert.throws(() => strict.encode('abz'), { message: "character 'z' (U+007A) is not in the model's vocabulary" });
    assert.deepEqual(
      [...strict.unknownIn('zzq')],
      [
        ['z', 2],
        ['q', 1],
      ],
    );
    const lenient = CharTokenizer.fromTexts('aab', { unknown: '<unk>', minCount: 2 });
    assert.deepEqual(lenient.tokens, ['<unk>', 'a']);
    assert.equal(lenient.decode(lenient.encode('abc')), 'a<unk><unk>');
  });
  it('spec() rebuilds the same tokenizer; a bad vocabulary is a sentence', () => {
    const t = CharTokenizer.fromTexts('hello', { specials: ['<eos>'], unknown: '?' });
    const u = tokenizerFromSpec(JSON.parse(JSON.stringify(t.spec())));
    assert.deepEqual(u.tokens, t.tokens);
    assert.deepEqual(Array.from(u.encode('hex')), Array.from(t.encode('hex')));
    assert.throws(() => new CharTokenizer(['a', 'bc']), /entry "bc" is not a single code point/);
    assert.throws(() => new CharTokenizer(['a', 'a']), /lists "a" twice/);
  });
  it('Vocab, the old name, is CharTokenizer, with the old members', () => {
    assert.equal(Vocab, CharTokenizer);
    const v: Vocab = Vocab.fromText('abca');
    assert.ok(v instanceof CharTokenizer);
    assert.deepEqual(v.chars, ['a', 'b', 'c']);
    assert.deepEqual(new Vocab(v.toJSON()).tokens, v.tokens);
    assert.deepEqual(JSON.parse(JSON.stringify(v)), ['a', 'b', 'c']);
    assert.deepEqual([...v.unknownChars('zaz')], [['z', 2]]);
    assert.deepEqual(Array.from(v.encode('az', { unknown: 2 })), [0, 2]);
  });
  it('streams ids to text, and a tokenizer with an unknown token is read and sampled with it', () => {
    const v = CharTokenizer.fromTexts('abca');
    const next = v.streamDecoder();
    assert.equal([0, 1, 2].map(next).join(''), v.decode([0, 1, 2]));
    const u = CharTokenizer.fromTexts('abca', { unknown: '?' });
    assert.deepEqual([...readCorpus('abz', { vocab: u }).ids], [1, 2, 0]);
    assert.equal(prepareGeneration(u, {}).banned, 0);
    assert.equal(prepareGeneration(v, {}).banned, -1);
    assert.equal(prepareGeneration(u, {}).prime, 'a');
  });
});

describe('WordTokenizer', () => {
  it('splits on whitespace and punctuation; default spacing needs no tokens', () => {
    assert.deepEqual(wordPieces('Hello, world! (said I) store-houses'), ['Hello', ',', 'world', '!', '(', 'said', 'I', ')', 'store', '-', 'houses']);
    assert.deepEqual(wordPieces("I'll answer'd 'tis"), ["I'll", "answer'd", "'", 'tis']);
    assert.deepEqual(wordPieces('ROMEO:\nGood  day ,x'), ['ROMEO', ':', '\n', 'Good', ' ', ' ', 'day', ' ', ',', '<join>', 'x']);
  });
  it('round-trips the whole of tinyshakespeare exactly', () => {
    const t = WordTokenizer.fromText(shakespeare);
    assert.equal(t.decode(t.encode(shakespeare)), shakespeare);
    const words = t.encode(shakespeare).length;
    assert.ok(words < shakespeare.length / 3.5, `${words} tokens for ${shakespeare.length} characters`);
  });
  it('minCount keeps frequent words; the rest become <unk>; streaming decode continues after a context', () => {
    const text = 'the cat and the dog and the bird.\nThe end';
    const t = WordTokenizer.fromText(text, { minCount: 2 });
    assert.deepEqual(t.tokens, ['<unk>', '<join>', '\n', 'the', 'and']);
    assert.equal(t.decode(t.encode('the cat and the dog')), 'the <unk> and the <unk>');
    assert.deepEqual(
      [...t.unknownIn('the cat, the cat')],
      [
        ['cat', 2],
        [',', 1],
      ],
    );
    const full = WordTokenizer.fromText(text);
    const ids = full.encode(text);
    const next = full.streamDecoder(ids.subarray(0, 5));
    assert.equal(full.decode(ids.subarray(0, 5)) + Array.from(ids.subarray(5), next).join(''), text);
  });
  it('spec() round-trips through JSON with its specials', () => {
    const t = WordTokenizer.fromText('a b c a', { specials: ['<pad>', '<eos>'] });
    assert.deepEqual(t.tokens.slice(0, 4), ['<pad>', '<eos>', '<unk>', '<join>']);
    const u = tokenizerFromSpec(JSON.parse(JSON.stringify(t.spec())));
    assert.equal(u.kind, 'word');
    assert.deepEqual(u.tokens, t.tokens);
    assert.equal(u.decode(u.encode('a c b')), 'a c b');
    assert.throws(() => WordTokenizer.fromText('a', { minCount: 0 }), /minCount must be a whole number of at least 1/);
  });
});
