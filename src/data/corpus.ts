/**
 * Reading a text for a language model: bytes (or a string) to token ids and
 * a vocabulary in two passes over the text a piece at a time, so a big file
 * costs its bytes plus one compact id array, never a string or an array per
 * character. The CLI (train, eval) and the playground both read texts here,
 * with the same line-end rule. No Node imports.
 */
import { CharCounts, codePointCount, textPieces, tokenIds, type LineEnds, type TokenIds } from './text.js';
import { CharTokenizer, WordTokenizer, type LMTokenizer } from '../text/tokenizers.js';

/** How `readCorpus` reads a text: its name for messages, line ends, and the vocabulary to use or build. */
export interface CorpusOptions {
  /** Names the text in messages, e.g. `'notes.txt'`. */
  name?: string;
  /** Keep '\r' (CRLF and lone CR) instead of reading line ends as LF. */
  keepCr?: boolean;
  /** The vocabulary to encode with (a checkpoint's); without it one is built from the text. */
  vocab?: LMTokenizer;
  /** Without `vocab`: 'char' (default) or 'word'. */
  tokens?: 'char' | 'word';
  /** Without `vocab`, for words: words seen fewer times become <unk> (default 2). */
  minCount?: number;
  /**
   * Characters outside a given char vocabulary: 'skip' leaves them out of
   * the ids (counted in `unknown`), 'refuse' (default) is an error naming them.
   * A vocabulary with an unknown token (every word vocabulary) reads what it
   * lacks as that token instead.
   */
  unknown?: 'skip' | 'refuse';
}

/** A text read for a language model. */
export interface Corpus {
  /** The text as token ids, in the smallest array type the vocabulary allows. */
  ids: TokenIds;
  /** The vocabulary the ids index: the one given, or one built from the text. */
  vocab: LMTokenizer;
  /** Characters (code points) in the text as read, after line-end normalisation. */
  chars: number;
  /** The line ends found (read as LF unless keepCr). */
  lineEnds: LineEnds;
  /** Characters outside a given char vocabulary without an unknown token, with counts, in the order first seen (left out of `ids`). */
  unknown: Map<string, number>;
}

/**
 * A text (bytes or a string) to token ids and a vocabulary, as `recur train`
 * and the playground read theirs: strict UTF-8, one line-end rule, and
 * memory for the ids only. Errors are one sentence naming the text.
 *
 * @example
 * ```ts
 * const { ids, vocab } = readCorpus(readFileSync('notes.txt'), { name: 'notes.txt' });
 * const { train, val } = splitIds(ids, 0.1);
 * ```
 */
export function readCorpus(source: Uint8Array | string, opts: CorpusOptions = {}): Corpus {
  const name = opts.name ?? 'the text';
  const lineEnds: LineEnds = { crlf: 0, cr: 0 };
  const pieces = (ends?: LineEnds): Iterable<string> => textPieces(source, { name, keepCr: opts.keepCr, ends });
  const kind = opts.vocab?.kind ?? opts.tokens ?? 'char';
  if (kind === 'word') {
    // the word splitter reads whole strings, so a word model holds the text once; its pieces are counted, not kept
    let text = '';
    for (const s of pieces(lineEnds)) text += s;
    const vocab = (opts.vocab as WordTokenizer | undefined) ?? WordTokenizer.fromText(text, { minCount: opts.minCount ?? 2 });
    return { ids: vocab.encode(text), vocab, chars: codePointCount(text), lineEnds, unknown: new Map() };
  }
  const counts = new CharCounts();
  for (const s of pieces(lineEnds)) counts.add(s);
  const vocab = (opts.vocab as CharTokenizer | undefined) ?? CharTokenizer.fromCounts(counts);
  const unknown = vocab.unknown === null ? vocab.unknownOf(counts) : new Map<string, number>();
  let skipped = 0;
  for (const n of unknown.values()) skipped += n;
  if (skipped > 0 && opts.unknown !== 'skip') {
    const list = [...unknown.keys()]
      .slice(0, 5)
      .map((c) => JSON.stringify(c))
      .join(', ');
    throw new Error(`${name} has ${unknown.size} character(s) the model's vocabulary lacks (${list}); use a text with only the characters it was trained on`);
  }
  const ids = tokenIds(vocab.size, counts.total - skipped);
  let at = 0;
  for (const s of pieces()) at = vocab.encodeInto(s, ids, at, vocab.unknown === null ? { unknown: 'skip' } : {});
  return { ids, vocab, chars: counts.total, lineEnds, unknown };
}
