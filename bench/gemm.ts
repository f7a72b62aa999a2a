/**
 * GEMM throughput of each registered backend in the three layouts the
 * backward pass needs (A·B, A·Bᵀ, Aᵀ·B). Prints GFLOP/s; never asserts.
 *   npx tsx bench/gemm.ts [--backend js] [--ms 400]
 */
import '../src/node/wasm-features.js';
import { parseArgs } from 'node:util';
import { availableBackends, backendByName } from '../src/index.js';

const { values } = parseArgs({ options: { backend: { type: 'string' }, ms: { type: 'string', default: '400' } } });
const budget = Number(values.ms);
const names = values.backend ? [values.backend] : availableBackends().filter((n) => n !== 'js-f64');
const shapes: [number, number, number][] = [[32, 512, 128], [32, 2048, 512], [128, 128, 128], [512, 512, 512]];
const layouts: [string, boolean, boolean][] = [['A·B', false, false], ['A·Bᵀ', false, true], ['Aᵀ·B', true, false]];

for (const name of names) {
  const b = backendByName(name);
  console.log(`backend ${name}`);
  for (const [m, n, k] of shapes) {
    const row: string[] = [];
    for (const [label, transA, transB] of layouts) {
      const A = b.fromValues(Float32Array.from({ length: m * k }, () => Math.random() - 0.5));
      const B = b.fromValues(Float32Array.from({ length: k * n }, () => Math.random() - 0.5));
      const C = b.alloc(m * n);
      const args = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
      b.matmul(A, B, C, args);
      const t0 = performance.now();
      let iters = 0;
      while (performance.now() - t0 < budget) {
        b.matmul(A, B, C, args);
        iters++;
      }
      const secs = (performance.now() - t0) / 1000 / iters;
      row.push(`${label} ${((2 * m * n * k) / secs / 1e9).toFixed(2)}`);
      b.free(A);
      b.free(B);
      b.free(C);
    }
    console.log(`  ${m}x${n}x${k}: ${row.join('  ')} GFLOP/s`);
  }
}
