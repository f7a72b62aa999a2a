/**
 * `npm run bench`: recur's training and sampling speed on the standard
 * workloads (bench/workloads.ts) on each backend, GEMM GFLOP/s, and the same
 * workloads on the peers that are installed (PyTorch through /usr/bin/python3;
 * TensorFlow.js on its wasm backend, and on its cpu backend when js is among
 * the backends), with our figures as ratios to theirs. Then the modern
 * recurrences: minGRU, minLSTM and LSTM at the same shape (W1, and the
 * long-sequence L1), on the wasm backend at 1 and 2 threads, with min* / LSTM
 * ratios. Each run is a fresh process, so peak RSS is per run. Prints
 * figures; never asserts.
 *   npm run bench [-- --json] [--workloads W1,W2] [--backends wasm,js] [--modern W1,L1] [--steps 20] [--no-peers] [--no-gemm]
 * An empty list skips a section (--workloads '' runs only the modern recurrences, --modern '' skips them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { gemmFigures } from './gemm-figures.js';
import { wasmFmaPeakGflops } from './fma-peak.js';
import { WORKLOADS, describeWorkload } from './workloads.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    workloads: { type: 'string', default: 'W1,W2' },
    modern: { type: 'string', default: 'W1,L1' },
    backends: { type: 'string', default: 'wasm,js' },
    steps: { type: 'string', default: '20' },
    'no-peers': { type: 'boolean', default: false },
    'no-gemm': { type: 'boolean', default: false },
    'js-w2': { type: 'boolean', default: false },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
type Row = Record<string, string | number | undefined>;
const rows: Row[] = [];
const emit = (r: Row): void => {
  rows.push(r);
  if (values.json) console.log(JSON.stringify(r));
  else
    console.log(
      `  ${String(r.peer).padEnd(8)} ${String(r.model ?? 'lstm').padEnd(8)} ${String(r.backend).padEnd(16)} threads ${r.threads}${r.blas_threads ? `/${r.blas_threads} blas` : '       '}  train ${fmt(r.train_chars_per_s)} chars/s  sample ${fmt(r.sample_chars_per_s)} chars/s  peak RSS ${r.peak_rss_mb} MB`,
    );
};
const fmt = (v: unknown): string => (typeof v === 'number' ? v.toLocaleString('en-US').padStart(7) : String(v));
const log = (s: string): void => {
  if (!values.json) console.log(s);
};
const list = (v: string | undefined): string[] => (v ?? '').split(',').filter(Boolean);
const heading = (workload: string): string => {
  const w = WORKLOADS[workload];
  if (!w) throw new Error(`unknown workload ${workload}; bench/workloads.ts has ${Object.keys(WORKLOADS).join(', ')}`);
  return `${workload} (${describeWorkload(w)}; vocab 65, Adam, clip 5)`;
};

/** bench/charlm.ts in a fresh process: one recur figure set. */
function runCharlm(workload: string, backend: string, threads: string, steps: string, model = 'lstm'): Row | null {
  return runJson(process.execPath, [
    '--experimental-wasm-relaxed-simd',
    '--import',
    'tsx',
    'bench/charlm.ts',
    '--workload',
    workload,
    '--backend',
    backend,
    '--steps',
    steps,
    '--threads',
    threads,
    '--model',
    model,
  ]);
}

/** bench/peers/torch_charlm.py: PyTorch's LSTM at `threads` torch threads and `blas` OpenBLAS threads. */
function runTorch(workload: string, threads: string, blas: string): Row | null {
  return runJson('/usr/bin/python3', ['bench/peers/torch_charlm.py', '--workload', workload, '--threads', threads, '--steps', values.steps!], {
    OPENBLAS_NUM_THREADS: blas,
    OMP_NUM_THREADS: threads,
  });
}

function runJson(cmd: string, args: string[], env: Record<string, string> = {}): Row | null {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) {
    log(`  (${cmd} ${args.join(' ')} failed: ${(r.stderr || '').trim().split('\n').slice(-1)[0]})`);
    return null;
  }
  return JSON.parse(line) as Row;
}

const torchAvailable = ((): boolean => {
  if (values['no-peers']) return false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// the tfjs packages are devDependencies; a production install runs without them
const tfjsAvailable = ((): boolean => {
  if (values['no-peers']) return false;
  try {
    const require = createRequire(import.meta.url);
    require.resolve('@tensorflow/tfjs');
    require.resolve('@tensorflow/tfjs-backend-wasm');
    return true;
  } catch {
    return false;
  }
})();

/** Our figures over a peer's, e.g. "recur wasm 2 thread(s) / tfjs-wasm: train 12.30x, sample 8.10x", or a JSON ratio row. */
function printRatio(workload: string, ours: Row, theirs: Row, name: string): void {
  const train = Number(ours.train_chars_per_s) / Number(theirs.train_chars_per_s);
  const sample = Number(ours.sample_chars_per_s) / Number(theirs.sample_chars_per_s);
  if (values.json)
    console.log(
      JSON.stringify({ workload, ratio: `recur-${ours.backend}-${ours.threads}t/${name}`, train: Number(train.toFixed(3)), sample: Number(sample.toFixed(3)) }),
    );
  else console.log(`  recur ${ours.backend} ${ours.threads} thread(s) / ${name}: train ${train.toFixed(2)}x, sample ${sample.toFixed(2)}x`);
}

for (const workload of list(values.workloads)) {
  log(`\n${heading(workload)}, LSTM`);
  const ours: Row[] = [];
  for (const backend of list(values.backends)) {
    if (backend === 'js' && workload === 'W2' && !values['js-w2']) {
      log('  recur    lstm     js               skipped (about 30 s per step; --js-w2 runs it)');
      continue;
    }
    const steps = backend === 'js' ? '5' : values.steps!;
    for (const threads of backend === 'wasm' ? ['1', '2'] : ['1']) {
      const r = runCharlm(workload, backend, threads, steps);
      if (r) {
        emit(r);
        ours.push(r);
      }
    }
  }
  const peers: Row[] = [];
  if (torchAvailable) {
    // torch's own threads and OpenBLAS's threads oversubscribe 2 cores when both are 2, so try the settings
    for (const [threads, blas] of [
      ['1', '1'],
      ['1', '2'],
      ['2', '1'],
    ]) {
      const r = runTorch(workload, threads, blas);
      if (r) {
        emit(r);
        peers.push(r);
      }
    }
  } else log('  (PyTorch not found: /usr/bin/python3 cannot import torch)');
  // tfjs caps its own step counts where it is slow (bench/peers/tfjs_charlm.ts); its cpu
  // backend is the counterpart of our js one, so it runs when js does
  const tfjs: Record<string, Row> = {};
  if (tfjsAvailable) {
    for (const backend of values.backends!.split(',').includes('js') ? ['wasm', 'cpu'] : ['wasm']) {
      if (backend === 'cpu' && workload === 'W2' && !values['js-w2']) {
        log('  tfjs     lstm     tfjs-cpu         skipped (minutes per step; --js-w2 runs it)');
        continue;
      }
      const r = runJson(process.execPath, [
        '--import',
        'tsx',
        'bench/peers/tfjs_charlm.ts',
        '--workload',
        workload,
        '--backend',
        backend,
        '--steps',
        values.steps!,
      ]);
      if (r) {
        emit(r);
        tfjs[backend] = r;
      }
    }
  } else if (!values['no-peers']) log('  (TensorFlow.js not found: npm install the devDependencies)');
  // our best, like PyTorch's: the fastest run for each figure (thread counts are printed with it);
  // batch-1 sampling never uses the worker threads, so its best run varies with the machine's noise
  const bestOf = (key: 'train_chars_per_s' | 'sample_chars_per_s'): Row | undefined => [...ours].sort((a, b) => Number(b[key]) - Number(a[key]))[0];
  const bestT = bestOf('train_chars_per_s'),
    bestS = bestOf('sample_chars_per_s');
  if (bestT && bestS && peers.length > 0) {
    const peerTrain = Math.max(...peers.map((p) => Number(p.train_chars_per_s)));
    const peerSample = Math.max(...peers.map((p) => Number(p.sample_chars_per_s)));
    const train = Number(bestT.train_chars_per_s) / peerTrain,
      sample = Number(bestS.sample_chars_per_s) / peerSample;
    if (values.json)
      console.log(
        JSON.stringify({
          workload,
          ratio: `recur-${bestT.backend}/pytorch-best`,
          train: Number(train.toFixed(3)),
          sample: Number(sample.toFixed(3)),
          train_threads: bestT.threads,
          sample_threads: bestS.threads,
        }),
      );
    else
      console.log(
        `  recur ${bestT.backend} / PyTorch, each at its best thread setting: train ${train.toFixed(2)}x (recur ${bestT.threads} thread(s)), sample ${sample.toFixed(2)}x (recur ${bestS.threads} thread(s))`,
      );
  }
  // every recur run over tfjs-wasm (tfjs runs one thread here), and js over tfjs-cpu
  for (const r of ours) {
    if (tfjs.wasm && r.backend === 'wasm') printRatio(workload, r, tfjs.wasm, 'tfjs-wasm');
    if (tfjs.cpu && r.backend === 'js') printRatio(workload, r, tfjs.cpu, 'tfjs-cpu');
  }
}

// minGRU and minLSTM (Feng et al. 2024) against LSTM at the same shape: their gates read only x_t, so a
// layer is one big GEMM and one scan instead of T small GEMMs, and the gap grows with the sequence length
const MODERN = ['mingru', 'minlstm', 'lstm'] as const;
const modernWorkloads = list(values.modern);
if (modernWorkloads.length > 0) log('\nModern recurrences: minGRU and minLSTM against LSTM at the same hidden size, wasm backend');
for (const workload of modernWorkloads) {
  log(`\n${heading(workload)}`);
  const runs: Record<string, Record<string, Row>> = {};
  for (const model of MODERN) {
    runs[model] = {};
    for (const threads of ['1', '2']) {
      const r = runCharlm(workload, 'wasm', threads, values.steps!, model);
      if (r) {
        emit(r);
        runs[model][threads] = r;
      }
    }
  }
  // PyTorch's LSTM as a peer row (it has no minGRU or minLSTM), unless the LSTM section above ran this workload
  if (torchAvailable && !list(values.workloads).includes(workload)) {
    for (const [threads, blas] of [
      ['1', '1'],
      ['2', '1'],
    ]) {
      const r = runTorch(workload, threads, blas);
      if (r) emit(r);
    }
  }
  for (const threads of ['1', '2']) {
    const lstm = runs.lstm[threads];
    for (const model of ['mingru', 'minlstm'] as const) {
      const r = runs[model][threads];
      if (!r || !lstm) continue;
      const train = Number(r.train_chars_per_s) / Number(lstm.train_chars_per_s);
      const sample = Number(r.sample_chars_per_s) / Number(lstm.sample_chars_per_s);
      if (values.json)
        console.log(JSON.stringify({ workload, ratio: `${model}/lstm-wasm-${threads}t`, train: Number(train.toFixed(3)), sample: Number(sample.toFixed(3)) }));
      else log(`  ${model} / lstm, wasm ${threads} thread(s): train ${train.toFixed(2)}x, sample ${sample.toFixed(2)}x`);
    }
  }
}

if (!values['no-gemm']) {
  log('\nGEMM GFLOP/s (m x n x k); wasm:N runs N threads');
  if (values.backends!.split(',').includes('wasm')) {
    // the ceiling of 128-bit wasm SIMD on this core, so the GEMM figures can be read as a fraction of it
    const peak = await wasmFmaPeakGflops();
    if (values.json) console.log(JSON.stringify({ wasm_fma_peak_gflops_per_core: Number(peak.toFixed(1)) }));
    else log(`  wasm SIMD multiply-add peak of one core (no memory traffic): ${peak.toFixed(1)} GFLOP/s`);
  }
  const gemmBackends = values.backends!.split(',').flatMap((b) => (b === 'wasm' ? ['wasm:1', 'wasm:2'] : [b]));
  for (const backend of gemmBackends) {
    for (const g of gemmFigures(backend)) {
      if (values.json) console.log(JSON.stringify({ gemm: g.shape, backend, ...g.gflops }));
      else
        console.log(
          `  ${backend.padEnd(6)} ${g.shape.padEnd(13)} ${Object.entries(g.gflops)
            .map(([k, v]) => `${k} ${v.toFixed(1).padStart(5)}`)
            .join('   ')}`,
        );
    }
  }
}
