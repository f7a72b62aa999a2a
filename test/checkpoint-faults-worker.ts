/**
 * The reading side of checkpoint-faults.test.ts, in a worker thread so that
 * the test can stop it if a damaged file ever makes a reader hang (a
 * synchronous loop cannot be interrupted on the thread it runs on). Each file
 * goes through decodeCheckpoint and the sampler; what either read is reduced
 * to a fingerprint to compare with the undamaged file's. The index of the
 * file being read is kept in shared memory for the test's watchdog.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeCheckpoint, sampleText, type Tensor } from '../src/index.js';
import { Sampler } from '../src/sampler/index.js';
import { crc32Hex } from '../src/io/crc32.js';

export interface FaultJob {
  files: Uint8Array[];
  /** Int32Array[0]: 1 + the index of the file being read. */
  progress: SharedArrayBuffer;
  name: string;
}

/** What one reader made of a file: its one-sentence error, or a fingerprint of everything it read. */
export type Reading = { error: string } | { fingerprint: string };
export interface FaultOutcome {
  decode: Reading;
  sampler: Reading;
  ms: number;
}

const SAMPLE = { seed: 7, length: 40 };

const valuesSum = (t: Tensor): string => crc32Hex(new Uint8Array(Float32Array.from(t.data).buffer));

function viaDecode(bytes: Uint8Array, name: string): string {
  const ck = decodeCheckpoint(bytes, name);
  const tensors: Record<string, Tensor> = { ...ck.model.stateDict() };
  for (const [k, t] of Object.entries(ck.optimizer?.state ?? {})) tensors[`optim.${k}`] = t;
  if (ck.state) Object.assign(tensors, { 'state.h': ck.state.h }, ck.state.c ? { 'state.c': ck.state.c } : {});
  return JSON.stringify({
    // what `recur info` prints comes from these, as does everything a resumed run uses
    meta: ck.meta,
    kind: ck.vocab.kind,
    tokens: ck.vocab.tokens,
    parameters: ck.model.numParameters(),
    optimizer: ck.optimizer && { type: ck.optimizer.type, step: ck.optimizer.step, options: ck.optimizer.options },
    tensors: Object.entries(tensors).map(([k, t]) => `${k} [${t.shape}] ${valuesSum(t)}`),
    sample: sampleText(ck.model, ck.vocab, SAMPLE),
  });
}

function viaSampler(bytes: Uint8Array, name: string): string {
  const s = new Sampler(bytes, name);
  return JSON.stringify({ meta: s.meta, config: s.config, chars: s.chars, sample: s.sample(SAMPLE) });
}

function read(fn: () => string): Reading {
  try {
    return { fingerprint: fn() };
  } catch (e) {
    // anything thrown that is not an Error is reported as such, and fails the test's sentence checks
    return { error: e instanceof Error ? e.message : `a non-Error was thrown: ${String(e)}` };
  }
}

const { files, progress, name } = workerData as FaultJob;
const at = new Int32Array(progress);
const outcomes: FaultOutcome[] = files.map((bytes, i) => {
  Atomics.store(at, 0, i + 1);
  const t0 = performance.now();
  const decode = read(() => viaDecode(bytes, name));
  const sampler = read(() => viaSampler(bytes, name));
  return { decode, sampler, ms: performance.now() - t0 };
});
parentPort!.postMessage(outcomes);
