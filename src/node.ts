/**
 * The Node entry point (`import ... from 'recur-rnn'` under Node): everything in
 * the portable library, plus worker_threads as the wasm backend's thread
 * spawner. It changes no process-wide settings: V8 flags such as relaxed
 * SIMD are the host application's to choose (`node --experimental-wasm-relaxed-simd
 * --no-liftoff app.js`, or the same in NODE_OPTIONS); the `recur` command and
 * the benchmarks set them for themselves (src/node/wasm-features.ts).
 */
import './node/threads.js';

export * from './index.js';
