/**
 * Worker threads for the wasm backend in a browser: a spawner that starts each
 * thread as a Web Worker from a Blob URL holding the kernel loop
 * (WORKER_SOURCE), so no extra file has to be served. Shared memory needs a
 * cross-origin isolated page (COOP/COEP headers); without it the backend runs
 * on one thread. Call useWebWorkerThreads() before making the backend, then
 * await backend.threadsReady() before the first computation.
 */
import { setThreadSpawner, WORKER_SOURCE } from '../backend/wasm/threads.js';

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string, opts?: { name?: string }) => { postMessage(m: unknown): void };
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL: { createObjectURL(b: unknown): string };
}

/** Install the Web Worker spawner; returns false (and installs nothing) where threads cannot work. */
export function useWebWorkerThreads(): boolean {
  const g = globalThis as unknown as BrowserGlobals;
  if (!g.Worker || !g.Blob || typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false) return false;
  const url = g.URL.createObjectURL(new g.Blob([`${WORKER_SOURCE}\nself.onmessage = (e) => workerMain(e.data);`], { type: 'text/javascript' }));
  const WorkerCtor = g.Worker;
  setThreadSpawner({
    defaultThreads: () => Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
    spawn(init) {
      new WorkerCtor(url, { name: `recur-wasm-${init.index + 1}` }).postMessage(init);
    },
  });
  return true;
}
