/**
 * GEMM throughput of each backend in the three layouts the backward pass
 * needs (A·B, A·Bᵀ, Aᵀ·B), for the shapes of bench/gemm-figures.ts; `wasm:N`
 * runs N threads. Prints GFLOP/s; never asserts.
 *   npm run bench:gemm [-- --backend js] [--ms 400]
 */
import '../src/node/wasm-features.js';
import { parseArgs } from 'node:util';
import { gemmFigures } from './gemm-figures.js';
import { wasmFmaPeakGflops } from './fma-peak.js';

const { values } = parseArgs({ options: { backend: { type: 'string' }, ms: { type: 'string', default: '400' } } });
const names = values.backend ? [values.backend] : ['js', 'wasm:1', 'wasm:2'];
if (names.some((n) => n.startsWith('wasm')))
  console.log(`wasm SIMD multiply-add peak of one core (no memory traffic): ${(await wasmFmaPeakGflops()).toFixed(1)} GFLOP/s`);
for (const name of names) {
  console.log(`backend ${name}`);
  for (const g of gemmFigures(name, Number(values.ms))) {
    console.log(
      `  ${g.shape}: ${Object.entries(g.gflops)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join('  ')} GFLOP/s`,
    );
  }
}
