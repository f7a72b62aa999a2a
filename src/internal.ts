/**
 * recur-rnn/internal: the machinery under the user API, for the tools that
 * need it (the playground's worker, the benchmarks, the tests) and for
 * anyone writing a backend or an op.
 *
 * Unstable: these names can change or go in any release, without a
 * deprecation period. Everything here is also reachable by its module path
 * in the source; this entry gathers it so the package can export it. Like
 * the root entry it imports nothing Node-specific.
 */

// tensors: shared storage behind views, and row-major strides
export { StorageRef } from './tensor/tensor.js';
export { stridesOf } from './tensor/shape.js';

// autograd: how an op records its backward pass
export { record, type GradNode, type BackwardFn } from './autograd/graph.js';

// backends: the kernel interface, making and registering backends, the wasm backend's threads
export type { Backend, Storage, FloatArray, MatmulArgs } from './backend/backend.js';
export { registerBackend, backendByName } from './backend/registry.js';
export { createJsBackend } from './backend/js/index.js';
export { createWasmBackend, type WasmBackend } from './backend/wasm/index.js';
export { setThreadSpawner, getThreadSpawner, type ThreadSpawner, type WorkerInit } from './backend/wasm/threads.js';

// cell kinds: the registry behind the recurrent layers, checkpoints and exports
export { CELL_KINDS, fusedCell, torchParamNames, layerParamShapes, type CellKindSpec, type ParamNames } from './nn/rnn/kinds.js';

// text: the CLI's and the playground's helpers
export { CharCounts, codePointCount, lineEndNote, splitSizes } from './data/text.js';

// checkpoints: the format's name and version as written in files
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './models/checkpoint.js';

// training and generation: one step of the loop, and the option checks the CLI runs
export { trainStep, type StepClip } from './train/step.js';
export { checkTrainOptions, textLengthProblem } from './train/trainer.js';
export { checkPickOptions } from './generate/sample.js';
