import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BpttBatcher, Vocab, decodeText, splitIds } from '../src/index.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('decoding text', () => {
  it('decodes UTF-8 and drops a byte-order mark', () => {
    assert.equal(decodeText(utf8('\ufeffhello 한국어 🎭')), 'hello 한국어 🎭');
  });
  it('refuses empty, binary and non-UTF-8 input with one sentence naming the file', () => {
    assert.throws(() => decodeText(new Uint8Array(0), 'notes.txt'), { message: 'notes.txt is empty: give a text file with some characters in it' });
    assert.throws(() => decodeText(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1]), 'a.png'), /a\.png is not a text file \(it contains NUL bytes\)/);
    assert.throws(() => decodeText(Uint8Array.from([0x61, 0xff, 0x62]), 'latin1.txt'), /latin1\.txt is not valid UTF-8 text/);
  });
});

describe('vocabulary', () => {
  it('is made of code points, ordered by frequency, ties by code point', () => {
    const v = Vocab.fromText('abracadabra 🎭🎭');
    assert.deepEqual(v.chars, ['a', 'b', 'r', '🎭', ' ', 'c', 'd']);
  });
  it('emoji and Hangul round-trip through encode and decode', () => {
    const text = '안녕하세요 👋🏽 world — ñ 🎭\n';
    const v = Vocab.fromText(text);
    const ids = v.encode(text);
    assert.equal(ids.length, [...text].length);
    assert.equal(v.decode(ids), text);
    assert.equal(Vocab.fromText('x').size, 1);
    assert.deepEqual(new Vocab(v.toJSON()).chars, v.chars);
  });
  it('a character outside the vocabulary is an error naming it, or mapped to `unknown`', () => {
    const v = Vocab.fromText('abc');
    assert.throws(() => v.encode('abz'), { message: "character 'z' (U+007A) is not in the model's vocabulary" });
    assert.deepEqual(Array.from(v.encode('az', { unknown: 0 })), [0, 0]);
    assert.deepEqual([...v.unknownChars('zzq a')], [['z', 2], ['q', 1], [' ', 1]]);
  });
});

describe('splitting and BPTT batching', () => {
  it('holds out the end of the text', () => {
    const ids = Int32Array.from({ length: 100 }, (_, i) => i);
    const s = splitIds(ids, 0.1, 0.05);
    assert.deepEqual([s.train.length, s.val.length, s.test.length], [85, 10, 5]);
    assert.equal(s.val[0], 85);
    assert.equal(s.test[4], 99);
    assert.throws(() => splitIds(ids, 1.5), /valFrac must be in \[0, 1\)/);
  });
  it('rows continue from one window to the next; targets are the inputs shifted by one', () => {
    const ids = Int32Array.from({ length: 41 }, (_, i) => i);
    const b = new BpttBatcher(ids, 2, 5); // rows of 20: [0..19], [20..39]
    assert.equal(b.windowsPerEpoch, 4);
    const w0 = b.next(), w1 = b.next();
    assert.deepEqual(Array.from(w0.x), [0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
    assert.deepEqual(Array.from(w0.y), [1, 2, 3, 4, 5, 21, 22, 23, 24, 25]);
    assert.deepEqual(Array.from(w1.x), [5, 6, 7, 8, 9, 25, 26, 27, 28, 29]);
    b.next(); const w3 = b.next();
    assert.equal(w3.y[9], 40);
    const w4 = b.next();
    assert.deepEqual([w4.epoch, w4.window, w4.x[0]], [1, 0, 0]);
  });
  it('position round-trips for resuming; too-short text is a clear error', () => {
    const ids = Int32Array.from({ length: 100 }, (_, i) => i % 7);
    const a = new BpttBatcher(ids, 3, 4);
    a.next(); a.next();
    const b = new BpttBatcher(ids, 3, 4);
    b.setState(a.getState());
    assert.deepEqual(Array.from(b.next().x), Array.from(a.next().x));
    assert.throws(() => new BpttBatcher(Int32Array.from([1, 2, 3]), 2, 4), /too short for batch 2 x seq 4: it has 3 characters but needs at least 9/);
  });
});
