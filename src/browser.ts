/**
 * recur-rnn/browser: the user API plus worker threads for the wasm backend in
 * a browser (Web Workers). Bundlers that resolve the `browser` condition
 * (Vite, webpack, esbuild with platform browser) load this for
 * `import 'recur-rnn'`; `import 'recur-rnn/browser'` names it explicitly,
 * which TypeScript also needs to see the two functions below.
 *
 * @module recur-rnn/browser
 */

// --- Web Worker threads ---
// What this entry adds to the root: starting the wasm backend's threads as Web Workers.
export { useWebWorkerThreads, threadsReady } from './browser/threads.js';

// --- The user API ---
// Everything the root entry exports (see recur-rnn).
export * from './index.js';
