/**
 * Worker threads for the wasm backend in a browser: a spawner that starts each
 * thread as a Web Worker from a Blob URL holding the kernel loop
 * (WORKER_SOURCE), so no extra file has to be served. Shared memory needs a
 * cross-origin isolated page (COOP/COEP headers); without it the backend runs
 * on one thread. Call useWebWorkerThreads() before the backend is made, then
 * await threadsReady() before the first computation.
 */
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { WasmBackend } from '../backend/wasm/index.js';
import { setThreadSpawner, WORKER_SOURCE } from '../backend/wasm/threads.js';

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: string, opts?: { name?: string }) => { postMessage(m: unknown): void };
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL: { createObjectURL(b: unknown): string };
}

/**
 * Let the wasm backend share its large matrix products with Web Workers (one
 * per core by default). Call it before the first tensor is made, since the
 * backend starts its threads when it is created, then await
 * {@link threadsReady}. Returns false, and changes nothing, where threads
 * cannot work: no Web Workers, or a page that is not cross-origin isolated
 * (SharedArrayBuffer needs the COOP/COEP headers).
 *
 * @example
 * ```ts
 * import { useWebWorkerThreads, threadsReady, getBackend } from 'recur-rnn/browser';
 * useWebWorkerThreads();
 * await threadsReady();
 * console.log(getBackend().name); // 'wasm', with its threads running
 * ```
 */
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

/**
 * Resolves once `backend`'s worker threads (by default the current backend's)
 * have started, at once for a backend without threads. A page must await it
 * before computing: the first matrix product would otherwise wait for
 * workers that the page's own event loop has not yet been free to start.
 */
export async function threadsReady(backend: Backend = getBackend()): Promise<void> {
  await (backend as Partial<WasmBackend>).threadsReady?.();
}
