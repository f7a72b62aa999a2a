/**
 * Text for language models: strict UTF-8 decoding, whole or a piece at a
 * time (so a big file never becomes one string), the one line-end rule,
 * counts of Unicode code points (not UTF-16 units, so emoji and Hangul count
 * once; CharTokenizer builds its vocabulary from them), the narrowest id
 * array a vocabulary allows, and a split at the end of the text.
 * No Node imports: the playground uses the same code.
 */

/** Token ids of a text: one byte per token while the vocabulary has at most 256 entries, two up to 65,536, else four. */
export type TokenIds = Uint8Array | Uint16Array | Int32Array;

/** A zeroed id array of `length` in the narrowest type that holds every id of a vocabulary of `vocabSize`. */
export function tokenIds(vocabSize: number, length: number): TokenIds {
  if (vocabSize <= 0x100) return new Uint8Array(length);
  if (vocabSize <= 0x10000) return new Uint16Array(length);
  return new Int32Array(length);
}

/** A character's code point as Unicode writes it, for messages: 'U+00E9'. */
export function codePointLabel(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Line ends found in a text: Windows pairs (CRLF) and lone carriage returns (CR). */
export interface LineEnds {
  /** CR LF pairs, each read as one LF. */
  crlf: number;
  /** Carriage returns not followed by LF (old Mac files), each read as LF. */
  cr: number;
}

/**
 * The one line-end rule for text models: CRLF and a lone CR both become LF
 * (Python's universal newlines), so a Windows file trains the same model as
 * its Unix copy and '\r' never reaches a vocabulary or a sample. A lone CR is
 * an old Mac line end or a terminal log's overwritten line; either way the
 * next text starts on a new line. `keepCr` leaves the text as it is and only
 * counts.
 */
export function normalizeLineEnds(
  text: string,
  keepCr = false,
): LineEnds & {
  /** The text with its line ends as LF (unchanged with `keepCr`). */
  text: string;
} {
  let i = text.indexOf('\r');
  if (i === -1) return { text, crlf: 0, cr: 0 };
  let crlf = 0,
    cr = 0;
  for (; i !== -1; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) === 10) crlf++;
    else cr++;
  }
  return { text: keepCr ? text : text.replace(/\r\n?/g, '\n'), crlf, cr };
}

/** The note for a text whose line ends were read as LF (null when it had none); `keepHint` says how to keep them. */
export function lineEndNote(name: string, ends: LineEnds, keepHint = ''): string | null {
  if (ends.crlf === 0 && ends.cr === 0) return null;
  const what =
    ends.cr === 0 ? 'Windows line ends (CRLF)' : ends.crlf === 0 ? 'carriage-return line ends (CR)' : 'Windows (CRLF) and carriage-return (CR) line ends';
  return `${name} has ${what}; read as LF${keepHint}`;
}

/**
 * UTF-8 is decoded this many bytes (a string cut into this many UTF-16 units)
 * at a time: small enough that each piece is a young-generation string,
 * freed at the next scavenge; 1 MiB pieces are large objects that linger
 * until a full collection and added 70 MB to a 50 MB file's peak.
 */
const PIECE = 1 << 16;

const emptyError = (name: string): Error => new Error(`${name} is empty: give a text file with some characters in it`);

/**
 * The text of `source` a piece at a time, each piece whole code points, with
 * line ends normalised (normalizeLineEnds) unless `keepCr`; `ends` (if given)
 * counts the line ends found. Bytes are checked and decoded as decodeText
 * does, with its sentences, without ever holding the whole text as one string.
 */
export function* textPieces(
  source: Uint8Array | string,
  opts: { name?: string; keepCr?: boolean; ends?: LineEnds; pieceSize?: number } = {},
): Generator<string, void, undefined> {
  const name = opts.name ?? 'the input';
  const size = opts.pieceSize ?? PIECE;
  // a CR at the end of a piece is held back: the next piece may start with its LF
  let held = '';
  let any = false;
  const normalise = (s: string, last: boolean): string => {
    s = held + s;
    held = '';
    if (!last && s.charCodeAt(s.length - 1) === 13) {
      held = '\r';
      s = s.slice(0, -1);
    }
    const r = normalizeLineEnds(s, opts.keepCr);
    if (opts.ends) {
      opts.ends.crlf += r.crlf;
      opts.ends.cr += r.cr;
    }
    if (r.text.length > 0) any = true;
    return r.text;
  };
  if (typeof source === 'string') {
    for (let at = 0; at < source.length;) {
      let end = Math.min(source.length, at + size);
      const c = source.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff && end < source.length) end++; // never split a surrogate pair
      const s = normalise(source.slice(at, end), end === source.length);
      at = end;
      if (s) yield s;
    }
  } else {
    if (source.length === 0) throw emptyError(name);
    if (source.indexOf(0) !== -1) throw new Error(`${name} is not a text file (it contains NUL bytes); give a UTF-8 text file`);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let first = true;
    for (let at = 0; at < source.length; at += size) {
      const end = Math.min(source.length, at + size);
      let s: string;
      try {
        s = decoder.decode(source.subarray(at, end), { stream: end < source.length });
      } catch {
        throw new Error(`${name} is not valid UTF-8 text; save it as UTF-8 and try again`);
      }
      // the decoder drops a leading byte-order mark; one more U+FEFF there is a second mark, not content
      if (first && s.length > 0) {
        first = false;
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      }
      s = normalise(s, end === source.length);
      if (s) yield s;
    }
  }
  if (!any) throw emptyError(name);
}

/** Decode bytes as UTF-8 text, refusing what is not text (empty, NUL bytes, invalid UTF-8); a byte-order mark is dropped. `name` is used in error messages. */
export function decodeText(bytes: Uint8Array, name = 'the input'): string {
  let text = '';
  for (const s of textPieces(bytes, { name, keepCr: true })) text += s;
  return text;
}

/** Code points in `s` (a lone surrogate counts as one), without splitting it into an array. */
export function codePointCount(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}

/** Code point frequencies of a text, gathered a piece at a time without a string per character. */
export class CharCounts {
  private readonly bmp = new Float64Array(0x10000);
  private readonly astral = new Map<number, number>();
  /** Code points in the order first seen, so lists of unknown characters read like the text. */
  private readonly order: number[] = [];
  /** Code points counted. */
  total = 0;

  add(s: string): this {
    const { bmp, astral, order } = this;
    const n = s.length;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          const k = astral.get(cp) ?? 0;
          if (k === 0) order.push(cp);
          astral.set(cp, k + 1);
          pairs++;
          i++;
          continue;
        }
      }
      if (bmp[c]++ === 0) order.push(c);
    }
    this.total += n - pairs;
    return this;
  }

  /** [character, count] of every code point seen, in the order first seen. */
  entries(): [string, number][] {
    return this.order.map((c) => [String.fromCodePoint(c), c < 0x10000 ? this.bmp[c] : this.astral.get(c)!]);
  }
}

/** A token sequence cut into training, validation and test parts, in that order of the text (splitIds). */
export interface Split<T extends TokenIds = TokenIds> {
  /** The first part, trained on. */
  train: T;
  /** The part after it, scored during training. */
  val: T;
  /** The last part (empty unless a test fraction was asked for), scored once by `recur eval`. */
  test: T;
}

/** Sizes of [train | val | test] for a text of n tokens: what splitIds cuts, and what the minimum text length is computed from. */
export function splitSizes(n: number, valFrac = 0.1, testFrac = 0): { train: number; val: number; test: number } {
  for (const [k, v] of [
    ['valFrac', valFrac],
    ['testFrac', testFrac],
  ] as const) {
    if (!(v >= 0 && v < 1)) throw new Error(`splitIds: ${k} must be in [0, 1), got ${v}`);
  }
  if (valFrac + testFrac >= 1) throw new Error('splitIds: valFrac + testFrac must leave some text for training');
  const test = Math.floor(n * testFrac);
  const val = Math.floor(n * valFrac);
  return { train: n - val - test, val, test };
}

/** Hold out the end of the text: [train | val | test], by fraction (views, not copies). */
export function splitIds<T extends TokenIds>(ids: T, valFrac = 0.1, testFrac = 0): Split<T> {
  const s = splitSizes(ids.length, valFrac, testFrac);
  return { train: ids.subarray(0, s.train) as T, val: ids.subarray(s.train, s.train + s.val) as T, test: ids.subarray(s.train + s.val) as T };
}
