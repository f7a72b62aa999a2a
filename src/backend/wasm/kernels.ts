/**
 * Loading the WebAssembly kernels (compiled from assembly/kernels.ts and
 * embedded as base64 by scripts/build-wasm.mjs): the best variant this
 * runtime accepts, relaxed SIMD before plain SIMD, shared memory (threads)
 * when SharedArrayBuffer is there.
 */
import * as binaries from './binaries.js';

/** The kernel exports; addresses are byte offsets into the shared heap. */
export interface Kernels {
  gemmScratchFloats(): number;
  gemmRowQuantum(): number;
  gemm(m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number,
    c: number, ldc: number, accumulate: number, scratch: number, i0: number, i1: number): void;
  gemvRowsBt(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number): void;
  gemvRowsB(m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, ldb: number, c: number, ldc: number, accumulate: number): void;
  unary(op: number, x: number, out: number, n: number): void;
  affine(x: number, out: number, n: number, scale: number, shift: number): void;
  binarySame(op: number, a: number, b: number, out: number, n: number): void;
  sumSquares(x: number, n: number): number;
  copyRows(src: number, srs: number, dst: number, drs: number, rows: number, cols: number, accumulate: number): void;
  reduceSum(x: number, out: number, outer: number, n: number, inner: number): void;
  gather(x: number, idx: number, nIdx: number, out: number, outer: number, n: number, inner: number): void;
  scatterAdd(gy: number, idx: number, nIdx: number, gx: number, outer: number, n: number, inner: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmaxGrad(y: number, gy: number, gx: number, rows: number, cols: number, log: number): void;
  crossEntropy(logits: number, targets: number, loss: number, probs: number, rows: number, cols: number, ignoreIndex: number): number;
  crossEntropyGrad(probs: number, targets: number, gyRow: number, gx: number, rows: number, cols: number, ignoreIndex: number): void;
  recurrentStep(kind: number, B: number, H: number, gx: number, gh: number, hPrev: number, cPrev: number,
    hOut: number, cOut: number, act: number, valid: number): void;
  recurrentStepGrad(kind: number, B: number, H: number, act: number, hPrev: number, hOut: number, cPrev: number, cOut: number,
    dh: number, dc: number, dGx: number, dGh: number, dhPrev: number, dcPrev: number, valid: number): void;
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number, nesterov: number, wd: number, firstStep: number): void;
  adagradStep(p: number, g: number, sum: number, n: number, lr: number, eps: number, wd: number): void;
  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, wd: number, decoupled: number, stepSize: number, sqrtBc2: number): void;
}

export interface LoadedKernels {
  /** The compiled module, so worker threads can instantiate the same code on the same memory. */
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: Kernels;
  variant: 'relaxed' | 'simd';
  shared: boolean;
  /** First free byte after the module's static data. */
  heapBase: number;
}

const MAX_PAGES = 32768;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const atobFn = (globalThis as { atob?: (s: string) => string }).atob;
  if (!atobFn) throw new Error('wasm backend: this runtime has no atob()');
  const s = atobFn(b64);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Instantiate an already chosen module on a memory (the main thread and each worker do this). */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort() {
        throw new Error('wasm backend: a kernel aborted');
      },
    },
  });
  return instance.exports as unknown as Kernels;
}

// each variant is decoded, validated and compiled at most once per process (or page):
// every backend and every worker thread reuses the module
const modules = new Map<string, WebAssembly.Module | null>();
function compiled(name: keyof typeof binaries): WebAssembly.Module | null {
  if (!modules.has(name)) {
    const bytes = decode(binaries[name]);
    modules.set(name, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return modules.get(name)!;
}

/** Whether this runtime can run the kernels at all (WebAssembly with 128-bit SIMD). */
export function wasmSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && compiled('simd') !== null;
}

/** Throws a plain sentence when this runtime has no WebAssembly SIMD. */
export function loadKernels(opts: { shared?: boolean; variant?: 'relaxed' | 'simd' } = {}): LoadedKernels {
  if (typeof WebAssembly !== 'object') throw new Error('wasm backend: this runtime has no WebAssembly');
  const shared = opts.shared ?? sharedMemoryWorks();
  const candidates: ['relaxed' | 'simd', keyof typeof binaries][] = shared
    ? [['relaxed', 'relaxedShared'], ['simd', 'simdShared']]
    : [['relaxed', 'relaxed'], ['simd', 'simd']];
  for (const [variant, name] of candidates) {
    if (opts.variant && opts.variant !== variant) continue;
    const module = compiled(name);
    if (!module) continue;
    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
    const exports = instantiate(module, memory);
    // the stub runtime keeps its static data (a few bytes) at the bottom; 64 KiB is well clear of it
    return { module, memory, exports, variant, shared, heapBase: 65536 };
  }
  throw new Error('wasm backend: this runtime does not support WebAssembly SIMD; use RECUR_BACKEND=js');
}
