import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Adam, LanguageModel, CharTokenizer, Rng, WordTokenizer, decodeCheckpoint, encodeCheckpoint, writeSafetensors } from '../src/index.js';
import { CHECKPOINT_VERSION } from '../src/internal.js';

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
    assert.throws(() => decodeCheckpoint(tweak({ version: CHECKPOINT_VERSION + 1 }), 'new.safetensors'), /new\.safetensors was written by a newer recur/);
    assert.throws(
      () => decodeCheckpoint(tweak({ tokenizer: { kind: 'bpe' } }), 'bpe.safetensors'),
      /bpe\.safetensors does not match its own model description: its tokenizer kind 'bpe' is unknown/,
    );
  });
});

describe('checkpoints of minGRU / minLSTM models, plain and as blocks', () => {
  const ids = vocab.encode('to be or not to be');
  const configs = {
    'mingru plain': { vocabSize: vocab.size, model: 'mingru', layers: 2, hidden: 6, embed: 4, dropout: 0.1 },
    'minlstm blocks': { vocabSize: vocab.size, model: 'minlstm', layers: 2, hidden: 6, embed: 6, dropout: 0.1, blocks: true },
  } as const;
  for (const [what, config] of Object.entries(configs)) {
    it(`${what}: config, weights, optimizer and carried state round-trip; the stepper of the loaded model samples the same`, () => {
      const m = new LanguageModel(config, { rng: new Rng(7) });
      const opt = new Adam(m.parameters(), { lr: 0.01 });
      const out = m.forward(ids, 2, ids.length / 2);
      r.crossEntropy(out.logits, Array.from(ids)).backward();
      opt.step();
      const bytes = encodeCheckpoint(m, vocab, { optimizer: opt.stateDict(), state: out.state, progress: { step: 1 } });
      const meta = JSON.parse(r.readSafetensorsMetadata(bytes).recur);
      assert.equal(meta.version, 'blocks' in config ? 3 : 1);
      const ck = decodeCheckpoint(bytes);
      assert.deepEqual(ck.model.config, m.config);
      assert.deepEqual(Object.keys(ck.model.stateDict()), Object.keys(m.stateDict()));
      m.eval();
      ck.model.eval();
      assert.deepEqual(Array.from(ck.model.forward(ids, 1, ids.length).logits.data), Array.from(m.forward(ids, 1, ids.length).logits.data));
      assert.deepEqual(Array.from(ck.state!.h.data), Array.from(out.state.h.data));
      assert.deepEqual(ck.state!.h.shape, [2, 2, 6]);
      assert.equal(ck.optimizer!.step, 1);
      assert.equal(r.sampleText(ck.model, ck.vocab, { seed: 2, length: 30 }), r.sampleText(m, vocab, { seed: 2, length: 30 }));
    });
  }

  it('a checkpoint whose config has no blocks field (as recur wrote before the block form) loads as a plain stack', () => {
    const m = new LanguageModel({ ...configs['mingru plain'], blocks: false }, { rng: new Rng(8) });
    const bytes = encodeCheckpoint(m, vocab);
    const meta = JSON.parse(r.readSafetensorsMetadata(bytes).recur);
    delete meta.config.blocks;
    const ck = decodeCheckpoint(writeSafetensors(r.readSafetensors(bytes), { recur: JSON.stringify(meta) }));
    assert.ok(ck.model.rnn);
    assert.equal(ck.model.blocks, null);
    m.eval();
    ck.model.eval();
    assert.deepEqual(Array.from(ck.model.forward(ids, 1, ids.length).logits.data), Array.from(m.forward(ids, 1, ids.length).logits.data));
  });

  it('a damaged or mismatched block checkpoint is one sentence naming what is wrong', () => {
    const blocks = encodeCheckpoint(new LanguageModel(configs['minlstm blocks'], { rng: new Rng(9) }), vocab);
    const meta = JSON.parse(r.readSafetensorsMetadata(blocks).recur);
    const tweak = (config: object): Uint8Array =>
      writeSafetensors(r.readSafetensors(blocks), { recur: JSON.stringify({ ...meta, config: { ...meta.config, ...config } }) });
    // the block metadata over a plain model's weights
    const plain = encodeCheckpoint(new LanguageModel({ ...configs['minlstm blocks'], blocks: false }), vocab);
    assert.throws(() => decodeCheckpoint(writeSafetensors(r.readSafetensors(plain), { recur: JSON.stringify(meta) }), 'grafted.st'), {
      message: "grafted.st does not match its own model description: 'blocks.0.norm1.weight' is missing",
    });
    // a plain config over a block model's weights
    assert.throws(() => decodeCheckpoint(tweak({ blocks: false }), 'unblocked.st'), {
      message: "unblocked.st does not match its own model description: 'rnn.weight_ih_l0' is missing",
    });
    assert.throws(() => decodeCheckpoint(tweak({ embed: 4 }), 'narrow.st'), {
      message: "narrow.st does not match its own model description: a block model's embedding is as wide as the model: embed must equal hidden (6), got 4",
    });
    assert.throws(() => decodeCheckpoint(tweak({ blocks: 1 }), 'one.st'), {
      message: 'one.st does not match its own model description: blocks must be true or false, got 1',
    });
    assert.throws(() => decodeCheckpoint(tweak({ layers: 3 }), 'deeper.st'), {
      message: "deeper.st does not match its own model description: 'blocks.2.norm1.weight' is missing",
    });
    // one changed byte in a block's weights
    const flipped = blocks.slice();
    flipped[flipped.length - 1] ^= 1;
    assert.throws(() => decodeCheckpoint(flipped, 'flipped.st'), /^Error: flipped\.st is damaged: tensor '[\w.]+' fails its checksum$/);
  });
});
