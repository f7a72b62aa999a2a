import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpttBatcher,
  CharTokenizer,
  WordTokenizer,
  decodeText,
  normalizeLineEnds,
  readCorpus,
  splitIds,
  textPieces,
  tokenIds,
  tokenizerFromSpec,
} from '../src/index.js';
import { lineEndNote } from '../src/internal.js';

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
    const v = CharTokenizer.fromTexts('abracadabra 🎭🎭');
    assert.deepEqual(v.tokens, ['a', 'b', 'r', '🎭', ' ', 'c', 'd']);
  });
  it('emoji and Hangul round-trip through encode and decode', () => {
    const text = '안녕하세요 👋🏽 world — ñ 🎭\n';
    const v = CharTokenizer.fromTexts(text);
    const ids = v.encode(text);
    assert.equal(ids.length, [...text].length);
    assert.equal(v.decode(ids), text);
    assert.equal(CharTokenizer.fromTexts('x').size, 1);
    assert.deepEqual(tokenizerFromSpec(v.spec()).tokens, v.tokens);
  });
  it('a character outside the vocabulary is an error naming it, or mapped to `unknown`', () => {
    const v = CharTokenizer.fromTexts('abc');
    assert.throws(() => v.encode('abz'), { message: "character 'z' (U+007A) is not in the model's vocabulary" });
    assert.deepEqual(Array.from(v.encode('az', { unknown: 0 })), [0, 0]);
    assert.deepEqual(
      [...v.unknownIn('zzq a')],
      [
        ['z', 2],
        ['q', 1],
        [' ', 1],
      ],
    );
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
    const w0 = b.next(),
      w1 = b.next();
    assert.deepEqual(Array.from(w0.x), [0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
    assert.deepEqual(Array.from(w0.y), [1, 2, 3, 4, 5, 21, 22, 23, 24, 25]);
    assert.deepEqual(Array.from(w1.x), [5, 6, 7, 8, 9, 25, 26, 27, 28, 29]);
    b.next();
    const w3 = b.next();
    assert.equal(w3.y[9], 40);
    const w4 = b.next();
    assert.deepEqual([w4.epoch, w4.window, w4.x[0]], [1, 0, 0]);
  });
  it('position round-trips for resuming; too-short text is a clear error', () => {
    const ids = Int32Array.from({ length: 100 }, (_, i) => i % 7);
    const a = new BpttBatcher(ids, 3, 4);
    a.next();
    a.next();
    const b = new BpttBatcher(ids, 3, 4);
    b.setState(a.getState());
    assert.deepEqual(Array.from(b.next().x), Array.from(a.next().x));
    assert.throws(() => new BpttBatcher(Int32Array.from([1, 2, 3]), 2, 4), /too short for batch 2 x seq 4: it has 3 characters but needs at least 9/);
  });
});

/** The vocabulary and ids as they were made before compact arrays: one string per code point, a Map of counts, number[] ids. */
function referenceEncoding(text: string): { chars: string[]; ids: number[] } {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  const chars = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.codePointAt(0)! - b.codePointAt(0)!);
  const index = new Map(chars.map((c, i) => [c, i]));
  return { chars, ids: [...text].map((c) => index.get(c)!) };
}

/** A text with `distinct` different code points, astral ones (emoji, CJK extension B) among them, each a different number of times. */
function textWith(distinct: number): string {
  const cps = [0x1f3ad, 0x1f44b]; // 🎭 👋
  for (let cp = 0x21; cps.length < distinct; cp++) {
    if (cp === 0x7f) cp = 0x4e00; // then CJK ideographs, then CJK extension B (astral)
    if (cp === 0x4e00 + 20000) cp = 0x20000;
    cps.push(cp);
  }
  let s = '';
  cps.forEach((cp, i) => {
    s += String.fromCodePoint(cp).repeat(1 + (i % 3));
  });
  return s;
}

/** Ids as Int32Array, so deepEqual compares them as one buffer. */
const int32 = (ids: ArrayLike<number>): Int32Array => Int32Array.from(ids);

describe('compact id arrays', () => {
  it('take one byte per token up to 256 vocabulary entries, two up to 65,536, else four', () => {
    assert.ok(tokenIds(256, 3) instanceof Uint8Array);
    assert.ok(tokenIds(257, 3) instanceof Uint16Array);
    assert.ok(tokenIds(65536, 3) instanceof Uint16Array);
    assert.ok(tokenIds(65537, 3) instanceof Int32Array);
    for (const [distinct, type] of [
      [256, Uint8Array],
      [257, Uint16Array],
      [65537, Int32Array],
    ] as const) {
      const text = textWith(distinct);
      const v = CharTokenizer.fromTexts(text);
      assert.equal(v.size, distinct);
      const ids = v.encode(text);
      assert.ok(ids instanceof type, `${distinct} characters: ${ids.constructor.name}`);
      assert.ok(readCorpus(new TextEncoder().encode(text)).ids instanceof type);
    }
  });

  it('hold the same vocabulary and ids as before, for a text with astral characters, from a string or from bytes read a piece at a time', () => {
    // many decoding pieces, so pieces end inside 4-byte characters
    const text = ('안녕 👋🏽 world — ñ 🎭\n'.repeat(50) + textWith(300)).repeat(1000);
    assert.ok(new TextEncoder().encode(text).length > 2.5 * 2 ** 20);
    const ref = referenceEncoding(text);
    const v = CharTokenizer.fromTexts(text);
    assert.deepEqual(v.tokens, ref.chars);
    const ids = v.encode(text);
    assert.ok(ids instanceof Uint16Array);
    assert.deepEqual(int32(ids), int32(ref.ids));
    const corpus = readCorpus(new TextEncoder().encode(text));
    assert.deepEqual(corpus.vocab.tokens, ref.chars);
    assert.deepEqual(int32(corpus.ids), int32(ref.ids));
    assert.equal(corpus.chars, ref.ids.length);
    assert.equal(v.decode(ids), text);
    // a given vocabulary: the same ids; characters outside it are refused, or skipped and counted
    assert.deepEqual(int32(readCorpus(text, { vocab: v }).ids), int32(ref.ids));
    assert.throws(() => readCorpus('ab€c€', { vocab: CharTokenizer.fromTexts('abc'), name: "'x.txt'" }), {
      message: "'x.txt' has 1 character(s) the model's vocabulary lacks (\"€\"); use a text with only the characters it was trained on",
    });
    const skipped = readCorpus('ab€c€', { vocab: CharTokenizer.fromTexts('abc'), unknown: 'skip' });
    assert.deepEqual([Array.from(skipped.ids), [...skipped.unknown]], [[0, 1, 2], [['€', 2]]]);
  });

  it('word models encode to the narrowest array too, with the ids of the word pieces', () => {
    const text = 'the cat sat on the mat, and the dog sat too.\n'.repeat(30);
    const t = WordTokenizer.fromText(text);
    const ids = t.encode(text);
    assert.ok(ids instanceof Uint8Array);
    assert.equal(t.decode(ids), text);
    const corpus = readCorpus(text, { tokens: 'word', minCount: 1 });
    assert.deepEqual(corpus.vocab.tokens, t.tokens);
    assert.deepEqual(Array.from(corpus.ids), Array.from(ids));
    const many = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
    assert.ok(WordTokenizer.fromText(many).encode(many) instanceof Uint16Array);
  });

  it('BpttBatcher gives the same windows from Uint8 and Uint16 ids as from Int32', () => {
    const n = 1001;
    const ints = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 251);
    for (const ids of [Uint8Array.from(ints), Uint16Array.from(ints)]) {
      const a = new BpttBatcher(ints, 3, 7),
        b = new BpttBatcher(ids, 3, 7);
      assert.equal(b.windowsPerEpoch, a.windowsPerEpoch);
      for (let w = 0; w < a.windowsPerEpoch + 2; w++) {
        const wa = a.next(),
          wb = b.next();
        assert.ok(wb.x instanceof Int32Array && wb.y instanceof Int32Array);
        assert.deepEqual([Array.from(wb.x), Array.from(wb.y), wb.epoch, wb.window], [Array.from(wa.x), Array.from(wa.y), wa.epoch, wa.window]);
      }
    }
  });
});

describe('line ends', () => {
  it('CRLF and lone CR are read as LF, counted, and kept with keepCr', () => {
    assert.deepEqual(normalizeLineEnds('a\r\nb\rc\n\r\n'), { text: 'a\nb\nc\n\n', crlf: 2, cr: 1 });
    assert.deepEqual(normalizeLineEnds('a\r\nb\r', true), { text: 'a\r\nb\r', crlf: 1, cr: 1 });
    assert.deepEqual(normalizeLineEnds('plain\n'), { text: 'plain\n', crlf: 0, cr: 0 });
  });

  it('a CRLF split between two decoding pieces is still one line end', () => {
    const bytes = new TextEncoder().encode('\ufeffab\r\ncd\r\r\n🎭\r');
    for (const pieceSize of [1, 2, 3, 4, 5]) {
      const ends = { crlf: 0, cr: 0 };
      assert.equal([...textPieces(bytes, { pieceSize, ends })].join(''), 'ab\ncd\n\n🎭\n', `pieces of ${pieceSize}`);
      assert.deepEqual(ends, { crlf: 2, cr: 2 });
      assert.equal([...textPieces(bytes, { pieceSize, keepCr: true })].join(''), 'ab\r\ncd\r\r\n🎭\r');
    }
    assert.equal(decodeText(bytes), 'ab\r\ncd\r\r\n🎭\r', 'decodeText itself keeps what the file has');
  });

  it('a text model reads a CRLF file without \\r in its vocabulary unless asked to keep it; the note says which line ends', () => {
    const bytes = new TextEncoder().encode('\ufeffone\r\ntwo\r\n');
    const lf = readCorpus(bytes);
    assert.deepEqual([lf.vocab.has('\r'), lf.chars, lf.lineEnds], [false, 8, { crlf: 2, cr: 0 }]);
    const kept = readCorpus(bytes, { keepCr: true });
    assert.deepEqual([kept.vocab.has('\r'), kept.chars], [true, 10]);
    assert.equal(lineEndNote("'x.txt'", lf.lineEnds, ' (--keep-cr keeps them)'), "'x.txt' has Windows line ends (CRLF); read as LF (--keep-cr keeps them)");
    assert.equal(lineEndNote("'x.txt'", { crlf: 0, cr: 3 }), "'x.txt' has carriage-return line ends (CR); read as LF");
    assert.equal(lineEndNote("'x.txt'", { crlf: 1, cr: 3 }), "'x.txt' has Windows (CRLF) and carriage-return (CR) line ends; read as LF");
    assert.equal(lineEndNote("'x.txt'", { crlf: 0, cr: 0 }), null);
  });
});
