/**
 * The one interface every kernel goes through. Ops never touch raw arrays:
 * they ask the current backend to allocate storage and to run kernels on it.
 *
 * Storage belongs to the backend. The reference backend keeps a Float32Array;
 * a WebAssembly backend keeps an offset into its linear memory, which the
 * garbage collector cannot see, so every storage must be released with
 * `free` (tensors do this on `dispose()` and at the end of a `tidy` scope).
 *
 * Kernels take sizes and strides explicitly (tensors are contiguous, but
 * broadcasting and views are expressed with strides) and write into an
 * output the caller allocated, so a backend never has to guess a layout.
 */

export type FloatArray = Float32Array | Float64Array;

/** An opaque handle to a block of floats owned by a backend. */
export interface Storage {
  readonly size: number;
}

/**
 * A storage whose floats this thread can see as a typed array. The js
 * backend's kernels read and write storages only through this interface, so
 * they run on any storage that implements it: the js backend's own, and the
 * wasm backend's (a Float32Array view of its memory) for its `JS_FALLBACKS`.
 */
export interface HostView extends Storage {
  /** The floats; for a wasm storage, valid until the memory next grows. */
  readonly data: FloatArray;
  readonly freed: boolean;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'relu' | 'abs' | 'square';

/**
 * Derivatives of unary ops, `gx = gy * f'(x)`. Each names which value the
 * derivative is computed from: tanh/sigmoid/exp/sqrt from the output y,
 * log/relu/abs/square from the input x (the kernel receives both).
 */
export type UnaryGradOp = 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'relu' | 'abs' | 'square';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'eq' | 'gt' | 'lt';

export type ReduceOp = 'sum' | 'max';

export interface MatmulArgs {
  /** Number of independent products (1 for a plain 2-D matmul). */
  batch: number;
  /** C is m x n; A is m x k (k x m if transA); B is k x n (n x k if transB). */
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Element strides between consecutive batch items (0 broadcasts one matrix over the batch). */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Add into C instead of overwriting it. */
  accumulate: boolean;
  /** Element offsets of the first matrix of A, B and C in their storages (default 0). */
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
}

export interface SgdArgs {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** First step with momentum: the buffer is initialised to the gradient (as PyTorch does). */
  firstStep: boolean;
}

export interface AdagradArgs {
  /** Learning rate after lr-decay for this step. */
  lr: number;
  eps: number;
  weightDecay: number;
}

export interface RmspropArgs {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

export interface AdamArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding wd * p to the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * Adam's bias correction at args.step, for every backend's adamStep: the step
 * size lr / (1 - beta1^t) and sqrt(1 - beta2^t), which divides sqrt(v).
 */
export function adamBiasCorrection(a: AdamArgs): { stepSize: number; sqrtBc2: number } {
  return { stepSize: a.lr / (1 - Math.pow(a.beta1, a.step)), sqrtBc2: Math.sqrt(1 - Math.pow(a.beta2, a.step)) };
}

/** A position inside a storage: kernels that walk big per-sequence buffers take views. */
export interface View {
  s: Storage;
  off: number;
}

/** Cell kinds with fused step kernels. */
export type RecurrentKind = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu' | 'rnn_sigmoid';

/**
 * An LSTM's peephole weights, [H] each (TensorFlow's use_peepholes): the
 * previous cell state feeds gates i and f, the new one gate o, each scaled
 * per unit.
 */
export interface PeepholeStorages {
  i: Storage;
  f: Storage;
  o: Storage;
}

/**
 * One time step of a recurrent layer for the whole batch, after the GEMMs:
 * gx = W_ih x_t + b_ih and gh = W_hh h + b_hh (each [B, G*H], gates in PyTorch order).
 * Rows whose `valid` flag is 0 (past the end of their sequence) copy the previous state.
 */
export interface RecurrentStepArgs {
  B: number;
  H: number;
  gx: View;
  /** null when the recurrent GEMM already added W_hh h + b_hh into gx (LSTM and RNN can do that). */
  gh: View | null;
  hPrev: View;
  cPrev: View | null;
  hOut: View;
  cOut: View | null;
  /** Saved for the backward: LSTM [B,4H] = σi, σf, tanh g, σo; GRU [B,4H] = r, z, n, gh_n; unused for RNN. */
  act: View;
  valid: Uint8Array | null;
  /**
   * LSTM only: i += w_i ⊙ c_{t-1}, f += w_f ⊙ c_{t-1} and o += w_o ⊙ c_t before
   * their sigmoids (absent or null: none).
   */
  peepholes?: PeepholeStorages | null;
  /**
   * LSTM only: a constant added to the forget gate's pre-activation, f = σ(... + offset)
   * (TensorFlow's forget_bias; absent: 0). A constant has no gradient, so the backward does not take it.
   */
  forgetGateOffset?: number;
}

export interface RecurrentStepGradArgs {
  B: number;
  H: number;
  act: View;
  hPrev: View;
  hOut: View;
  cPrev: View | null;
  cOut: View | null;
  /** Total gradient reaching h_t (and c_t for LSTM). */
  dh: View;
  dc: View | null;
  /** Gradients of the pre-activations on the input side [B, G*H] and the recurrent side (differ only for GRU's n gate; may be the same view for LSTM/RNN). */
  dGx: View;
  dGh: View;
  /** The part of dL/dh_{t-1} that does not go through W_hh (overwritten); GEMM adds the rest. */
  dhPrev: View;
  dcPrev: View | null;
  valid: Uint8Array | null;
  /** LSTM only: the forward's peephole weights (absent or null: none). */
  peepholes?: PeepholeStorages | null;
  /** With peepholes: dL/d w_i, w_f, w_o, added to (so a layer sums them over its steps and rows); null: not wanted. */
  dPeepholes?: PeepholeStorages | null;
}

/**
 * A recurrent layer's whole time loop (one direction), after the input
 * GEMM: every step's recurrent GEMM and fused step (RecurrentStepArgs), in
 * processing order k = 0..T-1 (the caller reverses time for a backward
 * direction). A row's recurrence never reads another row, so a backend may
 * run the rows of the batch in parallel for all T steps.
 */
export interface RecurrentSequenceArgs {
  T: number;
  B: number;
  H: number;
  /** [T, B, G*H]: W_ih x_k + b_ih, and b_hh too for kinds that fold W_hh h into gx (all but GRU); gets W_hh h added. */
  gx: Storage;
  /** W_hh [G*H, H], PyTorch's layout. */
  whh: Storage;
  /** b_hh [G*H] for a kind that keeps W_hh h + b_hh apart (GRU), or null (none, or already in gx). */
  biasHh: Storage | null;
  /** [T + 1, B, H]: h_0 at step 0 (given); h after step k written at k + 1. */
  hs: Storage;
  /** [T + 1, B, H], the same for c (LSTM), or null. */
  cs: Storage | null;
  /** Written: [T, B, actBlocks * H], what each step saves for its backward. */
  act: Storage;
  /** A byte per (step, row), [T * B], 0 where the row has ended (its state is copied), or null when all are valid. */
  valid: Uint8Array | null;
  /** LSTM only (absent or null: none). */
  peepholes?: PeepholeStorages | null;
  /** LSTM only (absent: 0). */
  forgetGateOffset?: number;
}

/**
 * The backward of `recurrentSequence`, from the gradient of the layer's
 * packed output [B, T + S, H] (y at each time, then the final h, then the
 * final c: see ops/recurrent.ts).
 */
export interface RecurrentSequenceGradArgs {
  T: number;
  B: number;
  H: number;
  /** W_hh [G*H, H]. */
  whh: Storage;
  /** The forward's hs, cs, act and valid. */
  hs: Storage;
  cs: Storage | null;
  act: Storage;
  valid: Uint8Array | null;
  /** dL/d packed output [B, T + S, H]. */
  gP: Storage;
  /** The layer runs backward in time: processing step k is time T - 1 - k of the output. */
  reverse: boolean;
  /** Written: [T, B, G*H] gradients of the input-side pre-activations. */
  dGx: Storage;
  /** Written: the same for the recurrent side; the same storage as dGx for kinds whose two sides agree (all but GRU). */
  dGh: Storage;
  /** Written: dL/dh_0 [B, H]. */
  dh0: Storage;
  /** Written: dL/dc_0 [B, H] (LSTM), or null. */
  dc0: Storage | null;
  /** LSTM only: the forward's peepholes, and their gradients (added to). */
  peepholes?: PeepholeStorages | null;
  dPeepholes?: PeepholeStorages | null;
}

/** Cell kinds whose recurrence is an elementwise linear scan h_t = a_t ⊙ h_{t-1} + b_t (their gates read only x_t). */
export type ScanKind = 'mingru' | 'minlstm';

/**
 * A scan layer's forward over a whole sequence, after the input GEMM:
 * gx [B, T, G*H] holds W_ih x_t + b_ih for every step (batch-major, gate
 * blocks in PyTorch order: minGRU z, h~; minLSTM f, i, h~). Each row b runs
 * over its valid steps only, t < lengths[b] (forward from t = 0, or with
 * `reverse` from its last valid step down to 0), starting from h0[b].
 *
 *   minGRU:  z = σ(gx_z);  h_t = h_{t-1} + z ⊙ (h~_t - h_{t-1})
 *   minLSTM: f' = f / (f + i) computed as σ(logσ(gx_f) - logσ(gx_i)) so saturated gates do not divide 0 by 0;
 *            h_t = f' ⊙ h_{t-1} + (1 - f') ⊙ h~_t
 */
export interface ScanArgs {
  B: number;
  T: number;
  H: number;
  /** [B, T, G*H] input projections. */
  gx: View;
  /** [B, H] initial state. */
  h0: View;
  /** [B, T, H]: h_t at valid steps, 0 past each row's end (written by scan, read by scanGrad). */
  out: View;
  /** [B, H]: the state after each row's last processed step. */
  hT: View;
  /** Valid length of each row (1..T), or null when all are T. */
  lengths: Int32Array | null;
  reverse: boolean;
}

/** The backward of `scan` (the forward's arguments but hT): gates are recomputed from gx, h_{t-1} read from `out` (or h0). */
export interface ScanGradArgs extends Omit<ScanArgs, 'hT'> {
  /** dL/d out [B, T, H] (entries past a row's end are ignored). */
  dOut: View;
  /** dL/d hT [B, H]. */
  dhT: View;
  /** Written: dL/d gx [B, T, G*H] (0 past each row's end). */
  dGx: View;
  /** Written: dL/d h0 [B, H]. */
  dh0: View;
}

/**
 * RMSNorm over `rows` rows of `d` (d >= 1), each row on its own:
 * r = 1 / sqrt(mean(x²) + eps), y = x r ⊙ weight. The block language model
 * runs it twice per block: one kernel reads each row while it is in cache,
 * where the composed form ran six over the whole input.
 */
export interface RmsNormArgs {
  rows: number;
  d: number;
  /** [rows, d] input. */
  x: Storage;
  /** [d] scale, or null for none (a scale of ones). */
  weight: Storage | null;
  /** Written: [rows, d] output (may not alias x). */
  y: Storage;
  /** Written: [rows] 1/RMS of each row, which the backward reads instead of recomputing. */
  r: Storage;
  eps: number;
}

/**
 * The backward of `rmsNorm`, from the forward's x, weight and r. With
 * g = gy ⊙ weight: gx = r g - x r³ Σ_j(g_j x_j) / d per row, and
 * gw = Σ_rows gy ⊙ x r (overwritten, not added to). Either output may be null
 * when not needed.
 */
export interface RmsNormGradArgs extends Omit<RmsNormArgs, 'y' | 'eps'> {
  /** dL/dy [rows, d]. */
  gy: Storage;
  /** Written: dL/dx [rows, d], or null. */
  gx: Storage | null;
  /** Written: dL/dweight [d] summed over the rows, or null (always null without a weight). */
  gw: Storage | null;
}

/**
 * GELU in its tanh approximation over n values, as PyTorch's
 * `gelu(x, approximate='tanh')`: th = tanh(√(2/π) (x + 0.044715 x³)),
 * y = 0.5 x (1 + th). th is kept for the backward, which needs no other
 * transcendental.
 */
export interface GeluArgs {
  n: number;
  x: Storage;
  /** Written: the output (may not alias x or th). */
  y: Storage;
  /** Written: the tanh, for geluGrad. */
  th: Storage;
}

/** The backward of `gelu`: gx = gy (0.5 (1 + th) + 0.5 x (1 - th²) √(2/π) (1 + 3 · 0.044715 x²)). */
export interface GeluGradArgs extends Omit<GeluArgs, 'y'> {
  /** dL/dy. */
  gy: Storage;
  /** Written: dL/dx (may be gy). */
  gx: Storage;
}

export interface Backend {
  readonly name: string;
  /** 'f32' for real backends; the reference backend also comes in 'f64' for gradchecks. */
  readonly precision: 'f32' | 'f64';

  // ---- memory ----
  /**
   * A zero-filled block of `size` floats; with `uninitialized`, whatever the
   * memory held (for a caller that writes every element before it reads
   * any: filling a big output with zeros first costs a pass over memory).
   */
  alloc(size: number, uninitialized?: boolean): Storage;
  /** A block holding a copy of `values`. */
  fromValues(values: ArrayLike<number>): Storage;
  /**
   * A typed-array view of the storage. It is only valid until the next call
   * into the backend (a WebAssembly memory may grow and move); copy it to keep it.
   */
  read(s: Storage): FloatArray;
  /** Copy `values` into the storage starting at `offset`. */
  write(s: Storage, values: ArrayLike<number>, offset?: number): void;
  free(s: Storage): void;
  fill(s: Storage, value: number, offset?: number, length?: number): void;
  /** Release pooled memory that no live storage uses. */
  flush?(): void;

  // ---- elementwise ----
  unary(op: UnaryOp, x: Storage, out: Storage, n: number): void;
  unaryGrad(op: UnaryGradOp, x: Storage, y: Storage, gy: Storage, gx: Storage, n: number): void;
  /** out = x * scale + shift */
  affine(x: Storage, out: Storage, n: number, scale: number, shift: number): void;
  /** out = x ** p */
  powScalar(x: Storage, out: Storage, n: number, p: number): void;
  /** gx = gy * p * x ** (p - 1) */
  powScalarGrad(x: Storage, gy: Storage, gx: Storage, n: number, p: number): void;
  clamp(x: Storage, out: Storage, n: number, lo: number, hi: number): void;
  /** out[i] = a[ia] op b[ib], iterating `shape` with the given strides (0 = broadcast). */
  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[], out: Storage, shape: readonly number[]): void;
  /** out = cond != 0 ? a : b, all broadcast to `shape` through their strides. */
  where(
    cond: Storage,
    cStrides: readonly number[],
    a: Storage,
    aStrides: readonly number[],
    b: Storage,
    bStrides: readonly number[],
    out: Storage,
    shape: readonly number[],
  ): void;

  // ---- layout ----
  /**
   * Walk `shape`, copying src[srcOffset + sum(i*srcStrides)] to dst[dstOffset + sum(i*dstStrides)]
   * (adding instead when `accumulate`). Permute, slice, concat, expand and their backwards are all this.
   */
  stridedCopy(
    src: Storage,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: Storage,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
    accumulate: boolean,
  ): void;

  // ---- reductions: x viewed as [outer, n, inner], reduced over n ----
  reduce(op: ReduceOp, x: Storage, out: Storage, outer: number, n: number, inner: number, argOut?: Int32Array): void;
  /** gx[o, arg[o,i], i] = gy[o, i] (gx is overwritten, zeros elsewhere). */
  reduceMaxGrad(gy: Storage, arg: Int32Array, gx: Storage, outer: number, n: number, inner: number): void;
  /** Sum of squares of the first n elements, in double precision. */
  sumSquares(x: Storage, n: number): number;

  // ---- linear algebra ----
  matmul(a: Storage, b: Storage, c: Storage, args: MatmulArgs): void;

  // ---- indexing: x viewed as [outer, n, inner], indices pick along n ----
  /** out[o, j, i] = x[o, idx[j], i] */
  gather(x: Storage, idx: Int32Array, out: Storage, outer: number, n: number, inner: number): void;
  /** gx[o, idx[j], i] += gy[o, j, i] */
  scatterAdd(gy: Storage, idx: Int32Array, gx: Storage, outer: number, n: number, inner: number): void;

  // ---- softmax family, over rows of length cols ----
  softmax(x: Storage, out: Storage, rows: number, cols: number, log: boolean): void;
  /** Backward of softmax (log=false, y = softmax) or logSoftmax (log=true, y = log-probabilities). */
  softmaxGrad(y: Storage, gy: Storage, gx: Storage, rows: number, cols: number, log: boolean): void;
  /**
   * Cross-entropy of each row's logits against its target class: loss[r] = logsumexp(x[r]) - x[r, t[r]],
   * 0 for rows whose target is `ignoreIndex`. Writes the softmax probabilities for the backward.
   */
  crossEntropy(logits: Storage, targets: Int32Array, loss: Storage, probs: Storage, rows: number, cols: number, ignoreIndex: number): void;
  /** gx[r] = gyRow[r] * (probs[r] - onehot(t[r])), 0 for ignored rows. */
  crossEntropyGrad(probs: Storage, targets: Int32Array, gyRow: Storage, gx: Storage, rows: number, cols: number, ignoreIndex: number): void;

  // ---- fused recurrent steps ----
  recurrentStep(kind: RecurrentKind, a: RecurrentStepArgs): void;
  recurrentStepGrad(kind: RecurrentKind, a: RecurrentStepGradArgs): void;
  /** A layer's whole time loop: each step's recurrent GEMM and fused step (the plain twin: backend/recurrent-loop.ts). */
  recurrentSequence(kind: RecurrentKind, a: RecurrentSequenceArgs): void;
  recurrentSequenceGrad(kind: RecurrentKind, a: RecurrentSequenceGradArgs): void;
  // ---- fused linear scans (minGRU, minLSTM): the whole sequence in one call ----
  scan(kind: ScanKind, a: ScanArgs): void;
  scanGrad(kind: ScanKind, a: ScanGradArgs): void;
  // ---- fused RMSNorm and GELU (the block language model's), forward and backward ----
  rmsNorm(a: RmsNormArgs): void;
  rmsNormGrad(a: RmsNormGradArgs): void;
  gelu(a: GeluArgs): void;
  geluGrad(a: GeluGradArgs): void;

  // ---- optimizer updates, in place over n elements ----
  sgdStep(p: Storage, g: Storage, buf: Storage | null, n: number, args: SgdArgs): void;
  adagradStep(p: Storage, g: Storage, sum: Storage, n: number, args: AdagradArgs): void;
  rmspropStep(p: Storage, g: Storage, sq: Storage, avg: Storage | null, buf: Storage | null, n: number, args: RmspropArgs): void;
  adamStep(p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number, args: AdamArgs): void;
}

/** The names of Backend's methods, required and optional. */
export type BackendMethod = {
  [K in keyof Backend]-?: NonNullable<Backend[K]> extends (...args: never[]) => unknown ? K : never;
}[keyof Backend];

/** Every method of the Backend interface as a runtime list (tests walk it); the type checker keeps it complete. */
export const BACKEND_METHODS = [
  'alloc',
  'fromValues',
  'read',
  'write',
  'free',
  'fill',
  'flush',
  'unary',
  'unaryGrad',
  'affine',
  'powScalar',
  'powScalarGrad',
  'clamp',
  'binary',
  'where',
  'stridedCopy',
  'reduce',
  'reduceMaxGrad',
  'sumSquares',
  'matmul',
  'gather',
  'scatterAdd',
  'softmax',
  'softmaxGrad',
  'crossEntropy',
  'crossEntropyGrad',
  'recurrentStep',
  'recurrentStepGrad',
  'recurrentSequence',
  'recurrentSequenceGrad',
  'scan',
  'scanGrad',
  'rmsNorm',
  'rmsNormGrad',
  'gelu',
  'geluGrad',
  'sgdStep',
  'adagradStep',
  'rmspropStep',
  'adamStep',
] as const satisfies readonly BackendMethod[];

// a method added to Backend but not to BACKEND_METHODS is a type error here, naming the method
type MissingMethods = Exclude<BackendMethod, (typeof BACKEND_METHODS)[number]>;
const backendMethodsComplete: [MissingMethods] extends [never] ? true : MissingMethods = true;
void backendMethodsComplete;
