/**
 * The one module that owns randomness. Every random number in recur (weight
 * init, dropout masks, shuffling, sampling) comes from an `Rng`; the global
 * one is reseeded with `manualSeed`, so a seed makes a run reproducible.
 *
 * xoshiro128** seeded through splitmix32: fast, 128 bits of state that fit
 * in a checkpoint, and identical in every JavaScript engine.
 */

/** An `Rng`'s 128 bits of state as four unsigned 32-bit words. */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seedable random number generator (xoshiro128**): the same seed gives the
 * same numbers in every engine, and its state can be saved and restored.
 * Pass one as `rng` to layers, initialisers and samplers to give them their
 * own stream; without one they draw from `globalRng`.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * const w = randn([3, 3], { rng });
 * const order = rng.shuffle([0, 1, 2, 3]);
 * ```
 */
export class Rng {
  private s = new Uint32Array(4);
  /** Second normal deviate from the last Box–Muller pair. */
  private spare: number | null = null;

  /** A generator started from `seed` (any finite number; fractions are floored). */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Restart from `seed`, as if newly made with it. */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new Error(`rng: seed must be a finite number, got ${seed}`);
    const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 0x100000000));
    for (let i = 0; i < 4; i++) this.s[i] = sm();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
  }

  /** A uniformly random 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Standard normal deviate (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.random() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /**
   * The full state, for checkpoints: `s` is the generator's words, `spare` the
   * second normal deviate of the last pair (or null), so a restored generator
   * continues exactly where this one is.
   */
  getState(): {
    /** The generator's four words. */
    s: RngState;
    /** The pending second normal deviate, or null. */
    spare: number | null;
  } {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  /** Continue from a state that `getState()` returned. */
  setState(state: { s: RngState; spare: number | null }): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4) throw new Error('rng: invalid state: expected four 32-bit words');
    this.s.set(state.s);
    this.spare = state.spare ?? null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The global generator used when no `rng` is passed. */
// A fixed default seed, as in PyTorch: runs are reproducible unless asked otherwise.
export const globalRng = new Rng(0x5eed);

/** Reseed the global generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalRng.seed(seed);
}
