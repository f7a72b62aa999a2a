/** Creating tensors: from data, constants, ranges and random distributions. */
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { globalRng, type Rng } from '../random/rng.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Options every tensor constructor takes. */
export interface CreateOptions {
  /** Make the tensor a leaf that collects gradients in `grad` (default false). */
  requiresGrad?: boolean;
  /** The backend to allocate on (default: the current one, see `getBackend`). */
  backend?: Backend;
}

/** Options of the random constructors: also the generator to draw from. */
export interface RandomOptions extends CreateOptions {
  /** Draw from this generator instead of the global one (for streams that do not disturb each other). */
  rng?: Rng;
}

function make(values: ArrayLike<number> | null, shape: Shape, opts: CreateOptions): Tensor {
  const backend = opts.backend ?? getBackend();
  const size = sizeOf(shape);
  const handle = values ? backend.fromValues(values) : backend.alloc(size);
  const t = Tensor.fromStorage(handle, shape, backend);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== 'number') throw new Error('tensor: nested arrays are ragged (sub-arrays of different lengths)');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: nested arrays are ragged: expected ${shape[dim]} items at depth ${dim}`);
  }
  for (const v of data) flattenNested(v, shape, dim + 1, out);
}

/**
 * A tensor from a number, nested arrays, or a flat array / typed array with a shape.
 * `tensor([[1, 2], [3, 4]])`, `tensor(new Float32Array(6), [2, 3])`, `tensor(5)`.
 */
export function tensor(data: NestedArray | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data as NestedArray);
    if (shape && inferred.length > 1) {
      // nested data with an explicit shape: the shape must hold the same number of values
      const out: number[] = [];
      flattenNested(data as NestedArray, inferred, 0, out);
      flat = out;
    } else if (inferred.length <= 1) {
      for (const v of data as unknown[]) {
        if (typeof v !== 'number') throw new Error('tensor: data must be numbers or nested arrays of numbers');
      }
      flat = data as number[];
    } else {
      const out: number[] = [];
      flattenNested(data as NestedArray, inferred, 0, out);
      flat = out;
    }
  } else {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
  }
  const finalShape = shape ? [...shape] : inferred;
  checkShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fit shape ${formatShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  return make(flat, finalShape, opts);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  checkShape('zeros', shape);
  return make(null, shape, opts);
}

/** A tensor with every element `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const t = make(null, shape, opts);
  if (value !== 0) t.backend.fill(t.storage, value);
  return t;
}

/** A tensor of ones. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Zeros of `t`'s shape on `t`'s backend (unless `opts` says otherwise). */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return zeros(t.shape, { backend: t.backend, ...opts });
}

/** Ones of `t`'s shape on `t`'s backend (unless `opts` says otherwise). */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { backend: t.backend, ...opts });
}

/** Values from `start` up to (not including) `end` by `step`; `arange(n)` is 0..n-1. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return make(values, [n], opts);
}

function randomFill(op: string, shape: Shape, opts: RandomOptions, draw: (rng: Rng) => number): Tensor {
  checkShape(op, shape);
  const rng = opts.rng ?? globalRng;
  const values = new Float64Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw(rng);
  return make(values, shape, opts);
}

/** Standard normal samples (mean and std adjustable). */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = opts;
  return randomFill('randn', shape, opts, (r) => r.normal(mean, std));
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  return randomFill('rand', shape, opts, (r) => r.random());
}

/** Uniform samples in [low, high). */
export function uniform(shape: Shape, low: number, high: number, opts: RandomOptions = {}): Tensor {
  if (!(high >= low)) throw new Error(`uniform: high (${high}) must be >= low (${low})`);
  return randomFill('uniform', shape, opts, (r) => r.uniform(low, high));
}

/** A copy of `t` on another backend (or the same tensor if it is already there). */
export function toBackend(t: Tensor, backend: Backend): Tensor {
  if (t.backend === backend) return t;
  return make(t.data, t.shape, { backend, requiresGrad: t.requiresGrad && t.isLeaf });
}
