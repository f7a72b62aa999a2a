import { createJsBackend } from '../src/backend/js/index.js';
import { runBackendConformance } from './backend-conformance.js';

import { createWasmBackend } from '../src/backend/wasm/index.js';
runBackendConformance('js (float32)', () => createJsBackend('f32'));
runBackendConformance('js-f64', () => createJsBackend('f64'));
runBackendConformance('wasm (best variant, shared memory)', () => createWasmBackend({ shared: true }));
runBackendConformance('wasm (plain SIMD, unshared memory, as in a page without cross-origin isolation)', () => createWasmBackend({ shared: false, variant: 'simd' }));
