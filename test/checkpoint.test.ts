import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Adam, LanguageModel, CharTokenizer, Rng, WordTokenizer, decodeCheckpoint, encodeCheckpoint, writeSafetensors } from '../src/index.js';

const vocab = CharTokenizer.fromTexts('to be or not to be 🎭');
const make = (seed: number) =>
  new LanguageModel({ vocabSize: vocab.size, model: 'lstm', layers: 2, hidden: 6, embed: 4, dropout: 0.1 }, { rng: new Rng(seed) });

describe('char-LM checkpoints', () => {
  it('round-trip: config, vocabulary, progress, identical logits, optimizer state', () => {
    const m = make(1);
    const opt = new Adam(m.parameters(), { lr: 0.01 });
    const ids = vocab.encode('to be or');
    r.crossEntropy(m.forward(ids, 1, ids.length).logits, Array.from(ids)).backward();
    opt.step();
    const bytes = encodeCheckpoint(m, vocab, {
      options: { batch: 32 },
      progress: { step: 12, epoch: 1, window: 3, lastValLoss: 1.5, seconds: 9 },
      optimizer: opt.stateDict(),
      rng: new Rng(4).getState(),
    });
    const ck = decodeCheckpoint(bytes);
    assert.deepEqual(ck.vocab.tokens, vocab.tokens);
    assert.deepEqual(ck.model.config, m.config);
    assert.deepEqual(ck.meta.progress, { step: 12, epoch: 1, window: 3, lastValLoss: 1.5, seconds: 9 });
    assert.equal(ck.meta.options.batch, 32);
    m.eval();
    ck.model.eval();
    assert.deepEqual(Array.from(ck.model.forward(ids, 1, ids.length).logits.data), Array.from(m.forward(ids, 1, ids.length).logits.data));
    const opt2 = new Adam(ck.model.parameters());
    opt2.loadStateDict(ck.optimizer!);
    assert.equal(opt2.stepCount, 1);
    assert.equal(opt2.lr, 0.01);
  });
  it('files that are not recur checkpoints, or are damaged, give one sentence', () => {
    assert.throws(
      () => decodeCheckpoint(new Uint8Array(5), 'model.safetensors'),
      /model\.safetensors is not a readable checkpoint: the data is 5 bytes, too short/,
    );
    assert.throws(
      () => decodeCheckpoint(writeSafetensors({ w: r.ones([2]) }), 'w.safetensors'),
      /w\.safetensors is a safetensors file but not a recur checkpoint/,
    );
    const good = encodeCheckpoint(make(2), vocab);
    assert.throws(() => decodeCheckpoint(good.subarray(0, good.length - 10), 'cut.safetensors'), /cut\.safetensors is not a readable checkpoint: .*truncated/);
    const other = encodeCheckpoint(new LanguageModel({ vocabSize: vocab.size, model: 'gru', layers: 1, hidden: 3, embed: 2, dropout: 0 }), vocab);
    // graft a different model's weights under this model's metadata
    const mixed = writeSafetensors(r.readSafetensors(other), { recur: r.readSafetensorsMetadata(good).recur });
    assert.throws(() => decodeCheckpoint(mixed, 'mixed.safetensors'), /mixed\.safetensors does not match its own model description/);
  });
});

describe('checkpoints record the tokenizer', () => {
  it('a char checkpoint says so and stays version 1; one written before tokenizers were recorded still loads', () => {
    const m = make(3);
    const bytes = encodeCheckpoint(m, vocab);
    const meta = JSON.parse(r.readSafetensorsMetadata(bytes).recur);
    assert.equal(meta.version, 1);
    assert.deepEqual(meta.tokenizer, { kind: 'char' });
    delete meta.tokenizer; // as recur wrote them before word models
    const old = writeSafetensors(r.readSafetensors(bytes), { recur: JSON.stringify(meta) });
    const ck = decodeCheckpoint(old);
    assert.ok(ck.vocab instanceof CharTokenizer);
    assert.deepEqual(ck.vocab.tokens, vocab.tokens);
  });
  it('a word checkpoint (version 2) brings back its word tokenizer: same ids, same text', () => {
    const text = 'to be or not to be, that is the question.\nto be!';
    const words = WordTokenizer.fromText(text);
    const m = new LanguageModel({ vocabSize: words.size, model: 'gru', layers: 1, hidden: 4, embed: 3, dropout: 0 }, { rng: new Rng(5) });
    const bytes = encodeCheckpoint(m, words);
    assert.equal(JSON.parse(r.readSafetensorsMetadata(bytes).recur).version, 2);
    const ck = decodeCheckpoint(bytes);
    assert.equal(ck.vocab.kind, 'word');
    assert.deepEqual(Array.from(ck.vocab.encode(text)), Array.from(words.encode(text)));
    assert.equal(ck.vocab.decode(ck.vocab.encode(text)), text);
  });
  it('a char tokenizer with special tokens saves its description (version 2) and comes back with them', () => {
    const tok = CharTokenizer.fromTexts('to be or not', { specials: ['<eos>'], unknown: '<unk>' });
    const m = new LanguageModel({ vocabSize: tok.size, model: 'gru', layers: 1, hidden: 4, embed: 3, dropout: 0 }, { rng: new Rng(6) });
    const bytes = encodeCheckpoint(m, tok);
    const meta = JSON.parse(r.readSafetensorsMetadata(bytes).recur);
    assert.deepEqual([meta.version, meta.tokenizer], [2, tok.spec()]);
    const ck = decodeCheckpoint(bytes);
    assert.deepEqual([ck.vocab.kind, ck.vocab.tokens, ck.vocab.specials, ck.vocab.unknown], ['char', tok.tokens, tok.specials, '<unk>']);
    assert.deepEqual(Array.from(ck.vocab.encode('to bez')), Array.from(tok.encode('to bez')));
  });
  it('a checkpoint from a newer recur, or with an unknown tokenizer kind, is one sentence', () => {
    const bytes = encodeCheckpoint(make(4), vocab);
    const meta = JSON.parse(r.readSafetensorsMetadata(bytes).recur);
    const tweak = (m: object) => writeSafetensors(r.readSafetensors(bytes), { recur: JSON.stringify({ ...meta, ...m }) });
    assert.throws(() => decodeCheckpoint(tweak({ version: 3 }), 'new.safetensors'), /new\.safetensors was written by a newer recur/);
    assert.throws(
      () => decodeCheckpoint(tweak({ tokenizer: { kind: 'bpe' } }), 'bpe.safetensors'),
      /bpe\.safetensors does not match its own model description: its tokenizer kind 'bpe' is unknown/,
    );
  });
});
