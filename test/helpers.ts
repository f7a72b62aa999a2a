/** Shared test helpers (not a test file itself). */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, defaultTrainOptions, tensor, type Tensor, type TrainOptions } from '../src/index.js';

/** Random values in [lo, hi) from a seeded generator, as a tensor requiring grad. */
export function rnd(rng: Rng, shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, () => rng.uniform(lo, hi)),
    shape,
    { requiresGrad },
  );
}

/** Random values bounded away from zero (for log, sqrt, div, relu, abs kinks). */
export function rndAway(rng: Rng, shape: number[], min = 0.2, max = 2, positive = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => {
    const m = rng.uniform(min, max);
    return positive || rng.random() < 0.5 ? m : -m;
  });
  return tensor(v, shape, { requiresGrad: true });
}

export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-6, rtol = 1e-5, what = 'value'): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(err <= atol + rtol * Math.abs(want[i]), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

export function flat(x: unknown): number[] {
  return Array.isArray(x) ? ((x as unknown[]).flat(Infinity as 1) as number[]) : [x as number];
}

/**
 * How far `got` is from a reference. `rel`: the largest |got - want| / |want|
 * over values with |want| >= 0.01 (below that a float32 rounding of 1e-7 is
 * already a large "relative" error); `norm`: max |got - want| / max |want|
 * (the error relative to the tensor's scale); `abs`: the largest |got - want|.
 */
export function relErrors(got: ArrayLike<number>, want: ArrayLike<number>): { rel: number; norm: number; abs: number } {
  let rel = 0,
    abs = 0,
    scale = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    abs = Math.max(abs, e);
    scale = Math.max(scale, Math.abs(want[i]));
    if (Math.abs(want[i]) >= 0.01) rel = Math.max(rel, e / Math.abs(want[i]));
  }
  return { rel, norm: scale > 0 ? abs / scale : abs, abs };
}

/** Tracks the largest errors over a test file, for its closing diagnostic. */
export class ErrorLog {
  rel = 0;
  norm = 0;
  abs = 0;
  where = '';
  add(got: ArrayLike<number>, want: ArrayLike<number>, where: string): void {
    const e = relErrors(got, want);
    if (e.rel > this.rel) [this.rel, this.where] = [e.rel, where];
    this.norm = Math.max(this.norm, e.norm);
    this.abs = Math.max(this.abs, e.abs);
  }
  toString(): string {
    return (
      `largest relative error ${this.rel.toExponential(2)} (values >= 0.01; at ${this.where}), ` +
      `largest max-norm relative error ${this.norm.toExponential(2)}, largest absolute error ${this.abs.toExponential(2)}`
    );
  }
}

/** Relative error <= 1e-4 (with a 1e-5 floor for values near zero), as the PyTorch golden tests check. */
export function assertRelClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(err <= rtol * Math.abs(want[i]) + atol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

/** A safetensors file from a header object (or raw header text) and a data section, laid out by hand, independent of writeSafetensors. */
export function buildSafetensors(header: object | string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** Training options for the small trainLM tests: tiny batches, a fixed rate, no schedule, no periodic evaluation or samples; `o` overrides. */
export function smallTrainOptions(o: Partial<TrainOptions>): TrainOptions {
  return {
    ...defaultTrainOptions,
    batch: 4,
    seq: 16,
    lr: 0.01,
    schedule: 'exponential',
    lrDecay: 1,
    warmup: 0,
    evalEvery: 0,
    sampleEvery: 0,
    sampleLength: 20,
    ...o,
  };
}

/**
 * A `recur` command runner for a describe block: a temp directory made before
 * its tests (holding small.txt, the first 20,000 characters of the bundled
 * Shakespeare) and removed after, and `run(...args)` spawning bin/recur.js there.
 */
export function cliSandbox(prefix: string): { run: (...args: string[]) => SpawnSyncReturns<string>; dir: () => string } {
  const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
  const shakespeare = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(join(dir, 'small.txt'), readFileSync(shakespeare, 'utf8').slice(0, 20000));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return { run: (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir }), dir: () => dir };
}
