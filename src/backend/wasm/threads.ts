/**
 * Worker threads for the wasm backend: every worker instantiates the same
 * compiled kernels on the same shared memory, and the main thread hands out
 * slices of a big GEMM through a small control block in that memory (a job
 * counter, a done counter, and per-worker argument slots). Workers spin
 * briefly and then sleep in Atomics.wait, so a dispatch costs about a
 * microsecond while work is flowing and nothing while idle.
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
  scratch: number;
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

/** Control block layout (Int32 slots): 0 job counter, 1 done counter, 2 workers ready; from 16, 16 slots per worker. */
const JOB = 0,
  DONE = 1,
  READY = 2,
  SLOTS = 16;
const OP_GEMM = 1;

/**
 * The worker's loop, as source text so it can be evaluated in a fresh thread
 * (Node's eval workers, or a Blob URL in a browser) with no module loading.
 */
export const WORKER_SOURCE = `
function workerMain(d) {
  const k = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort() { throw new Error('wasm kernel aborted'); } } }).exports;
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
    if (ctl[o] === ${OP_GEMM}) {
      k.gemm(ctl[o + 1], ctl[o + 2], ctl[o + 3], ctl[o + 4] >>> 0, ctl[o + 5], ctl[o + 6], ctl[o + 7] >>> 0, ctl[o + 8], ctl[o + 9],
        ctl[o + 10] >>> 0, ctl[o + 11], ctl[o + 12], d.scratch, ctl[o + 13], ctl[o + 14]);
    }
    Atomics.add(ctl, ${DONE}, 1);
  }
}`;

export class ThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: number;
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
      const scratch = heap.alloc(4 * scratchFloats);
      s.spawn({ module, memory: heap.memory, ctl: ctlPtr, index: i, count: this.workers, scratch });
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
    this.waitReady();
    const T = this.threads;
    const byCols = n >= 32 * T;
    const total = byCols ? n : m;
    // slices in multiples of the register tile, so no thread gets a ragged edge it need not have
    const quantum = byCols ? 8 : this.k.gemmRowQuantum();
    const per = Math.ceil(total / T / quantum) * quantum;
    const slice = (t: number): [number, number] => [Math.min(total, t * per), Math.min(total, (t + 1) * per)];
    const ctl = this.ctl;
    for (let t = 1; t < T; t++) {
      const [s0, s1] = slice(t);
      const o = SLOTS * t;
      if (s1 <= s0) {
        ctl[o] = 0;
        continue;
      }
      ctl[o] = OP_GEMM;
      if (byCols) {
        ctl[o + 1] = m;
        ctl[o + 2] = s1 - s0;
        ctl[o + 3] = kk;
        ctl[o + 4] = a;
        ctl[o + 5] = ars;
        ctl[o + 6] = acs;
        ctl[o + 7] = b + 4 * s0 * bcs;
        ctl[o + 8] = brs;
        ctl[o + 9] = bcs;
        ctl[o + 10] = c + 4 * s0;
        ctl[o + 11] = ldc;
        ctl[o + 12] = acc;
        ctl[o + 13] = 0;
        ctl[o + 14] = m;
      } else {
        ctl[o + 1] = m;
        ctl[o + 2] = n;
        ctl[o + 3] = kk;
        ctl[o + 4] = a;
        ctl[o + 5] = ars;
        ctl[o + 6] = acs;
        ctl[o + 7] = b;
        ctl[o + 8] = brs;
        ctl[o + 9] = bcs;
        ctl[o + 10] = c;
        ctl[o + 11] = ldc;
        ctl[o + 12] = acc;
        ctl[o + 13] = s0;
        ctl[o + 14] = s1;
      }
    }
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, JOB, 1);
    Atomics.notify(ctl, JOB);
    const [s0, s1] = slice(0);
    if (byCols) this.k.gemm(m, s1 - s0, kk, a, ars, acs, b + 4 * s0 * bcs, brs, bcs, c + 4 * s0, ldc, acc, scratch, 0, m);
    else this.k.gemm(m, n, kk, a, ars, acs, b, brs, bcs, c, ldc, acc, scratch, s0, s1);
    // every worker answers every job (idle slots answer at once), so wait for all of them
    let spins = 0;
    while (Atomics.load(ctl, DONE) < this.workers) {
      // spin: the other slices take microseconds; a dead worker must not hang the process
      if (++spins % 10000000 === 0 && spins > 1e9) throw new Error('wasm backend: a worker thread stopped answering; set RECUR_THREADS=1');
    }
  }
}
