/**
 * Worker threads for the wasm backend: every worker instantiates the same
 * compiled kernels on the same shared memory, and the main thread hands out
 * slices of a big kernel call (GEMM, scan, RMSNorm, GELU, a recurrent
 * layer's time loop) through a small
 * control block in that memory (a job counter, a done counter, and
 * per-worker argument slots). Workers spin briefly and then sleep in Atomics.wait, so a dispatch
 * costs about a microsecond while work is flowing and nothing while idle.
 *
 * The core knows nothing of how threads are made: an environment installs a
 * spawner (src/node/threads.ts does it with worker_threads; a page can do it
 * with Web Workers when it is cross-origin isolated). Without a spawner or
 * without shared memory everything runs on the calling thread.
 */
import type { Kernels } from './kernels.js';
import type { WasmHeap } from './memory.js';

/** What a worker needs to start: run WORKER_SOURCE's workerMain(init) with it. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: number;
  index: number;
  count: number;
}

export interface ThreadSpawner {
  /** How many threads to use by default (the number of cores). */
  defaultThreads(): number;
  /** Start one worker running WORKER_SOURCE with `init`; it must not keep the process alive. */
  spawn(init: WorkerInit): void;
}

let spawner: ThreadSpawner | null = null;
export function setThreadSpawner(s: ThreadSpawner | null): void {
  spawner = s;
}
export function getThreadSpawner(): ThreadSpawner | null {
  return spawner;
}

/**
 * The kernels a pool can split over its threads. A job names one by its
 * index + 1 (0: this worker sits the job out) and passes it up to SLOTS - 1
 * integer arguments (addresses go through an Int32 slot and back to the i32
 * parameter unchanged).
 */
export const SPLIT_KERNELS = ['gemm', 'scan', 'scanGrad', 'rmsNorm', 'rmsNormGrad', 'gelu', 'geluGrad', 'recurrentSeq', 'recurrentSeqGrad'] as const;
export type SplitKernel = (typeof SPLIT_KERNELS)[number];

/** Control block layout (Int32 slots): 0 job counter, 1 done counter, 2 workers ready; from SLOTS, SLOTS per worker (op, arguments). */
const JOB = 0,
  DONE = 1,
  READY = 2,
  SLOTS = 32;
const ARGS = SLOTS - 1;

/**
 * The worker's loop, as source text so it can be evaluated in a fresh thread
 * (Node's eval workers, or a Blob URL in a browser) with no module loading.
 * Every argument slot is passed (a wasm export ignores the ones past its own
 * parameters), so a job costs no allocation.
 */
export const WORKER_SOURCE = `
function workerMain(d) {
  const k = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort() { throw new Error('wasm kernel aborted'); } } }).exports;
  const kernels = ${JSON.stringify(SPLIT_KERNELS)}.map((name) => k[name]);
  const ctl = new Int32Array(d.memory.buffer, d.ctl, ${SLOTS} * (d.count + 1));
  Atomics.add(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  let seen = 0;
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, ${JOB}) === seen) {
      if (++spins > 50000) { Atomics.wait(ctl, ${JOB}, seen); spins = 0; }
    }
    seen = Atomics.load(ctl, ${JOB});
    const o = ${SLOTS} * (d.index + 1);
    const op = ctl[o];
    if (op > 0) kernels[op - 1](${Array.from({ length: ARGS }, (_, i) => `ctl[o + ${i + 1}]`).join(', ')});
    Atomics.add(ctl, ${DONE}, 1);
  }
}`;

export class ThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: number;
  /** Each thread's GEMM scratch (gemmScratchFloats() floats); the caller's thread brings its own. */
  private readonly scratch: number[] = [];
  private ready = false;

  constructor(
    private readonly k: Kernels,
    heap: WasmHeap,
    module: WebAssembly.Module,
    threads: number,
    s: ThreadSpawner,
    scratchFloats: number,
  ) {
    this.threads = threads;
    this.workers = threads - 1;
    const ctlPtr = heap.alloc(4 * SLOTS * threads);
    this.ctl = new Int32Array(heap.memory.buffer, ctlPtr, SLOTS * threads);
    this.ctl.fill(0);
    for (let i = 0; i < this.workers; i++) {
      this.scratch.push(heap.alloc(4 * scratchFloats));
      s.spawn({ module, memory: heap.memory, ctl: ctlPtr, index: i, count: this.workers });
    }
  }

  /**
   * Resolves once every worker has started. A browser thread must await this
   * before the first GEMM: a page or worker that spins instead never lets its
   * event loop start the Web Workers it is waiting for.
   */
  async whenReady(timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ctl, READY) < this.workers) {
      if (Date.now() > deadline) throw new Error(`wasm backend: worker threads did not start within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.ready = true;
  }

  private waitReady(): void {
    if (this.ready) return;
    const deadline = Date.now() + 10000;
    while (Atomics.load(this.ctl, READY) < this.workers) {
      if (Date.now() > deadline) throw new Error('wasm backend: worker threads did not start within 10 s; set RECUR_THREADS=1');
    }
    this.ready = true;
  }

  /**
   * One call of `kernel` per thread, all at once: thread t runs it with
   * part(t) (null: thread t has nothing to do), the calling thread doing
   * part(0). Returns when every part is done.
   */
  run<K extends SplitKernel>(kernel: K, part: (t: number) => Parameters<Kernels[K]> | null): void {
    this.waitReady();
    const ctl = this.ctl;
    for (let t = 1; t < this.threads; t++) {
      const args = part(t);
      const o = SLOTS * t;
      if (!args) {
        ctl[o] = 0;
        continue;
      }
      if (args.length > ARGS) throw new Error(`wasm backend: ${kernel} takes more arguments than a job has slots (${ARGS})`);
      ctl[o] = SPLIT_KERNELS.indexOf(kernel) + 1;
      for (let i = 0; i < args.length; i++) ctl[o + 1 + i] = args[i];
    }
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, JOB, 1);
    Atomics.notify(ctl, JOB);
    const own = part(0);
    if (own) (this.k[kernel] as (...a: number[]) => void)(...own);
    // every worker answers every job (idle slots answer at once), so wait for all of them
    let spins = 0;
    while (Atomics.load(ctl, DONE) < this.workers) {
      // spin: the other parts take microseconds; a dead worker must not hang the process
      if (++spins % 10000000 === 0 && spins > 1e9) throw new Error('wasm backend: a worker thread stopped answering; set RECUR_THREADS=1');
    }
  }

  /** Thread t's private GEMM scratch: `own` (the caller's) for thread 0. */
  scratchOf(t: number, own: number): number {
    return t === 0 ? own : this.scratch[t - 1];
  }

  /**
   * C (m x n, rows ldc apart) (+)= A·B split over the threads: by columns when
   * there are enough of them (each thread packs only its own part of B), by
   * rows otherwise. Arguments as in the gemm kernel; the caller's thread does
   * the first slice with `scratch`.
   */
  gemm(
    m: number,
    n: number,
    kk: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    acc: number,
    scratch: number,
  ): void {
    const T = this.threads;
    // by columns when B is wide, or when A has few rows (a time step's product): each thread then packs only its
    // part of B; a tall A over a narrow B (a weight gradient, the head) splits better by rows (measured at W1's
    // seven big products on 2 threads: 8.6 -> 7.9 ms together, none slower)
    const byCols = n >= 32 * T && (n >= 256 || m < n);
    const total = byCols ? n : m;
    // slices in multiples of the register tile, so no thread gets a ragged edge it need not have
    const quantum = byCols ? 8 : this.k.gemmRowQuantum();
    const per = Math.ceil(total / T / quantum) * quantum;
    this.run('gemm', (t) => {
      const s0 = Math.min(total, t * per),
        s1 = Math.min(total, (t + 1) * per);
      if (s1 <= s0) return null;
      const sc = t === 0 ? scratch : this.scratch[t - 1];
      return byCols
        ? [m, s1 - s0, kk, a, ars, acs, b + 4 * s0 * bcs, brs, bcs, c + 4 * s0, ldc, acc, sc, 0, m]
        : [m, n, kk, a, ars, acs, b, brs, bcs, c, ldc, acc, sc, s0, s1];
    });
  }
}
