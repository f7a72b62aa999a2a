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

/** A number or nested arrays of numbers: what `tensor()` takes and `toArray()` gives, one nesting level per dimension. */
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
  /** @internal Brand that `isTensor` checks, so two copies of the library still recognise each other's tensors. */
  readonly __isTensor = true;
  /** A number unique to this tensor in the process, shown in messages about a tensor without a name. */
  readonly id = nextId++;
  /** The size of each dimension, outermost first (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** The number of elements (the product of the shape). */
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

  /** @internal Low-level: prefer `tensor()`, `zeros()` and friends. Takes ownership of `ref`. */
  constructor(ref: StorageRef, shape: Shape) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    if (ref.handle.size < this.size) {
      throw new Error(`tensor: storage of ${ref.handle.size} floats is too small for shape ${formatShape(shape)}`);
    }
    this.ref = ref;
    track(this);
  }

  /** @internal Wrap freshly allocated storage of the current (or given) backend. */
  static fromStorage(handle: Storage, shape: Shape, backend: Backend = getBackend()): Tensor {
    return new Tensor(new StorageRef(backend, handle), shape);
  }

  /** The backend whose memory holds the data; ops need their inputs on one backend (see `toBackend`). */
  get backend(): Backend {
    return this.liveRef().backend;
  }
  /** @internal The backend's handle to the data, for kernels. */
  get storage(): Storage {
    return this.liveRef().handle;
  }
  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** The number of dimensions (PyTorch's name for `rank`). */
  get ndim(): number {
    return this.shape.length;
  }
  /** True once `dispose()` (or the end of a `tidy`) freed the data; using the tensor then throws. */
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

  /** A copy of the data that stays valid whatever happens to the tensor afterwards. */
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

  /** The values, shape and flags, abbreviated for large tensors (as printed by `console.log`). */
  toString(): string {
    return formatTensor(this);
  }

  // ---- arithmetic ----
  /** `this + b`, broadcasting; see {@link "recur-rnn"!add | add}. */
  add(b: Tensor | number): Tensor {
    return arith.add(this, b);
  }
  /** `this - b`, broadcasting; see {@link "recur-rnn"!sub | sub}. */
  sub(b: Tensor | number): Tensor {
    return arith.sub(this, b);
  }
  /** `this * b` elementwise, broadcasting; see {@link "recur-rnn"!mul | mul}. */
  mul(b: Tensor | number): Tensor {
    return arith.mul(this, b);
  }
  /** `this / b` elementwise, broadcasting; see {@link "recur-rnn"!div | div}. */
  div(b: Tensor | number): Tensor {
    return arith.div(this, b);
  }
  /** `-this`; see {@link "recur-rnn"!neg | neg}. */
  neg(): Tensor {
    return arith.neg(this);
  }
  /** Each element to the constant power `p`; see {@link "recur-rnn"!pow | pow}. */
  pow(p: number): Tensor {
    return arith.pow(this, p);
  }
  /** e to each element; see {@link "recur-rnn"!exp | exp}. */
  exp(): Tensor {
    return unary.exp(this);
  }
  /** Natural logarithm of each element; see {@link "recur-rnn"!log | log}. */
  log(): Tensor {
    return unary.log(this);
  }
  /** Square root of each element; see {@link "recur-rnn"!sqrt | sqrt}. */
  sqrt(): Tensor {
    return unary.sqrt(this);
  }
  /** Hyperbolic tangent of each element; see {@link "recur-rnn"!tanh | tanh}. */
  tanh(): Tensor {
    return unary.tanh(this);
  }
  /** Logistic sigmoid of each element; see {@link "recur-rnn"!sigmoid | sigmoid}. */
  sigmoid(): Tensor {
    return unary.sigmoid(this);
  }
  /** `max(x, 0)` for each element; see {@link "recur-rnn"!relu | relu}. */
  relu(): Tensor {
    return unary.relu(this);
  }
  /** Absolute value of each element; see {@link "recur-rnn"!abs | abs}. */
  abs(): Tensor {
    return unary.abs(this);
  }
  /** Matrix product, 2-D or batched 3-D; see {@link "recur-rnn"!matmul | matmul}. */
  matmul(b: Tensor): Tensor {
    return mm.matmul(this, b);
  }

  // ---- shape ----
  /** The same elements in another shape (one size may be -1, inferred); see {@link "recur-rnn"!reshape | reshape}. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return shp.reshape(this, flatArgs(shape));
  }
  /** PyTorch's name for `reshape` (tensors are always contiguous, so the two are the same). */
  view(...shape: number[] | [readonly number[]]): Tensor {
    return shp.reshape(this, flatArgs(shape));
  }
  /** The elements as one dimension. */
  flatten(): Tensor {
    return shp.reshape(this, [this.size]);
  }
  /** Two dimensions swapped (by default the last two); see {@link "recur-rnn"!transpose | transpose}. */
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return shp.transpose(this, dim0, dim1);
  }
  /** The last two dimensions swapped: a matrix's transpose. */
  get T(): Tensor {
    return shp.transpose(this, -2, -1);
  }
  /** The dimensions in a new order; see {@link "recur-rnn"!permute | permute}. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return shp.permute(this, flatArgs(dims));
  }
  /** `length` entries of dimension `dim` from `start`; see {@link "recur-rnn"!narrow | narrow}. */
  narrow(dim: number, start: number, length: number): Tensor {
    return shp.narrow(this, dim, start, length);
  }
  /** Python-style `start:end:step` along `dim`; see {@link "recur-rnn"!slice | slice}. */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor {
    return shp.slice(this, dim, start, end, step);
  }
  /** Pieces along `dim`, of one size or of the given sizes; see {@link "recur-rnn"!split | split}. */
  split(sizes: number | readonly number[], dim = 0): Tensor[] {
    return shp.split(this, sizes, dim);
  }
  /** `chunks` nearly equal pieces along `dim`; see {@link "recur-rnn"!chunk | chunk}. */
  chunk(chunks: number, dim = 0): Tensor[] {
    return shp.chunk(this, chunks, dim);
  }
  /** A new dimension of size 1 at `dim`; see {@link "recur-rnn"!unsqueeze | unsqueeze}. */
  unsqueeze(dim: number): Tensor {
    return shp.unsqueeze(this, dim);
  }
  /** Dimension `dim` (or every one) of size 1 removed; see {@link "recur-rnn"!squeeze | squeeze}. */
  squeeze(dim?: number): Tensor {
    return shp.squeeze(this, dim);
  }
  /** Size-1 dimensions repeated up to `shape`, as broadcasting would; see {@link "recur-rnn"!expand | expand}. */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return shp.expand(this, flatArgs(shape));
  }
  /** A copy with its own storage, still in the graph (gradients flow back); see {@link "recur-rnn"!clone | clone}. */
  clone(): Tensor {
    return shp.clone(this);
  }

  // ---- reductions ----
  /** The sum over `dim` (or everything); see {@link "recur-rnn"!sum | sum}. */
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.sum(this, dim, keepdim);
  }
  /** The mean over `dim` (or everything); see {@link "recur-rnn"!mean | mean}. */
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.mean(this, dim, keepdim);
  }
  /** The maximum over `dim` (or everything); see {@link "recur-rnn"!max | max}. */
  max(dim?: number | readonly number[], keepdim = false): Tensor {
    return red.max(this, dim, keepdim);
  }
  /** Index of the maximum along `dim` (or of the flattened tensor); see {@link "recur-rnn"!argmax | argmax}. */
  argmax(dim?: number, keepdim = false): Tensor {
    return red.argmax(this, dim, keepdim);
  }
  /** Softmax along `dim`; see {@link "recur-rnn"!softmax | softmax}. */
  softmax(dim = -1): Tensor {
    return sm.softmax(this, dim);
  }
  /** Log-softmax along `dim`, stable for large logits; see {@link "recur-rnn"!logSoftmax | logSoftmax}. */
  logSoftmax(dim = -1): Tensor {
    return sm.logSoftmax(this, dim);
  }

  // ---- indexing / selection ----
  /** The entries at `indices` along `dim`; see {@link "recur-rnn"!indexSelect | indexSelect}. */
  indexSelect(dim: number, indices: idx.Indices): Tensor {
    return idx.indexSelect(this, dim, indices);
  }
  /** `value` where `mask` is non-zero, this tensor elsewhere; see {@link "recur-rnn"!maskedFill | maskedFill}. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return sel.maskedFill(this, mask, value);
  }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/** Whether `x` is a Tensor, also one made by another copy of the library (where `instanceof` fails). */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { __isTensor?: boolean }).__isTensor === true;
}
