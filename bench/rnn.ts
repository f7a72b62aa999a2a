/**
 * Forward + backward time of LSTM layers, batch 32 x time 64, on each backend,
 * for the fused path and (W1 only) the composed reference path. Prints figures; never asserts.
 *   npx tsx bench/rnn.ts [--backend js] [--reps 3] [--skip-w2]
 * W1: 1 layer x 128 hidden, input 64.  W2: 2 layers x 512 hidden, input 128.
 */
import '../src/node/wasm-features.js';
import '../src/node/threads.js';
import { parseArgs } from 'node:util';
import * as r from '../src/index.js';
import { LSTM, Rng, availableBackends, setBackend } from '../src/index.js';

const { values } = parseArgs({
  options: { backend: { type: 'string' }, reps: { type: 'string', default: '3' }, 'skip-w2': { type: 'boolean', default: false } },
});
const names = values.backend ? [values.backend] : availableBackends().filter((n) => n !== 'js-f64');
const B = 32,
  T = 64;
const workloads = [
  { name: 'W1 LSTM 1x128 (input 64)', layers: 1, hidden: 128, input: 64, paths: ['fused', 'composed'] as const },
  ...(values['skip-w2'] ? [] : [{ name: 'W2 LSTM 2x512 (input 128)', layers: 2, hidden: 512, input: 128, paths: ['fused'] as const }]),
];

for (const backend of names) {
  setBackend(backend);
  for (const w of workloads) {
    const lstm = new LSTM({ inputSize: w.input, hiddenSize: w.hidden, numLayers: w.layers, rng: new Rng(0) });
    const x = r.randn([B, T, w.input], { rng: new Rng(1) });
    for (const path of w.paths) {
      const step = (): number => {
        const t0 = performance.now();
        r.tidy(() => {
          const { output } = lstm.forward(x, { path });
          r.sum(output).backward();
          return 0;
        });
        lstm.zeroGrad();
        return performance.now() - t0;
      };
      step(); // warm-up
      const reps = w.hidden > 256 ? 1 : Number(values.reps);
      const times = Array.from({ length: reps }, step).sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)];
      console.log(
        `${backend}  ${w.name}  ${path.padEnd(8)}  forward+backward ${ms.toFixed(0)} ms per batch (${(ms / B).toFixed(2)} ms per sequence, ${Math.round((B * T) / (ms / 1000))} steps/s)`,
      );
    }
  }
}
