/** GEMM GFLOP/s of one backend in the three layouts backward needs, for the shapes the W1/W2 workloads run. */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { backendByName, createWasmBackend, type Backend } from '../src/internal.js';

export const GEMM_SHAPES: [number, number, number][] = [
  [32, 640, 2048],
  [32, 1024, 2048],
  [512, 512, 512],
  [32, 512, 128],
  [32, 2048, 512],
];
const LAYOUTS: [string, boolean, boolean][] = [
  ['A·B', false, false],
  ['A·Bᵀ', false, true],
  ['Aᵀ·B', true, false],
];

/** `wasm:N` is a wasm backend with N threads. */
export function gemmFigures(name: string, budgetMs = 300): { shape: string; gflops: Record<string, number> }[] {
  const b: Backend = name.startsWith('wasm:') ? createWasmBackend({ threads: Number(name.slice(5)) }) : backendByName(name);
  const out: { shape: string; gflops: Record<string, number> }[] = [];
  for (const [m, n, k] of GEMM_SHAPES) {
    const gflops: Record<string, number> = {};
    for (const [label, transA, transB] of LAYOUTS) {
      const A = b.fromValues(Float32Array.from({ length: m * k }, () => Math.random() - 0.5));
      const B = b.fromValues(Float32Array.from({ length: k * n }, () => Math.random() - 0.5));
      const C = b.alloc(m * n);
      const args = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
      b.matmul(A, B, C, args);
      const t0 = performance.now();
      let iters = 0;
      while (performance.now() - t0 < budgetMs || iters < 2) {
        b.matmul(A, B, C, args);
        iters++;
      }
      gflops[label] = (2 * m * n * k * iters) / ((performance.now() - t0) / 1000) / 1e9;
      for (const s of [A, B, C]) b.free(s);
    }
    out.push({ shape: `${m}x${n}x${k}`, gflops });
  }
  return out;
}
