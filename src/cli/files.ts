/** Node file I/O for the CLI: friendly errors, and atomic writes (temp file + rename). */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { decodeText, lineEndNote } from '../data/text.js';
import { readCorpus, type Corpus, type CorpusOptions } from '../data/corpus.js';
import { decodeCheckpoint, type Checkpoint } from '../models/checkpoint.js';
import { checkpointSizeProblem } from '../models/checkpoint-meta.js';
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
    throw new UserError(describeFsError(e, path, `read ${what}`).replace(/no permission to write in directory '[^']*'/, 'no permission to read it'));
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

/** A file-system error in words: what went wrong with which path, never a bare errno code. */
export function describeFsError(e: unknown, path: string, doing: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = dirname(path);
  switch (code) {
    case 'ENOENT':
      return `cannot ${doing} '${path}': directory '${dir}' does not exist`;
    case 'ENOTDIR':
      return `cannot ${doing} '${path}': a part of '${dir}' is a file, not a directory`;
    case 'EISDIR':
      return `cannot ${doing} '${path}': it is a directory`;
    case 'EACCES':
    case 'EPERM':
      return `cannot ${doing} '${path}': no permission to write in directory '${dir}'`;
    case 'EROFS':
      return `cannot ${doing} '${path}': the file system is read-only`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `cannot ${doing} '${path}': the disk is full (the file as it was before, if any, is unchanged)`;
    case 'ENAMETOOLONG':
      return `cannot ${doing} '${path}': the name is too long`;
    default:
      return `cannot ${doing} '${path}': ${(e as Error).message}`;
  }
}

/** Where the temporary file for `target` goes: beside it, named after it and this process. */
const tempFor = (target: string, pid = process.pid): string => join(dirname(target), `.${basename(target)}.${pid}.tmp`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files of `target` left by a process that was killed mid-write (kill -9, power loss). */
function removeStaleTemps(target: string): void {
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const n of names) {
    const m = n.startsWith(prefix) && /^(\d+)\.tmp$/.exec(n.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      try {
        unlinkSync(join(dirname(target), n));
      } catch {
        /* another run got there first */
      }
    }
  }
}

/**
 * Check an output path before any work, so a long run never ends in an
 * unwritable path: returns the file to write (a symlink's target, so the link
 * stays a link). Refuses directories, devices, pipes and sockets, and any of
 * the command's `inputs` (the training text, a CSV, a state dict): writing
 * there would destroy what the user gave (a checkpoint being resumed is not
 * listed: `--resume m.st --out m.st` is how training continues). The directory must exist
 * and take a new file: a temporary file is created there and removed.
 */
export function prepareOutput(path: string, option: string, inputs: { path: string; what: string }[] = []): string {
  let target = path;
  let st = lstatOrNull(path);
  if (st?.isSymbolicLink()) {
    try {
      target = realpathSync(path);
    } catch {
      // a dangling link: write where it points
      target = resolve(dirname(path), readlinkSync(path));
    }
    st = lstatOrNull(target);
  }
  if (st) {
    if (st.isDirectory()) throw new UserError(`${option} '${path}' is a directory; give a file name`, 2);
    if (!st.isFile()) throw new UserError(`${option} '${path}' is not a regular file (it is a device, pipe or socket); give a file name`, 2);
    for (const input of inputs) {
      const other = statOrNull(input.path);
      if (other && other.dev === st.dev && other.ino === st.ino) {
        throw new UserError(`${option} '${path}' is the ${input.what} '${input.path}'; writing there would destroy it, so give another file name`, 2);
      }
    }
  } else {
    const dir = statOrNull(dirname(target));
    if (!dir) throw new UserError(`cannot write ${option} '${path}': directory '${dirname(target)}' does not exist`);
    if (!dir.isDirectory()) throw new UserError(`cannot write ${option} '${path}': '${dirname(target)}' is a file, not a directory`);
  }
  removeStaleTemps(target);
  const probe = tempFor(target);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new UserError(describeFsError(e, target, `write ${option}`));
  }
  return target;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/**
 * Write via a temporary file beside the target, flushed to disk, then
 * renamed over it: a crash, a kill or a full disk leaves either the old file
 * or the new one, never a mix. A symlink is written through to its target.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) target = realpathSync(path);
  } catch {
    /* does not exist yet, or a dangling link: prepareOutput resolved it already for outputs it checked */
  }
  const tmp = tempFor(target);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw new UserError(describeFsError(e, path, 'write'));
  }
}
