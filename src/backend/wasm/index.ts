/**
 * The `wasm` backend: tensors live in one WebAssembly memory and the hot
 * kernels (GEMM, fused recurrent steps and scans, RMSNorm and GELU,
 * softmax / cross-entropy, embedding gather and scatter, optimizer updates)
 * run as SIMD code compiled from assembly/kernels.ts. The methods named in JS_FALLBACKS run (in whole or in
 * the cases named there) the reference backend's loops on Float32Array views
 * of the same memory, through the HostView interface both backends' storages
 * implement, so both backends share one set of semantics and the conformance
 * suite checks the difference.
 */
import type {
  AdagradArgs,
  AdamArgs,
  Backend,
  BinaryOp,
  GeluArgs,
  GeluGradArgs,
  HostView,
  MatmulArgs,
  PeepholeStorages,
  RecurrentKind,
  RecurrentStepArgs,
  RecurrentStepGradArgs,
  RecurrentSequenceArgs,
  RecurrentSequenceGradArgs,
  RmsNormArgs,
  RmsNormGradArgs,
  ScanArgs,
  ScanGradArgs,
  ScanKind,
  SgdArgs,
  Storage,
  UnaryOp,
} from '../backend.js';
import { adamBiasCorrection } from '../backend.js';
import { recurrentLayout, recurrentSequenceGradLoop, recurrentSequenceLoop } from '../recurrent-loop.js';
import { createJsBackend } from '../js/index.js';
import { BINARY, RECURRENT, SCAN, UNARY } from '../opcodes.js';
import { loadKernels, type Kernels, type LoadedKernels } from './kernels.js';
import { WasmHeap } from './memory.js';
import { ThreadPool, getThreadSpawner } from './threads.js';

class WasmStorage implements HostView {
  freed = false;
  private view: Float32Array | null = null;
  private version = -1;
  constructor(
    readonly heap: WasmHeap,
    readonly ptr: number,
    readonly size: number,
  ) {}
  /** A Float32Array over this block; re-made only when the memory has grown. */
  get data(): Float32Array {
    const bytes = this.heap.bytes;
    if (this.version !== this.heap.version || !this.view) {
      this.view = new Float32Array(bytes, this.ptr, this.size);
      this.version = this.heap.version;
    }
    return this.view;
  }
}

/** An op-code namespace whose names are all members of Op (a misspelt name is a type error). */
type CodesOf<Op extends string, T> = Partial<Record<Op, number>> & Record<Exclude<keyof T, Op>, never>;
const UNARY_CODE: CodesOf<UnaryOp, typeof UNARY> = UNARY;
const BINARY_CODE: CodesOf<BinaryOp, typeof BINARY> = BINARY;
const KIND: CodesOf<RecurrentKind, typeof RECURRENT> & Record<RecurrentKind, number> = RECURRENT;
const SCAN_KIND: CodesOf<ScanKind, typeof SCAN> & Record<ScanKind, number> = SCAN;

/**
 * Scans with at least this many B*T*H entries are split over the threads:
 * about 25 us of minGRU forward on one core (as much work as GEMM's
 * threshold), several times a dispatch. Measured at [8, 8, 256] on 2 threads:
 * forward + backward 56 -> 43 us for minGRU, 125 -> 64 us for minLSTM.
 */
export const SCAN_PARALLEL_MIN = 1 << 14;

/**
 * RMSNorm and GELU calls with at least this much work are split over the
 * threads: entries (rows * d, or n), GELU's forward counting 4 for each (its
 * tanh). As with scans and GEMMs, about 25 us on one core, several times a
 * dispatch: rmsNorm forward over 2^16 entries, geluGrad the same, gelu over
 * 2^14. Measured at 2^16 and 2^17 entries on 2 threads (a busy machine):
 * 1.3-1.9x, rmsNorm forward 57 -> 31 us, gelu 320 -> 170 us at 2^17.
 */
export const NORM_PARALLEL_MIN = 1 << 16;

/**
 * A recurrent layer's time loop is split over the threads by batch rows, in
 * runs of this many (the GEMM's register tile), when every thread gets at
 * least one run: each thread then runs all T steps of its rows with no
 * synchronisation. Otherwise each step's GEMM is split instead
 * (recurrentSequenceLoop).
 */
export const SEQUENCE_ROW_QUANTUM = 4;

/** A float32's bits as an int32: how a float reaches a kernel through a thread's integer job slots. */
const f32Bits = (x: number): number => {
  bitsF32[0] = x;
  return bitsI32[0];
};
const bitsF32 = new Float32Array(1),
  bitsI32 = new Int32Array(bitsF32.buffer);

/**
 * The Backend methods that run js code: the reference backend's kernels on
 * HostViews of the wasm memory. The first seven always do (nothing hot calls
 * them); the last four have wasm kernels for their common cases and hand the
 * rest over. Every other method is a wasm kernel or memory bookkeeping.
 */
export const JS_FALLBACKS = [
  'unaryGrad',
  'powScalar',
  'powScalarGrad',
  'clamp',
  'where',
  'reduceMaxGrad',
  'rmspropStep',
  'unary', //       log (no wasm kernel)
  'binary', //      max, min, eq, gt, lt, and broadcast or strided operands
  'stridedCopy', // N-d walks whose last dimension is strided or shorter than 4
  'reduce', //      max (with its argmax)
] as const;
export type JsFallback = (typeof JS_FALLBACKS)[number];
/** The js kernels the wasm backend may call: only those in JS_FALLBACKS. */
export type JsFallbackKernels = Pick<Backend, JsFallback>;

function jsFallbackKernels(): JsFallbackKernels {
  const js = createJsBackend('f32');
  const out: Partial<Record<JsFallback, unknown>> = {};
  for (const name of JS_FALLBACKS) out[name] = js[name];
  return out as JsFallbackKernels;
}

export interface WasmBackend extends Backend {
  /**
   * The js kernels behind JS_FALLBACKS, looked up at each call (a test wraps
   * them to see which methods reach js code).
   */
  readonly jsFallbacks: JsFallbackKernels;
  readonly kernels: LoadedKernels;
  readonly heap: WasmHeap;
  /** Threads that share the big GEMMs and scans (1: this thread only). */
  readonly threads: number;
  /** Resolves when the worker threads have started; browsers must await it before computing (see ThreadPool.whenReady). */
  threadsReady(): Promise<void>;
}

function isContiguous(strides: readonly number[], shape: readonly number[]): boolean {
  let want = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== want) return false;
    want *= shape[d];
  }
  return true;
}

/**
 * A new wasm backend with its own memory. `shared` and `variant` force a
 * choice (tests use them); by default the best the runtime supports is used.
 * `threads` (default: RECUR_THREADS, else the spawner's core count) takes
 * effect only with shared memory and a thread spawner installed.
 */
export function createWasmBackend(opts: { shared?: boolean; variant?: 'relaxed' | 'simd'; threads?: number } = {}): WasmBackend {
  const loaded = loadKernels(opts);
  const k = loaded.exports;
  const heap = new WasmHeap(loaded.memory, loaded.shared, loaded.heapBase);
  const js = jsFallbackKernels();

  const ws = (s: Storage): WasmStorage => {
    const w = s as WasmStorage;
    if (w.freed) throw new Error('wasm backend: storage used after it was freed');
    return w;
  };
  /** Byte address of element `off` of a storage. */
  const at = (s: Storage, off = 0): number => ws(s).ptr + 4 * off;

  const gemmScratch = heap.alloc(4 * k.gemmScratchFloats());
  const spawner = getThreadSpawner();
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  let threads = opts.threads ?? (env?.RECUR_THREADS ? Number(env.RECUR_THREADS) : spawner ? spawner.defaultThreads() : 1);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`RECUR_THREADS must be a whole number of at least 1, got '${env?.RECUR_THREADS ?? opts.threads}'`);
  if (!loaded.shared || !spawner) threads = 1;
  const pool = threads > 1 ? new ThreadPool(k, heap, loaded.module, threads, spawner!, k.gemmScratchFloats()) : null;
  // integer arguments (targets, indices, valid masks) are copied into this growing block
  let intPtr = heap.alloc(4096),
    intBytes = 4096;
  const ints = (a: Int32Array | Uint8Array): number => {
    if (a.byteLength > intBytes) {
      heap.release(intPtr, intBytes);
      intBytes = Math.max(a.byteLength, 2 * intBytes);
      intPtr = heap.alloc(intBytes);
    }
    if (a instanceof Int32Array) heap.i32(intPtr, a.length).set(a);
    else heap.u8(intPtr, a.length).set(a);
    return intPtr;
  };

  /** An LSTM's peephole weights (or their gradients) as the kernels take them: three addresses, all 0 for none. */
  const peepholePointers = (p: PeepholeStorages | null | undefined): [number, number, number] => (p ? [at(p.i), at(p.f), at(p.o)] : [0, 0, 0]);

  const allocRaw = (size: number): WasmStorage => new WasmStorage(heap, heap.alloc(Math.max(4, 4 * size)), size);

  /**
   * A scan kernel over [B, T, H] with its leading arguments, whole or split
   * over the threads. Rows and the hidden units of a row are independent, so
   * each row is cut into n column chunks (multiples of 4) with B * n a
   * multiple of the thread count, and each thread runs an equal run of the
   * B * n (row, chunk) items (see the scan kernel).
   */
  const scanKernel = <K extends 'scan' | 'scanGrad'>(name: K, lead: number[], B: number, T: number, H: number): void => {
    type Args = Parameters<Kernels[K]>;
    if (!pool || B * T * H < SCAN_PARALLEL_MIN) {
      (k[name] as (...a: number[]) => void)(...lead, H, 0, B);
      return;
    }
    let g = B,
      r = pool.threads;
    while (r) [g, r] = [r, g % r]; // g = gcd(B, threads): threads / g chunks a row make B * n a multiple of threads
    const chunk = 4 * Math.ceil(H / (pool.threads / g) / 4);
    const items = B * Math.ceil(H / chunk);
    const per = Math.ceil(items / pool.threads);
    pool.run(name, (t) => (t * per < items ? ([...lead, chunk, t * per, Math.min(items, (t + 1) * per)] as Args) : null));
  };

  /**
   * A kernel over `total` independent rows or elements whose last two
   * arguments are the range [p0, p1) it covers: whole, or cut into one run
   * per thread (in multiples of `quantum`) when there are `work` entries or
   * more. Returns how many threads got a run (threads 0 to that less one;
   * 1 when not split).
   */
  const rangeKernel = <K extends 'rmsNorm' | 'rmsNormGrad' | 'gelu' | 'geluGrad'>(
    name: K,
    lead: (t: number) => number[],
    total: number,
    work: number,
    quantum: number,
  ): number => {
    type Args = Parameters<Kernels[K]>;
    if (!pool || work < NORM_PARALLEL_MIN || total <= quantum) {
      (k[name] as (...a: number[]) => void)(...lead(0), 0, total);
      return 1;
    }
    const per = quantum * Math.ceil(total / pool.threads / quantum);
    pool.run(name, (t) => (t * per < total ? ([...lead(t), t * per, Math.min(total, (t + 1) * per)] as Args) : null));
    return Math.ceil(total / per);
  };
  // per-thread partial sums of rmsNormGrad's gw (threads 1..; thread 0 writes gw itself), grown as needed
  let gwParts = 0,
    gwPartsBytes = 0;

  /**
   * Whether a recurrent time loop runs as one kernel (over all rows, or in
   * runs of SEQUENCE_ROW_QUANTUM rows, one per thread, when every thread
   * gets one) rather than as recurrentSequenceLoop, which splits each step's
   * GEMM: decided before anything is packed for the kernel.
   */
  const sequenceKernelFits = (B: number, splittable: boolean): boolean => !pool || (splittable && Math.ceil(B / SEQUENCE_ROW_QUANTUM) >= pool.threads);
  const runSequenceKernel = <K extends 'recurrentSeq' | 'recurrentSeqGrad'>(name: K, lead: number[], B: number): void => {
    type Args = Parameters<Kernels[K]>;
    if (!pool) {
      (k[name] as (...a: number[]) => void)(...lead, gemmScratch, 0, B);
      return;
    }
    const per = SEQUENCE_ROW_QUANTUM * Math.ceil(Math.ceil(B / SEQUENCE_ROW_QUANTUM) / pool.threads);
    pool.run(name, (t) => (t * per < B ? ([...lead, pool.scratchOf(t, gemmScratch), t * per, Math.min(B, (t + 1) * per)] as Args) : null));
  };
  /** A k x n matrix (element strides brs, bcs) packed once for gemmPacked, with its release. */
  const packedMatrix = (kk: number, n: number, b: Storage, brs: number, bcs: number): { ptr: number; release: () => void } => {
    const bytes = 4 * k.packedBFloats(kk, n);
    const ptr = heap.alloc(bytes);
    k.packB(kk, n, at(b), brs, bcs, ptr);
    return { ptr, release: () => heap.release(ptr, bytes) };
  };

  const backend: WasmBackend = {
    name: 'wasm',
    precision: 'f32',
    jsFallbacks: js,
    kernels: loaded,
    heap,
    threads,
    threadsReady: async () => pool?.whenReady(),

    alloc(size, uninitialized) {
      const s = allocRaw(size);
      if (!uninitialized) s.data.fill(0);
      return s;
    },
    fromValues(values) {
      const s = allocRaw(values.length);
      s.data.set(values as ArrayLike<number>);
      return s;
    },
    read: (s) => ws(s).data,
    write(s, values, offset = 0) {
      ws(s).data.set(values as ArrayLike<number>, offset);
    },
    free(s) {
      const w = s as WasmStorage;
      if (w.freed) return;
      w.freed = true;
      heap.release(w.ptr, Math.max(4, 4 * w.size));
    },
    flush() {},
    fill(s, value, offset = 0, length) {
      const a = ws(s).data;
      a.fill(value, offset, length === undefined ? a.length : offset + length);
    },

    // ---- JS_FALLBACKS that always run the js loops
    unaryGrad: (op, x, y, gy, gx, n) => js.unaryGrad(op, x, y, gy, gx, n),
    powScalar: (x, out, n, p) => js.powScalar(x, out, n, p),
    powScalarGrad: (x, gy, gx, n, p) => js.powScalarGrad(x, gy, gx, n, p),
    clamp: (x, out, n, lo, hi) => js.clamp(x, out, n, lo, hi),
    where: (cond, cStrides, a, aStrides, b, bStrides, out, shape) => js.where(cond, cStrides, a, aStrides, b, bStrides, out, shape),
    reduceMaxGrad: (gy, arg, gx, outer, n, inner) => js.reduceMaxGrad(gy, arg, gx, outer, n, inner),
    rmspropStep: (p, g, sq, avg, buf, n, a) => js.rmspropStep(p, g, sq, avg, buf, n, a),

    unary(op, x, out, n) {
      const code = UNARY_CODE[op];
      if (code === undefined) return js.unary(op, x, out, n);
      k.unary(code, at(x), at(out), n);
    },
    affine(x, out, n, scale, shift) {
      k.affine(at(x), at(out), n, scale, shift);
    },
    binary(op, a, aStrides, b, bStrides, out, shape) {
      const code = BINARY_CODE[op];
      if (code !== undefined && isContiguous(aStrides, shape) && isContiguous(bStrides, shape)) {
        let n = 1;
        for (const d of shape) n *= d;
        return k.binarySame(code, at(a), at(b), at(out), n);
      }
      js.binary(op, a, aStrides, b, bStrides, out, shape);
    },
    sumSquares: (x, n) => k.sumSquares(at(x), n),
    stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate) {
      // contiguous runs (bias rows, embedding rows, state copies; [1, n], a batch of one, is one too) skip the general N-d walk
      const rank = shape.length;
      if ((rank === 1 || (rank === 2 && shape[0] === 1)) && srcStrides[rank - 1] === 1 && dstStrides[rank - 1] === 1) {
        const n = shape[rank - 1];
        if (accumulate) k.binarySame(BINARY.add, at(dst, dstOffset), at(src, srcOffset), at(dst, dstOffset), n);
        else ws(dst).data.set(ws(src).data.subarray(srcOffset, srcOffset + n), dstOffset);
        return;
      }
      // last dimension contiguous on both sides: rows at a time, looping over the leading dims here
      if (rank >= 2 && srcStrides[rank - 1] === 1 && dstStrides[rank - 1] === 1 && shape[rank - 1] >= 4) {
        for (const d of shape) if (d === 0) return;
        const rows = shape[rank - 2],
          cols = shape[rank - 1];
        const srs = srcStrides[rank - 2],
          drs = dstStrides[rank - 2];
        const ps = at(src),
          pd = at(dst);
        const acc = accumulate ? 1 : 0;
        const walk = (dim: number, so: number, doff: number): void => {
          if (dim === rank - 2) {
            k.copyRows(ps + 4 * so, srs, pd + 4 * doff, drs, rows, cols, acc);
            return;
          }
          for (let i = 0; i < shape[dim]; i++) walk(dim + 1, so + i * srcStrides[dim], doff + i * dstStrides[dim]);
        };
        walk(0, srcOffset, dstOffset);
        return;
      }
      js.stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate);
    },
    reduce(op, x, out, outer, n, inner, argOut) {
      if (op === 'sum' && !argOut) return k.reduceSum(at(x), at(out), outer, n, inner);
      js.reduce(op, x, out, outer, n, inner, argOut);
    },

    matmul(a, b, c, args: MatmulArgs) {
      const { batch, m, n, k: kk, transA, transB, strideA, strideB, strideC, accumulate, offsetA = 0, offsetB = 0, offsetC = 0 } = args;
      const ars = transA ? 1 : kk,
        acs = transA ? m : 1;
      const brs = transB ? 1 : n,
        bcs = transB ? kk : 1;
      const pa = at(a, offsetA),
        pb = at(b, offsetB),
        pc = at(c, offsetC);
      for (let t = 0; t < batch; t++) {
        // a few rows (sampling at batch 1): plain dot products or row sums beat packing
        if (m < 4 && !transA && transB) {
          k.gemvRowsBt(m, n, kk, pa + 4 * t * strideA, kk, pb + 4 * t * strideB, kk, pc + 4 * t * strideC, n, accumulate ? 1 : 0);
          continue;
        }
        if (m < 4 && !transB) {
          k.gemvRowsB(m, n, kk, pa + 4 * t * strideA, ars, acs, pb + 4 * t * strideB, n, pc + 4 * t * strideC, n, accumulate ? 1 : 0);
          continue;
        }
        // big enough to be worth a dispatch (a few microseconds of work per thread)
        if (pool && 2 * m * n * kk >= 1 << 20) {
          pool.gemm(m, n, kk, pa + 4 * t * strideA, ars, acs, pb + 4 * t * strideB, brs, bcs, pc + 4 * t * strideC, n, accumulate ? 1 : 0, gemmScratch);
          continue;
        }
        k.gemm(m, n, kk, pa + 4 * t * strideA, ars, acs, pb + 4 * t * strideB, brs, bcs, pc + 4 * t * strideC, n, accumulate ? 1 : 0, gemmScratch, 0, m);
      }
    },

    gather(x, idx, out, outer, n, inner) {
      for (let j = 0; j < idx.length; j++) {
        const r = idx[j];
        if (r < 0 || r >= n || !Number.isInteger(r)) throw new Error(`gather: index ${r} is out of range for a dimension of size ${n}`);
      }
      k.gather(at(x), ints(idx), idx.length, at(out), outer, n, inner);
    },
    scatterAdd(gy, idx, gx, outer, n, inner) {
      k.scatterAdd(at(gy), ints(idx), idx.length, at(gx), outer, n, inner);
    },

    softmax(x, out, rows, cols, log) {
      k.softmax(at(x), at(out), rows, cols, log ? 1 : 0);
    },
    softmaxGrad(y, gy, gx, rows, cols, log) {
      k.softmaxGrad(at(y), at(gy), at(gx), rows, cols, log ? 1 : 0);
    },
    crossEntropy(logits, targets, loss, probs, rows, cols, ignoreIndex) {
      const bad = k.crossEntropy(at(logits), ints(targets), at(loss), at(probs), rows, cols, ignoreIndex);
      if (bad >= 0) throw new Error(`crossEntropy: target ${targets[bad]} is out of range for ${cols} classes`);
    },
    crossEntropyGrad(probs, targets, gyRow, gx, rows, cols, ignoreIndex) {
      k.crossEntropyGrad(at(probs), ints(targets), at(gyRow), at(gx), rows, cols, ignoreIndex);
    },

    recurrentStep(kind, a: RecurrentStepArgs) {
      k.recurrentStep(
        KIND[kind],
        a.B,
        a.H,
        at(a.gx.s, a.gx.off),
        a.gh ? at(a.gh.s, a.gh.off) : 0,
        at(a.hPrev.s, a.hPrev.off),
        a.cPrev ? at(a.cPrev.s, a.cPrev.off) : 0,
        at(a.hOut.s, a.hOut.off),
        a.cOut ? at(a.cOut.s, a.cOut.off) : 0,
        at(a.act.s, a.act.off),
        a.valid ? ints(a.valid) : 0,
        ...peepholePointers(a.peepholes),
        a.forgetGateOffset ?? 0,
      );
    },
    recurrentStepGrad(kind, a: RecurrentStepGradArgs) {
      k.recurrentStepGrad(
        KIND[kind],
        a.B,
        a.H,
        at(a.act.s, a.act.off),
        at(a.hPrev.s, a.hPrev.off),
        at(a.hOut.s, a.hOut.off),
        a.cPrev ? at(a.cPrev.s, a.cPrev.off) : 0,
        a.cOut ? at(a.cOut.s, a.cOut.off) : 0,
        at(a.dh.s, a.dh.off),
        a.dc ? at(a.dc.s, a.dc.off) : 0,
        at(a.dGx.s, a.dGx.off),
        at(a.dGh.s, a.dGh.off),
        at(a.dhPrev.s, a.dhPrev.off),
        a.dcPrev ? at(a.dcPrev.s, a.dcPrev.off) : 0,
        a.valid ? ints(a.valid) : 0,
        ...peepholePointers(a.peepholes),
        ...peepholePointers(a.peepholes ? a.dPeepholes : null),
      );
    },

    recurrentSequence(kind, a: RecurrentSequenceArgs) {
      const { T, B, H } = a;
      if (!sequenceKernelFits(B, true)) return recurrentSequenceLoop(backend, kind, a);
      const L = recurrentLayout(kind);
      const G = L.gates * H;
      // W_hh transposed (H x G) packed once for all T steps: B[h, g] = W_hh[g, h]
      const whhT = packedMatrix(H, G, a.whh, 1, H);
      const ghBytes = L.separateGh ? 4 * B * G : 0;
      const gh = ghBytes ? heap.alloc(ghBytes) : 0;
      const lead = [
        KIND[kind],
        T,
        B,
        H,
        at(a.gx),
        gh,
        L.separateGh && a.biasHh ? at(a.biasHh) : 0,
        whhT.ptr,
        at(a.hs),
        a.cs ? at(a.cs) : 0,
        at(a.act),
        a.valid ? ints(a.valid) : 0,
        ...peepholePointers(a.peepholes),
        f32Bits(a.forgetGateOffset ?? 0),
      ];
      runSequenceKernel('recurrentSeq', lead, B);
      whhT.release();
      if (gh) heap.release(gh, ghBytes);
    },
    recurrentSequenceGrad(kind, a: RecurrentSequenceGradArgs) {
      const { T, B, H } = a;
      const dPeep = a.peepholes ? a.dPeepholes : null;
      // every row adds into the peephole gradients, so with them the rows stay on one thread
      if (!sequenceKernelFits(B, !dPeep)) return recurrentSequenceGradLoop(backend, kind, a);
      const L = recurrentLayout(kind);
      const G = L.gates * H;
      // W_hh itself (G x H) packed once: dL/dh_{k-1} += dGh_k · W_hh
      const whh = packedMatrix(G, H, a.whh, H, 1);
      const stateBytes = 4 * B * H;
      const buffers = Array.from({ length: L.cellState ? 4 : 2 }, () => heap.alloc(stateBytes));
      const [dhA, dhB, dcA = 0, dcB = 0] = buffers;
      const lead = [
        KIND[kind],
        T,
        B,
        H,
        whh.ptr,
        at(a.act),
        at(a.hs),
        a.cs ? at(a.cs) : 0,
        at(a.gP),
        (T + (L.cellState ? 2 : 1)) * H,
        a.reverse ? 1 : 0,
        at(a.dGx),
        at(a.dGh),
        dhA,
        dhB,
        dcA,
        dcB,
        a.valid ? ints(a.valid) : 0,
        ...peepholePointers(a.peepholes),
        ...peepholePointers(dPeep),
      ];
      runSequenceKernel('recurrentSeqGrad', lead, B);
      // dh and dc ping-pong once per step: after T steps the result is in the A buffers when T is even
      const [dh, dc] = T % 2 === 0 ? [dhA, dcA] : [dhB, dcB];
      ws(a.dh0).data.set(heap.f32(dh, B * H));
      if (a.dc0 && dc) ws(a.dc0).data.set(heap.f32(dc, B * H));
      whh.release();
      for (const p of buffers) heap.release(p, stateBytes);
    },

    scan(kind, a: ScanArgs) {
      const lead = [
        SCAN_KIND[kind],
        a.B,
        a.T,
        a.H,
        at(a.gx.s, a.gx.off),
        at(a.h0.s, a.h0.off),
        at(a.out.s, a.out.off),
        at(a.hT.s, a.hT.off),
        a.lengths ? ints(a.lengths) : 0,
        a.reverse ? 1 : 0,
      ];
      scanKernel('scan', lead, a.B, a.T, a.H);
    },
    scanGrad(kind, a: ScanGradArgs) {
      const lead = [
        SCAN_KIND[kind],
        a.B,
        a.T,
        a.H,
        at(a.gx.s, a.gx.off),
        at(a.h0.s, a.h0.off),
        at(a.out.s, a.out.off),
        at(a.dOut.s, a.dOut.off),
        at(a.dhT.s, a.dhT.off),
        at(a.dGx.s, a.dGx.off),
        at(a.dh0.s, a.dh0.off),
        a.lengths ? ints(a.lengths) : 0,
        a.reverse ? 1 : 0,
      ];
      scanKernel('scanGrad', lead, a.B, a.T, a.H);
    },

    rmsNorm(a: RmsNormArgs) {
      const lead = [a.d, at(a.x), a.weight ? at(a.weight) : 0, at(a.y), at(a.r), f32Bits(a.eps)];
      rangeKernel('rmsNorm', () => lead, a.rows, a.rows * a.d, 1);
    },
    rmsNormGrad(a: RmsNormGradArgs) {
      if (!a.gx && !a.gw) return;
      const { d } = a;
      const gw = a.gw ? at(a.gw) : 0;
      if (gw && pool && (pool.threads - 1) * 4 * d > gwPartsBytes) {
        if (gwPartsBytes) heap.release(gwParts, gwPartsBytes);
        gwPartsBytes = (pool.threads - 1) * 4 * d;
        gwParts = heap.alloc(gwPartsBytes);
      }
      const lead = [d, at(a.x), a.weight ? at(a.weight) : 0, at(a.r), at(a.gy), a.gx ? at(a.gx) : 0];
      const ran = rangeKernel('rmsNormGrad', (t) => [...lead, !gw ? 0 : t === 0 ? gw : gwParts + 4 * (t - 1) * d], a.rows, a.rows * d, 1);
      for (let t = 1; gw && t < ran; t++) k.binarySame(BINARY.add, gw, gwParts + 4 * (t - 1) * d, gw, d);
    },
    gelu(a: GeluArgs) {
      const lead = [at(a.x), at(a.y), at(a.th)];
      rangeKernel('gelu', () => lead, a.n, 4 * a.n, 4);
    },
    geluGrad(a: GeluGradArgs) {
      const lead = [at(a.x), at(a.th), at(a.gy), at(a.gx)];
      rangeKernel('geluGrad', () => lead, a.n, a.n, 4);
    },

    sgdStep(p, g, buf, n, a: SgdArgs) {
      k.sgdStep(at(p), at(g), buf ? at(buf) : 0, n, a.lr, a.momentum, a.dampening, a.nesterov ? 1 : 0, a.weightDecay, a.firstStep ? 1 : 0);
    },
    adagradStep(p, g, sum, n, a: AdagradArgs) {
      k.adagradStep(at(p), at(g), at(sum), n, a.lr, a.eps, a.weightDecay);
    },
    adamStep(p, g, m, v, vmax, n, a: AdamArgs) {
      const { stepSize, sqrtBc2 } = adamBiasCorrection(a);
      k.adamStep(at(p), at(g), at(m), at(v), vmax ? at(vmax) : 0, n, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.decoupled ? 1 : 0, stepSize, sqrtBc2);
    },
  };
  return backend;
}
