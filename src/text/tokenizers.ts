/**
 * Tokenizers: text <-> integer ids, for the sequence tasks and the language
 * model. `CharTokenizer` works on Unicode code points (with special tokens
 * such as <pad>, <sos>, <eos> and an optional unknown token; recur train's
 * char models have none). `WordTokenizer` splits on whitespace and
 * punctuation, keeps words seen at least `minCount` times and maps the rest
 * to <unk>.
 * Both round-trip: decode(encode(text)) is the text whenever every piece of
 * it is in the vocabulary (the word tokenizer records spacing that differs
 * from its default rule as tokens).
 * Both describe themselves as JSON (`spec()`) so they save with a model.
 * No Node imports.
 */

import { CharCounts, codePointCount, codePointLabel, tokenIds, type TokenIds } from '../data/text.js';

/** What a tokenizer cuts text into: characters (code points) or words; checkpoints store it. */
export type TokenizerKind = 'char' | 'word';

/** What a language model (CharLM) reads and writes: characters or words. */
export type LMTokenizer = CharTokenizer | WordTokenizer;

/** What every tokenizer offers. */
export interface Tokenizer {
  /** Characters or words. */
  readonly kind: TokenizerKind;
  /** Token strings by id. */
  readonly tokens: readonly string[];
  /** Tokens that stand for no text of their own (<pad>, <eos>, <unk>, ...); a vocabulary built from text lists them first. */
  readonly specials: readonly string[];
  /** The token that pieces outside the vocabulary become, or null: then they are an error (or left out, where a reader offers that). */
  readonly unknown: string | null;
  /** Tokens in the vocabulary, specials included. */
  readonly size: number;
  /** Whether `token` is in the vocabulary. */
  has(token: string): boolean;
  /** The id of a token (an error if it is not in the vocabulary). */
  id(token: string): number;
  /** Ids in the narrowest array the vocabulary allows (see tokenIds). */
  encode(text: string): TokenIds;
  /** The text of `ids` (an error for an id outside the vocabulary). */
  decode(ids: ArrayLike<number>): string;
  /** Pieces of `text` (characters or words) outside the vocabulary, with their counts. */
  unknownIn(text: string): Map<string, number>;
  /** A function turning ids, one at a time, into text, continuing after `context` ids already shown. */
  streamDecoder(context?: ArrayLike<number>): (id: number) => string;
  /** A JSON description that `tokenizerFromSpec` turns back into the same tokenizer. */
  spec(): TokenizerSpec;
}

/** What messages call a number of tokens of each kind ("1,000 characters", "1,000 word tokens"). */
export const TOKEN_NOUNS: Readonly<Record<TokenizerKind, string>> = { char: 'characters', word: 'word tokens' };

/** A tokenizer as checkpoints store it (JSON): enough to rebuild it with the same ids. */
export type TokenizerSpec =
  | {
      /** A character tokenizer. */
      kind: 'char';
      /** Token strings by id. */
      tokens: string[];
      /** The special tokens among them. */
      specials: string[];
      /** The unknown token, or null for none. */
      unknown: string | null;
    }
  | {
      /** A word tokenizer. */
      kind: 'word';
      /** Token strings by id. */
      tokens: string[];
      /** The special tokens among them. */
      specials: string[];
      /** The token rare or unseen words become. */
      unknown: string;
      /** The token that means "no space here". */
      join: string;
    };

/** How a tokenizer builds its vocabulary from text. */
export interface TokenizerOptions {
  /** Tokens put first in the vocabulary (ids 0, 1, ...), e.g. ['<pad>', '<sos>', '<eos>']. */
  specials?: readonly string[];
  /** Keep only pieces seen at least this often (default 1). */
  minCount?: number;
  /** Keep at most this many tokens in all (the most frequent). */
  maxSize?: number;
}

const show = (c: string): string => JSON.stringify(c);

const count = (counts: Map<string, number>, p: string): void => {
  counts.set(p, (counts.get(p) ?? 0) + 1);
};

/**
 * Counted words ordered by count (most frequent first), ties in UTF-16 order
 * (JavaScript's string order): the order word vocabularies have always had,
 * so recur train --tokens word keeps giving a text the ids it gave. Characters
 * go by code point order instead (CharTokenizer.fromCounts), as char
 * vocabularies always have.
 */
function byFrequency(counts: Map<string, number>, minCount: number): string[] {
  return [...counts.keys()].filter((k) => counts.get(k)! >= minCount).sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

function checkCommon(op: string, o: TokenizerOptions): void {
  if (o.minCount !== undefined && !(Number.isInteger(o.minCount) && o.minCount >= 1))
    throw new Error(`${op}: minCount must be a whole number of at least 1, got ${o.minCount}`);
  if (o.maxSize !== undefined && !(Number.isInteger(o.maxSize) && o.maxSize >= 1))
    throw new Error(`${op}: maxSize must be a whole number of at least 1, got ${o.maxSize}`);
}

abstract class BaseTokenizer {
  readonly tokens: readonly string[];
  readonly specials: readonly string[];
  /** @internal Token to id. */
  protected readonly index: Map<string, number>;

  constructor(op: string, tokens: readonly string[], specials: readonly string[]) {
    if (tokens.length === 0) throw new Error(`${op}: the vocabulary is empty`);
    if (!tokens.every((t) => typeof t === 'string') || !specials.every((t) => typeof t === 'string'))
      throw new Error(`${op}: the vocabulary has entries that are not strings`);
    this.tokens = Object.freeze([...tokens]);
    this.specials = Object.freeze([...specials]);
    this.index = new Map(this.tokens.map((t, i) => [t, i]));
    if (this.index.size !== this.tokens.length) {
      const seen = new Set<string>();
      const dup = this.tokens.find((t) => (seen.has(t) ? true : (seen.add(t), false)));
      throw new Error(`${op}: the vocabulary lists ${show(dup!)} twice`);
    }
    for (const s of specials) if (!this.index.has(s)) throw new Error(`${op}: special token ${show(s)} is not in the vocabulary`);
  }

  /** Tokens in the vocabulary, specials included. */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether `token` is in the vocabulary. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  id(token: string): number {
    const i = this.index.get(token);
    if (i === undefined) throw new Error(`token ${show(token)} is not in the vocabulary`);
    return i;
  }

  /** @internal The token of an id, checked. */
  protected tokenOf(id: number): string {
    const t = this.tokens[id];
    if (t === undefined || !Number.isInteger(id)) throw new Error(`decode: id ${id} is out of range for a vocabulary of ${this.size}`);
    return t;
  }
}

const describeChar = (c: string): string => `'${c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : c}' (${codePointLabel(c)})`;

/**
 * Code points (not UTF-16 units, so emoji and Hangul round-trip), with
 * optional special tokens and an unknown token; the char LM's tokenizer, and
 * the sequence tasks'.
 */
export class CharTokenizer extends BaseTokenizer implements Tokenizer {
  /** Always 'char'. */
  readonly kind = 'char' as const;
  readonly unknown: string | null;
  /** Ids by code point, so encoding reads a text without a string per character: BMP in a table, the rest in a map. */
  private bmpIds: Int32Array | null = null;
  private astralIds: Map<number, number> | null = null;

  /** `tokens` lists specials first, then single code points. */
  constructor(tokens: readonly string[], opts: { specials?: readonly string[]; unknown?: string | null } = {}) {
    const specials = opts.specials ?? [];
    const unknown = opts.unknown ?? null;
    super('CharTokenizer', tokens, unknown !== null && !specials.includes(unknown) ? [...specials, unknown] : specials);
    this.unknown = unknown;
    const special = new Set(this.specials);
    for (const t of this.tokens) {
      if (!special.has(t) && codePointCount(t) !== 1)
        throw new Error(`CharTokenizer: entry ${show(t)} is not a single code point (list it in specials if it is a special token)`);
    }
  }

  /**
   * The vocabulary of the given texts: specials first, then (if given) the
   * unknown token, then code points by frequency (see fromCounts).
   */
  static fromTexts(texts: string | readonly string[], opts: TokenizerOptions & { unknown?: string } = {}): CharTokenizer {
    const counts = new CharCounts();
    for (const t of typeof texts === 'string' ? [texts] : texts) counts.add(t);
    return CharTokenizer.fromCounts(counts, opts);
  }

  /** @deprecated use fromTexts, which takes one text or several */
  static fromText(text: string, opts: TokenizerOptions & { unknown?: string } = {}): CharTokenizer {
    return CharTokenizer.fromTexts(text, opts);
  }

  /**
   * The vocabulary of counted code points (readCorpus counts a big text a
   * piece at a time): specials, then the unknown token, then code points
   * most frequent first, ties in code point order. Code point order (not
   * UTF-16 order) is what recur train has always built char models with, so
   * a text keeps giving the ids it gave; the two orders differ where a
   * character beyond U+FFFF (an emoji) ties with one from U+E000 to U+FFFF
   * (the variation selector U+FE0F, fullwidth punctuation).
   */
  static fromCounts(counts: CharCounts, opts: TokenizerOptions & { unknown?: string } = {}): CharTokenizer {
    checkCommon('CharTokenizer', opts);
    const specials = [...(opts.specials ?? [])];
    if (opts.unknown !== undefined && !specials.includes(opts.unknown)) specials.push(opts.unknown);
    const minCount = opts.minCount ?? 1;
    let chosen = counts
      .entries()
      .filter(([c, n]) => n >= minCount && !specials.includes(c))
      .sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!)
      .map(([c]) => c);
    if (opts.maxSize !== undefined) chosen = chosen.slice(0, Math.max(0, opts.maxSize - specials.length));
    return new CharTokenizer([...specials, ...chosen], { specials: opts.specials, unknown: opts.unknown ?? null });
  }

  /** @deprecated use tokens */
  get chars(): readonly string[] {
    return this.tokens;
  }

  private lookup(): { bmp: Int32Array; astral: Map<number, number> } {
    if (!this.bmpIds) {
      const bmp = new Int32Array(0x10000).fill(-1);
      const astral = new Map<number, number>();
      this.tokens.forEach((t, i) => {
        // a special token of several characters never matches text
        if (codePointCount(t) !== 1) return;
        const cp = t.codePointAt(0)!;
        if (cp < 0x10000) bmp[cp] = i;
        else astral.set(cp, i);
      });
      this.bmpIds = bmp;
      this.astralIds = astral;
    }
    return { bmp: this.bmpIds, astral: this.astralIds! };
  }

  /**
   * Write the ids of `text` into `out` from `at`; returns the position after
   * the last one written. A character outside the vocabulary becomes
   * `unknown` (an id; by default the unknown token's, if there is one), or
   * with `unknown: 'skip'` is left out, or else is an error naming it.
   */
  encodeInto(text: string, out: TokenIds, at: number, opts: { unknown?: number | 'skip' } = {}): number {
    const { bmp, astral } = this.lookup();
    const unknown = opts.unknown ?? (this.unknown === null ? undefined : this.index.get(this.unknown)!);
    const n = text.length;
    for (let i = 0; i < n; i++) {
      let cp = text.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i++;
        }
      }
      let id = cp < 0x10000 ? bmp[cp] : (astral.get(cp) ?? -1);
      if (id < 0) {
        if (unknown === 'skip') continue;
        if (unknown === undefined) throw new Error(`character ${describeChar(String.fromCodePoint(cp))} is not in the model's vocabulary`);
        id = unknown;
      }
      out[at++] = id;
    }
    return at;
  }

  /** Code points of `text` as ids in the narrowest array (tokenIds); one outside the vocabulary becomes `unknown` or the unknown token, or is an error naming it. */
  encode(text: string, opts: { unknown?: number } = {}): TokenIds {
    const out = tokenIds(this.size, codePointCount(text));
    this.encodeInto(text, out, 0, opts);
    return out;
  }

  /** Text of the ids; special tokens appear as their names unless `skipSpecials`. */
  decode(ids: ArrayLike<number>, opts: { skipSpecials?: boolean } = {}): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokenOf(ids[i]);
      if (!(opts.skipSpecials && this.specials.includes(t))) s += t;
    }
    return s;
  }

  /** Characters of `text` outside the vocabulary, with their counts, in the order first seen. */
  unknownIn(text: string): Map<string, number> {
    return this.unknownOf(new CharCounts().add(text));
  }

  /** @deprecated use unknownIn */
  unknownChars(text: string): Map<string, number> {
    return this.unknownIn(text);
  }

  /** Characters counted in `counts` that are not in the vocabulary, with their counts, in the order first seen. */
  unknownOf(counts: CharCounts): Map<string, number> {
    return new Map(counts.entries().filter(([c]) => !this.index.has(c)));
  }

  streamDecoder(): (id: number) => string {
    return (id) => this.tokenOf(id);
  }

  spec(): TokenizerSpec {
    return { kind: 'char', tokens: [...this.tokens], specials: this.specials.filter((s) => s !== this.unknown), unknown: this.unknown };
  }

  /** @deprecated use spec(), which keeps special tokens too; this is the token list alone */
  toJSON(): string[] {
    return [...this.tokens];
  }
}

/** @deprecated use CharTokenizer */
export const Vocab = CharTokenizer;
/** @deprecated use CharTokenizer */
export type Vocab = CharTokenizer;

/** Words: letters and digits, with inner apostrophes (answer'd, o'er, don’t). */
const PIECE = /([\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*)|(\s)|(\S)/gu;
/** No space before these by default ("word," "word." "store-houses"). */
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', '-', '…', '%', '’']);
/** No space after these by default ("(word" "'tis" "store-houses"). */
const NO_SPACE_AFTER = new Set(['(', '[', '{', '-', "'", '‘', '“']);
const isSpace = (t: string): boolean => /^\s$/u.test(t);

/** The spacing decode puts between two neighbouring tokens unless told otherwise. */
function defaultGap(prev: string | null, next: string): string {
  if (prev === null) return '';
  return NO_SPACE_BEFORE.has(next) || NO_SPACE_AFTER.has(prev) ? '' : ' ';
}

/**
 * Hand `fn` the word and punctuation tokens of `text` in order, plus the
 * spacing that is not the default: whitespace characters as tokens of their
 * own ('space'), and `join` where there is no space but the default would put
 * one. No array of the pieces is made, so a big text costs no more than its ids.
 */
export function forEachWordPiece(text: string, join: string, fn: (piece: string, kind: 'word' | 'space' | 'join') => void): void {
  let prev: string | null = null;
  let gap = '';
  const spaces = (): void => {
    for (let i = 0; i < gap.length; i++) fn(gap[i], 'space'); // \s matches only BMP characters
  };
  for (const m of text.matchAll(PIECE)) {
    if (m[2] !== undefined) {
      gap += m[2];
      continue;
    }
    const tok = m[0];
    if (gap !== defaultGap(prev, tok)) {
      if (gap === '') fn(join, 'join');
      else spaces();
    }
    fn(tok, 'word');
    prev = tok;
    gap = '';
  }
  if (gap !== '') spaces();
}

/** The pieces forEachWordPiece hands over, as an array. */
export function wordPieces(text: string, join = '<join>'): string[] {
  const out: string[] = [];
  forEachWordPiece(text, join, (p) => out.push(p));
  return out;
}

/**
 * Words and punctuation; spacing follows a default rule (a space between
 * words, none before , . ; : ! ? ) or around -), and where the text differs
 * the whitespace itself (or <join> for "no space") is a token, so text
 * round-trips exactly. Words seen fewer than minCount times become <unk>.
 */
export class WordTokenizer extends BaseTokenizer implements Tokenizer {
  /** Always 'word'. */
  readonly kind = 'word' as const;
  /** The token rare or unseen words become. */
  readonly unknown: string;
  /** The token that means "no space here" where the default spacing rule would put one. */
  readonly join: string;
  private readonly unkId: number;

  constructor(tokens: readonly string[], opts: { specials?: readonly string[]; unknown?: string; join?: string } = {}) {
    const unknown = opts.unknown ?? '<unk>';
    const join = opts.join ?? '<join>';
    const specials = [...(opts.specials ?? [])];
    for (const s of [unknown, join]) if (!specials.includes(s)) specials.push(s);
    super('WordTokenizer', tokens, specials);
    this.unknown = unknown;
    this.join = join;
    this.unkId = this.index.get(unknown)!;
  }

  /** The vocabulary of `text`: specials, <unk>, <join>, every whitespace character seen, then words by frequency (at least minCount). */
  static fromText(text: string, opts: TokenizerOptions & { unknown?: string; join?: string } = {}): WordTokenizer {
    checkCommon('WordTokenizer', opts);
    const unknown = opts.unknown ?? '<unk>';
    const join = opts.join ?? '<join>';
    const specials = [...(opts.specials ?? [])];
    for (const s of [unknown, join]) if (!specials.includes(s)) specials.push(s);
    const spaceCounts = new Map<string, number>(),
      wordCounts = new Map<string, number>();
    forEachWordPiece(text, join, (p, kind) => {
      if (kind !== 'join') count(kind === 'space' ? spaceCounts : wordCounts, p);
    });
    const spaces = byFrequency(spaceCounts, 1);
    let words = byFrequency(wordCounts, opts.minCount ?? 1).filter((w) => !specials.includes(w));
    if (opts.maxSize !== undefined) words = words.slice(0, Math.max(0, opts.maxSize - specials.length - spaces.length));
    return new WordTokenizer([...specials, ...spaces, ...words], { specials: opts.specials, unknown, join });
  }

  encode(text: string): TokenIds {
    // the count of pieces is known only at the end: grow by half, then trim once
    let out = tokenIds(this.size, 16 + (text.length >> 2));
    let n = 0;
    forEachWordPiece(text, this.join, (p) => {
      if (n === out.length) {
        const bigger = tokenIds(this.size, Math.ceil(out.length * 1.5));
        bigger.set(out);
        out = bigger;
      }
      out[n++] = this.index.get(p) ?? this.unkId;
    });
    return n === out.length ? out : out.slice(0, n);
  }

  /** The text of `ids`, spaced by the default rule and the whitespace tokens. */
  decode(ids: ArrayLike<number>): string {
    const next = this.streamDecoder();
    let s = '';
    for (let i = 0; i < ids.length; i++) s += next(ids[i]);
    return s;
  }

  streamDecoder(context: ArrayLike<number> = []): (id: number) => string {
    let prev: string | null = null;
    let explicit = false; // whitespace or <join> since the last word: no default gap
    const step = (id: number): string => {
      const t = this.tokenOf(id);
      if (t === this.join) {
        explicit = true;
        return '';
      }
      if (isSpace(t)) {
        explicit = true;
        return t;
      }
      const gap = explicit ? '' : defaultGap(prev, t);
      prev = t;
      explicit = false;
      return gap + t;
    };
    for (let i = 0; i < context.length; i++) step(context[i]);
    return step;
  }

  unknownIn(text: string): Map<string, number> {
    const out = new Map<string, number>();
    forEachWordPiece(text, this.join, (p) => {
      if (!this.index.has(p)) count(out, p);
    });
    return out;
  }

  spec(): TokenizerSpec {
    const specials = this.specials.filter((s) => s !== this.unknown && s !== this.join);
    return { kind: 'word', tokens: [...this.tokens], specials, unknown: this.unknown, join: this.join };
  }
}

/** Rebuild a tokenizer from its `spec()`. */
export function tokenizerFromSpec(spec: TokenizerSpec): CharTokenizer | WordTokenizer {
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.tokens)) throw new Error('the tokenizer description is not an object with a token list');
  if (spec.kind === 'char') return new CharTokenizer(spec.tokens, { specials: spec.specials ?? [], unknown: spec.unknown ?? null });
  if (spec.kind === 'word') return new WordTokenizer(spec.tokens, { specials: spec.specials ?? [], unknown: spec.unknown, join: spec.join });
  throw new Error(`unknown tokenizer kind '${(spec as { kind: unknown }).kind}'`);
}

/**
 * The description a file stores beside a tokenizer's token list, or null
 * where the list alone rebuilds it (characters without special tokens):
 * those files stay as char models have been saved since before tokenizers
 * had descriptions, readable by every recur.
 */
export function savedSpec(t: Tokenizer): TokenizerSpec | null {
  const spec = t.spec();
  return spec.kind === 'char' && spec.specials.length === 0 && spec.unknown === null ? null : spec;
}

/** The tokenizer of a file's token list and stored description (savedSpec's); none, or `{ kind: 'char' }` alone, is a list of characters. */
export function tokenizerFromSaved(tokens: readonly string[], saved: { kind: 'char' } | TokenizerSpec | null | undefined): LMTokenizer {
  const kind: unknown = saved?.kind ?? 'char';
  if (kind === 'char' && !Array.isArray((saved as { tokens?: unknown } | null | undefined)?.tokens)) return new CharTokenizer(tokens);
  if (kind !== 'char' && kind !== 'word') throw new Error(`its tokenizer kind '${kind}' is unknown`);
  return tokenizerFromSpec(saved as TokenizerSpec);
}
