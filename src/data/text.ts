/**
 * Text for character-level models: strict UTF-8 decoding, a vocabulary of
 * Unicode code points (not UTF-16 units, so emoji and Hangul round-trip),
 * encoding once into an Int32Array, and a split at the end of the text.
 * No Node imports: the playground uses the same code.
 */
import type { Tokenizer, TokenizerSpec } from '../text/tokenizers.js';

/** Decode bytes as UTF-8 text, refusing what is not text. `name` is used in error messages. */
export function decodeText(bytes: Uint8Array, name = 'the input'): string {
  if (bytes.length === 0) throw new Error(`${name} is empty: give a text file with some characters in it`);
  if (bytes.indexOf(0) !== -1) throw new Error(`${name} is not a text file (it contains NUL bytes); give a UTF-8 text file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${name} is not valid UTF-8 text; save it as UTF-8 and try again`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not content
  if (text.length === 0) throw new Error(`${name} is empty: give a text file with some characters in it`);
  return text;
}

const describeChar = (c: string): string =>
  `'${c === '\n' ? '\\n' : c === '\t' ? '\\t' : c}' (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;

/** Code points ordered by frequency (most frequent first), ties by code point. The char LM's tokenizer. */
export class Vocab implements Tokenizer {
  readonly kind = 'char' as const;
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (chars.length === 0) throw new Error('Vocab: the vocabulary is empty');
    if (!chars.every((c) => typeof c === 'string')) throw new Error('Vocab: the vocabulary has entries that are not strings');
    this.chars = Object.freeze([...chars]);
    this.index = new Map(this.chars.map((c, i) => [c, i]));
    if (this.index.size !== this.chars.length) throw new Error('Vocab: the vocabulary lists a character twice');
    for (const c of this.chars) {
      if ([...c].length !== 1) throw new Error(`Vocab: entry ${JSON.stringify(c)} is not a single code point`);
    }
  }

  static fromText(text: string): Vocab {
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const chars = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.codePointAt(0)! - b.codePointAt(0)!);
    return new Vocab(chars);
  }

  get size(): number {
    return this.chars.length;
  }

  get tokens(): readonly string[] {
    return this.chars;
  }

  has(c: string): boolean {
    return this.index.has(c);
  }

  id(c: string): number {
    const i = this.index.get(c);
    if (i === undefined) throw new Error(`character ${describeChar(c)} is not in the model's vocabulary`);
    return i;
  }

  /** Encode text; a character outside the vocabulary is an error naming it (or `unknown` is used instead). */
  encode(text: string, opts: { unknown?: number } = {}): Int32Array {
    const out: number[] = [];
    for (const c of text) {
      const i = this.index.get(c);
      if (i !== undefined) out.push(i);
      else if (opts.unknown !== undefined) out.push(opts.unknown);
      else throw new Error(`character ${describeChar(c)} is not in the model's vocabulary`);
    }
    return Int32Array.from(out);
  }

  /** Characters of `text` that are not in the vocabulary, with their counts. */
  unknownChars(text: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of text) if (!this.index.has(c)) out.set(c, (out.get(c) ?? 0) + 1);
    return out;
  }

  unknownIn(text: string): Map<string, number> {
    return this.unknownChars(text);
  }

  streamDecoder(): (id: number) => string {
    return (id) => this.decode([id]);
  }

  spec(): TokenizerSpec {
    return { kind: 'char', tokens: [...this.chars], specials: [], unknown: null };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new Error(`Vocab.decode: id ${ids[i]} is out of range for a vocabulary of ${this.size}`);
      s += c;
    }
    return s;
  }

  toJSON(): string[] {
    return [...this.chars];
  }
}

export interface Split {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/** Hold out the end of the text: [train | val | test], by fraction. */
export function splitIds(ids: Int32Array, valFrac = 0.1, testFrac = 0): Split {
  for (const [k, v] of [['valFrac', valFrac], ['testFrac', testFrac]] as const) {
    if (!(v >= 0 && v < 1)) throw new Error(`splitIds: ${k} must be in [0, 1), got ${v}`);
  }
  if (valFrac + testFrac >= 1) throw new Error('splitIds: valFrac + testFrac must leave some text for training');
  const n = ids.length;
  const nTest = Math.floor(n * testFrac);
  const nVal = Math.floor(n * valFrac);
  const nTrain = n - nVal - nTest;
  return { train: ids.subarray(0, nTrain), val: ids.subarray(nTrain, nTrain + nVal), test: ids.subarray(nTrain + nVal) };
}
