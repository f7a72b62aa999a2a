/**
 * Worker threads for the wasm backend under Node: installs a spawner that
 * starts each worker as an eval'd worker_threads Worker running the kernel
 * loop (WORKER_SOURCE), unref'd so it never keeps the process alive.
 * Imported by the Node entry point and the CLI before any backend is made.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { setThreadSpawner, WORKER_SOURCE } from '../backend/wasm/threads.js';

setThreadSpawner({
  defaultThreads: () => availableParallelism(),
  spawn(init) {
    const w = new Worker(`${WORKER_SOURCE}\nworkerMain(require('node:worker_threads').workerData);`, { eval: true, workerData: init });
    w.on('error', (e) => {
      process.stderr.write(`recur: a wasm worker thread failed: ${e.message}\n`);
    });
    w.unref();
  },
});
