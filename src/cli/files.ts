/** Node file I/O for the CLI: friendly errors, and atomic writes (temp file + rename). */
import { readFileSync, renameSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { decodeText, lineEndNote } from '../data/text.js';
import { readCorpus, type Corpus, type CorpusOptions } from '../data/corpus.js';
import { decodeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { checkpointSizeProblem } from '../io/checkpoint-meta.js';
import { UserError } from './errors.js';

/** Read a whole regular file; `maxBytes` is checked against its size before anything is read. */
export function readBytes(path: string, what: string, opts: { sizeProblem?: (bytes: number) => string | null } = {}): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${what} '${path}' does not exist`);
  }
  if (st.isDirectory()) throw new UserError(`${what} '${path}' is a directory, not a file`);
  // a device or pipe can be endless (/dev/zero): only regular files are read whole
  if (!st.isFile()) throw new UserError(`${what} '${path}' is not a regular file (it is a device, pipe or socket); give a file`);
  const problem = opts.sizeProblem?.(st.size);
  if (problem) throw new UserError(problem);
  try {
    const b = readFileSync(path);
    // a view of the Buffer, not a copy: a big text is held once
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new UserError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Library errors about a file's contents are the user's to fix: rethrow them as UserError. */
function asUserError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

export function readTextFile(path: string): string {
  const bytes = readBytes(path, 'text file');
  return asUserError(() => decodeText(bytes, `'${path}'`));
}

/**
 * Read a text file for a language model (readCorpus) and say on stderr when
 * its line ends were read as LF. The bytes are dropped once encoded.
 */
export function readCorpusFile(path: string, opts: Omit<CorpusOptions, 'name'>): Corpus {
  const corpus = asUserError(() => readCorpus(readBytes(path, 'text file'), { ...opts, name: `'${path}'` }));
  const note = opts.keepCr ? null : lineEndNote(`'${path}'`, corpus.lineEnds, ' (--keep-cr keeps them)');
  if (note) process.stderr.write(`recur: ${note}\n`);
  return corpus;
}

export function readCheckpoint(path: string): Checkpoint {
  const bytes = readBytes(path, 'checkpoint', { sizeProblem: (n) => checkpointSizeProblem(n, `'${path}'`) });
  return asUserError(() => decodeCheckpoint(bytes, `'${path}'`));
}

/** Write via a temporary file in the same directory and rename, so a crash never leaves a half-written file. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* nothing to clean */ }
    throw new UserError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
