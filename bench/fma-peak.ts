/**
 * One core's multiply-add peak for 128-bit WebAssembly SIMD on this machine
 * (bench/wasm/fma-peak.as.ts), the ceiling any wasm GEMM can reach: the bench
 * prints GEMM GFLOP/s next to it. Best of several 50 ms runs.
 */
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';

export async function wasmFmaPeakGflops(relaxed = true): Promise<number> {
  const source = fileURLToPath(new URL('./wasm/fma-peak.as.ts', import.meta.url));
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main([source, '-O3', '--runtime', 'stub', '--enable', relaxed ? 'simd,relaxed-simd' : 'simd', '--outFile', 'peak.wasm'], {
    writeFile(name: string, contents: string | Uint8Array) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
  });
  if (error || !binary) throw new Error(`fma-peak: ${stderr.toString()}`);
  const { fmaLoop } = new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), { env: { abort() {} } }).exports as {
    fmaLoop(n: number, x: number): number;
  };
  const n = 1 << 20; // 10 x 4-lane FMAs per iteration = 80 flops
  let best = 0;
  for (let rep = 0; rep < 20; rep++) {
    const t0 = performance.now();
    let iters = 0;
    while (performance.now() - t0 < 50) {
      fmaLoop(n, 1);
      iters += n;
    }
    best = Math.max(best, (iters * 80) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return best;
}
