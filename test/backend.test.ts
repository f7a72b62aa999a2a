import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createJsBackend } from '../src/backend/js/index.js';
import { runBackendConformance } from './backend-conformance.js';

import '../src/node/threads.js';
import { createWasmBackend } from '../src/backend/wasm/index.js';
runBackendConformance('js (float32)', () => createJsBackend('f32'));
runBackendConformance('js-f64', () => createJsBackend('f64'));
runBackendConformance('wasm (best variant, shared memory)', () => createWasmBackend({ shared: true }));
runBackendConformance('wasm (plain SIMD, unshared memory, as in a page without cross-origin isolation)', () => createWasmBackend({ shared: false, variant: 'simd' }));
runBackendConformance('wasm (2 worker threads sharing the big GEMMs)', () => createWasmBackend({ shared: true, threads: 2 }));

it('the threaded wasm backend really runs with 2 threads (RECUR_THREADS=1 would give 1)', () => {
  assert.equal(createWasmBackend({ shared: true, threads: 2 }).threads, 2);
  assert.equal(createWasmBackend({ shared: false, threads: 2 }).threads, 1, 'no shared memory: one thread');
});
