/** Shared test helpers (not a test file itself). */
import assert from 'node:assert/strict';
import { Rng, tensor, type Tensor } from '../src/index.js';

/** Random values in [lo, hi) from a seeded generator, as a tensor requiring grad. */
export function rnd(rng: Rng, shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => rng.uniform(lo, hi)), shape, { requiresGrad });
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
  return Array.isArray(x) ? (x as unknown[]).flat(Infinity as 1) as number[] : [x as number];
}
