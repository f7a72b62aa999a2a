/**
 * Tensor: a shape, a handle to storage owned by a backend, and (when it was
 * computed from tensors that require gradients) the autograd node that made it.
 * Always contiguous, row-major float32. Methods are thin wrappers over the ops
 * in src/ops, which hold each op's forward and backward side by side.
 */
import type { Backend, Storage } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { GradNode } from '../autograd/graph.js';
import { backward as runBackward } from '../autograd/backward.js';
import { formatShape, sizeOf, type Shape } from './shape.js';
import { keep, track } from './scope.js';
import { formatTensor } from './print.js';
import * as arith from '../ops/arith.js';
import * as unary from '../ops/unary.js';
import * as mm from '../ops/matmul.js';
import * as shp from '../ops/shape.js';
import * as red from '../ops/reduce.js';
import * as sm from '../ops/softmax.js';
import * as idx from '../ops/indexing.js';
import * as sel from '../ops/where.js';

export type NestedArray = number | NestedArray[];

/** Storage shared by tensors that view the same data (reshape, detach); freed when the last one is disposed. */
export class StorageRef {
  refs = 1;
  constructor(
    readonly backend: Backend,
    readonly handle: Storage,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.backend.free(this.handle);
  }
}

let nextId = 1;

/**
 * An n-dimensional float32 array on a backend, with an optional autograd
 * node. Tensors are contiguous and row-major; ops broadcast like NumPy.
 * Storage is reference-counted (wasm memory must be freed explicitly): free
 * temporaries with `tidy`, keep long-lived ones (parameters, state) with
 * `keep()`, and release them with `dispose()`.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
 * const loss = w.matmul(tensor([[1], [1]])).sum();
 * loss.backward();
 * w.grad!.toArray(); // [[1, 1], [1, 1]]
 * ```
 */
export class Tensor {
  readonly __isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** True when gradients should flow to (or through) this tensor. */
  requiresGrad = false;
  /** Accumulated gradient, for leaves that require grad (parameters). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, if it is part of an autograd graph. */
  node: GradNode | null = null;
  /** Set by Module.param: a trainable parameter. */
  isParameter = false;
  /** Optional label, used in error messages and printing. */
  name?: string;
  private ref: StorageRef | null;

  /** Low-level: prefer `tensor()`, `zeros()` and friends. Takes ownership of `ref`. */
  constructor(ref: StorageRef, shape: Shape) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    if (ref.handle.size < this.size) {
      throw new Error(`tensor: storage of ${ref.handle.size} floats is too small for shape ${formatShape(shape)}`);
    }
    this.ref = ref;
    track(this);
  }

  /** Wrap freshly allocated storage of the current (or given) backend. */
  static fromStorage(handle: Storage, shape: Shape, backend: Backend = getBackend()): Tensor {
    return new Tensor(new StorageRef(backend, handle), shape);
  }

  get backend(): Backend {
    return this.liveRef().backend;
  }
  get storage(): Storage {
    return this.liveRef().handle;
  }
  get rank(): number {
    return this.shape.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get isDisposed(): boolean {
    return this.ref === null;
  }
  /** True for tensors not produced by an op (parameters, inputs). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  private liveRef(): StorageRef {
    if (!this.ref) {
      throw new Error(`tensor ${this.name ?? '#' + this.id} ${formatShape(this.shape)} was disposed and can no longer be used`);
    }
    return this.ref;
  }

  /** True when another tensor views the same storage. */
  get storageShared(): boolean {
    return this.liveRef().refs > 1;
  }

  /** @internal A new tensor sharing this one's storage (for reshape / detach). */
  shareStorage(shape: Shape): Tensor {
    return new Tensor(this.liveRef().retain(), shape);
  }

  /**
   * A view of the data as a typed array (no copy on the reference backend).
   * Valid until the next op on a backend whose memory can move; use
   * `toFloat32Array()` to keep a copy. (Typed as Float32Array; on the
   * float64 backend that gradcheck uses it is really a Float64Array.)
   */
  get data(): Float32Array {
    const r = this.liveRef();
    const a = r.backend.read(r.handle);
    return (a.length === this.size ? a : a.subarray(0, this.size)) as Float32Array;
  }

  toFloat32Array(): Float32Array {
    return Float32Array.from(this.data);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements (shape ${formatShape(this.shape)}); item() needs exactly one`);
    return this.data[0];
  }

  /** Nested JavaScript arrays (a number for a rank-0 tensor). */
  toArray(): NestedArray {
    const d = this.data;
    const shape = this.shape;
    if (shape.length === 0) return d[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = shape[dim];
      const out: NestedArray[] = new Array(n);
      if (dim === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = d[offset + i];
      } else {
        const step = sizeOf(shape.slice(dim + 1));
        for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * step);
      }
      return out;
    };
    return build(0, 0);
  }

  /** Free the storage now (it is shared with views, and freed when the last one goes). Idempotent. */
  dispose(): void {
    if (!this.ref) return;
    this.ref.release();
    this.ref = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Keep this tensor out of enclosing `tidy` scopes. */
  keep(): this {
    return keep(this);
  }

  /** Mark as requiring gradients (a leaf we differentiate with respect to). */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) throw new Error('requiresGrad_: only leaf tensors can stop requiring grad; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /** A tensor sharing this data but cut from the graph: gradients stop here. */
  detach(): Tensor {
    return this.shareStorage(this.shape);
  }

  /** Reverse-mode autodiff from this tensor (a scalar, or pass the gradient of the output). */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, options);
  }

  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  toString(): string {
    return formatTensor(this);
  }

  // ---- arithmetic ----
  add(b: Tensor | number): Tensor {
    return arith.add(this, b);
  }
  sub(b: Tensor | number): Tensor {
    return arith.sub(this, b);
  }
  mul(b: Tensor | number): Tensor {
    return arith.mul(this, b);
  }
  div(b: Tensor | number): Tensor {
    return arith.div(this, b);
  }
  neg(): Tensor {
    return arith.neg(this);
  }
  pow(p: number): Tensor {
    return arith.pow(this, p);
  }
  exp(): Tensor {
    return unary.exp(this);
  }
  log(): Tensor {
    return unary.log(this);
  }
  sqrt(): Tensor {
    return unary.sqrt(this);
  }
  tanh(): Tensor {
    return unary.tanh(this);
  }
  sigmoid(): Tensor {
    return unary.sigmoid(this);
  }
  relu(): Tensor {
    return unary.relu(this);
  }
  abs(): Tensor {
    return unary.abs(this);
  }
  matmul(b: Tensor): Tensor {
    return mm.matmul(this, b);
  }

  // ---- shape ----
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return shp.reshape(this, flatArgs(shape));
  }
  view(...shape: number[] | [readonly number[]]): Tensor {
    return shp.reshape(this, flatArgs(shape));
  }
  flatten(): Tensor {
    return shp.reshape(this, [this.size]);
  }
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return shp.transpose(this, dim0, dim1);
  }
  get T(): Tensor {
    return shp.transpose(this, -2, -1);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return shp.permute(this, flatArgs(dims));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return shp.narrow(this, dim, start, length);
  }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor {
    return shp.slice(this, dim, start, end, step);
  }
  split(sizes: number | readonly number[], dim = 0): Tensor[] {
    return shp.split(this, sizes, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return shp.chunk(this, chunks, dim);
  }
  unsqueeze(dim: number): Tensor {
    return shp.unsqueeze(this, dim);
  }
  squeeze(dim?: number): Tensor {
    return shp.squeeze(this, dim);
  }
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return shp.expand(this, flatArgs(shape));
  }
  clone(): Tensor {
    return shp.clone(this);
  }

  // ---- reductions ----
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.sum(this, dim, keepdim);
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.mean(this, dim, keepdim);
  }
  max(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.max(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return red.argmax(this, dim, keepdim);
  }
  softmax(dim = -1): Tensor {
    return sm.softmax(this, dim);
  }
  logSoftmax(dim = -1): Tensor {
    return sm.logSoftmax(this, dim);
  }

  // ---- indexing / selection ----
  indexSelect(dim: number, indices: idx.Indices): Tensor {
    return idx.indexSelect(this, dim, indices);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return sel.maskedFill(this, mask, value);
  }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { __isTensor?: boolean }).__isTensor === true;
}
