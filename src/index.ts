/**
 * recur: recurrent neural networks in TypeScript. This entry point is the
 * whole library; it imports nothing Node-specific, so it bundles for the browser.
 */
export { Tensor, StorageRef, isTensor, type NestedArray } from './tensor/tensor.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, randn, rand, uniform, toBackend } from './tensor/create.js';
export type { CreateOptions, RandomOptions } from './tensor/create.js';
export { tidy, keep, dispose } from './tensor/scope.js';
export { sizeOf, stridesOf, broadcastShapes, formatShape, type Shape } from './tensor/shape.js';
export { Rng, globalRng, manualSeed, type RngState } from './random/rng.js';

export { noGrad, enableGrad, isGradEnabled, record, type GradNode, type BackwardFn } from './autograd/graph.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';

export type { Backend, Storage, FloatArray, MatmulArgs } from './backend/backend.js';
export { getBackend, setBackend, withBackend, registerBackend, availableBackends, backendByName } from './backend/registry.js';
export { createJsBackend } from './backend/js/index.js';
export { createWasmBackend, type WasmBackend } from './backend/wasm/index.js';
export { setThreadSpawner, getThreadSpawner, type ThreadSpawner, type WorkerInit } from './backend/wasm/threads.js';
export { useWebWorkerThreads } from './browser/threads.js';

export * from './ops/index.js';

export { Module, parameter, type StateDict } from './nn/module.js';
export { Linear, Embedding, Dropout, Sequential, Tanh, Sigmoid, ReLU, Softmax, LogSoftmax, type LinearOptions } from './nn/layers.js';
export * as init from './nn/init.js';

export { Optimizer, type OptimizerStateDict } from './optim/optimizer.js';
export { SGD, Adagrad, RMSprop, Adam, AdamW } from './optim/optimizers.js';
export type { SGDOptions, AdagradOptions, RMSpropOptions, AdamOptions } from './optim/optimizers.js';
export { clipGradNorm, clipGradValue } from './optim/clip.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR } from './optim/schedulers.js';

export { readSafetensors, readSafetensorsWithMetadata, readSafetensorsMetadata, writeSafetensors, type SafetensorsMetadata } from './io/safetensors.js';
export { RNNCell, LSTMCell, GRUCell, type CellOptions, type LSTMCellOptions } from './nn/rnn/cells.js';
export {
  RNN,
  LSTM,
  GRU,
  RecurrentBase,
  RecurrentLayer,
  recurrentLayerOf,
  type RecurrentOptions,
  type LSTMOptions,
  type RecurrentState,
  type RecurrentOutput,
  type RecurrentForwardOptions,
} from './nn/rnn/layers.js';
export { unroll, type RecurrentCell, type UnrollOptions } from './nn/rnn/unroll.js';
export { rnnStep, lstmStep, gruStep, type CellWeights, type Peepholes, type Nonlinearity } from './nn/rnn/steps.js';
export {
  CELL_KINDS,
  CELL_KIND_NAMES,
  fusedCell,
  torchParamNames,
  layerParamShapes,
  type CellKind,
  type CellKindSpec,
  type ParamNames,
} from './nn/rnn/kinds.js';
export {
  decodeText,
  textPieces,
  normalizeLineEnds,
  lineEndNote,
  codePointCount,
  CharCounts,
  tokenIds,
  splitIds,
  splitSizes,
  type Split,
  type TokenIds,
  type LineEnds,
} from './data/text.js';
export { readCorpus, type Corpus, type CorpusOptions } from './data/corpus.js';
export { BpttBatcher, type BpttWindow } from './data/bptt.js';
export { padSequences, lengthsMask, SequenceDataset, type Sequence, type PadOptions, type PaddedBatch, type BatchOptions } from './data/sequences.js';
export { lastValidStep, finalHidden, meanOverValid } from './nn/heads.js';
export { dotAttention, LuongAttention } from './nn/attention.js';
export {
  CharTokenizer,
  Vocab,
  WordTokenizer,
  wordPieces,
  forEachWordPiece,
  tokenizerFromSpec,
  type Tokenizer,
  type TokenizerKind,
  type TokenizerSpec,
  type TokenizerOptions,
} from './text/tokenizers.js';
export { greedyDecode, beamSearch, type StepFunction, type DecodeOptions, type BeamOptions, type Hypothesis } from './generate/decode.js';
export { CharLM, checkCharLMConfig, defaultCharLMConfig, type CharLMConfig, type CellType } from './models/charlm.js';
export {
  Forecaster,
  trainForecaster,
  seriesStats,
  slidingWindows,
  lagWindows,
  type ForecasterConfig,
  type ForecasterTrainOptions,
} from './models/forecaster.js';
export { LinearAR, naiveForecast, meanSquaredError } from './models/baselines.js';
export { CharStepper } from './generate/stepper.js';
export { sampleText, pickToken, checkPickOptions, type SampleOptions, type PickOptions } from './generate/sample.js';
export { charLMFromTorch, parseVocab, type TorchImport } from './models/torch-import.js';
export {
  encodeCheckpoint,
  decodeCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type CheckpointMeta,
  type TrainingProgress,
} from './models/checkpoint.js';
export { trainStep, type StepClip } from './train/step.js';
export {
  trainCharLM,
  evaluateLoss,
  checkTrainOptions,
  defaultTrainOptions,
  minTextLength,
  textLengthProblem,
  type TrainOptions,
  type TrainCallbacks,
  type TrainResult,
  type StepInfo,
  type EvalInfo,
  type OptimizerName,
} from './train/trainer.js';
