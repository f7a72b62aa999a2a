/**
 * Node 20 keeps WebAssembly relaxed SIMD (fused multiply-add) behind a V8 flag
 * that NODE_OPTIONS may not carry. Setting it here, before any module is
 * compiled, lets the wasm backend pick its faster kernels. Imported first by
 * the Node entry point and the CLI; harmless where the feature is already on.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
// compile the kernels with the optimizing tier straight away (they are small),
// so the first training steps and every benchmark run optimized code
setFlagsFromString('--no-liftoff');
