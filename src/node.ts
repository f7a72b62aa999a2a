/**
 * The Node entry point (`import ... from 'recur'` under Node): everything in
 * the portable library, plus the Node-only set-up (relaxed SIMD on).
 */
import './node/wasm-features.js';
import './node/threads.js';

export * from './index.js';
