/**
 * recur-rnn: recurrent neural networks in TypeScript: tensors with autograd,
 * layers (RNN, LSTM, GRU), optimizers, language models and sequence tasks,
 * on a WebAssembly or plain JavaScript backend.
 *
 * This entry point is the user API, the same in Node and in browsers: it
 * imports nothing Node-specific, so it bundles for the web. Under Node,
 * `import 'recur-rnn'` loads the same names plus worker threads for the wasm
 * backend; bundlers for the browser load `recur-rnn/browser`, which adds Web
 * Worker threads. Tools that need the machinery underneath (backends'
 * kernels, the autograd recorder, thread spawners) import
 * `recur-rnn/internal`, which makes no stability promise.
 *
 * The sections below are the groups of the API reference (a TypeDoc plugin,
 * scripts/typedoc-groups.mjs, reads the `// --- Name ---` lines).
 *
 * @example
 * ```ts
 * import { CharTokenizer, LanguageModel, defaultLMConfig, trainLM, defaultTrainOptions, sampleText } from 'recur-rnn';
 * const vocab = CharTokenizer.fromTexts(text);
 * const { model } = await trainLM({ text, vocab, config: defaultLMConfig, options: { ...defaultTrainOptions, steps: 200 } });
 * console.log(sampleText(model, vocab, { length: 100, seed: 1 }));
 * ```
 *
 * @module recur-rnn
 */

// --- Tensors and ops ---
// Tensors (float32 arrays on a backend), making them, freeing them, randomness, and the ops that compute on them.
export { Tensor, isTensor, type NestedArray } from './tensor/tensor.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, randn, rand, uniform, toBackend } from './tensor/create.js';
export type { CreateOptions, RandomOptions } from './tensor/create.js';
export { tidy, keep, dispose } from './tensor/scope.js';
export { sizeOf, broadcastShapes, formatShape, type Shape } from './tensor/shape.js';
export { Rng, globalRng, manualSeed, type RngState } from './random/rng.js';
export * from './ops/index.js';

// --- Autograd ---
// Gradients: turning recording off and on, and checking a function's gradients against finite differences.
export { noGrad, enableGrad, isGradEnabled } from './autograd/graph.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';

// --- nn and layers ---
// Modules with parameters, the layers, initialisers, and the recurrent cells and layers (RNN, LSTM, GRU, MinGRU, MinLSTM, or your own cell).
export { Module, parameter, type StateDict } from './nn/module.js';
export { Linear, Embedding, Dropout, RMSNorm, Sequential, Tanh, Sigmoid, ReLU, GELU, Softmax, LogSoftmax, type LinearOptions } from './nn/layers.js';
export * as init from './nn/init.js';
export { RNNCell, LSTMCell, GRUCell, type CellOptions, type LSTMCellOptions } from './nn/rnn/cells.js';
export {
  RNN,
  LSTM,
  GRU,
  MinGRU,
  MinLSTM,
  RecurrentBase,
  RecurrentLayer,
  recurrentLayerOf,
  type RecurrentOptions,
  type LSTMOptions,
  type LstmLayerOptions,
  type RecurrentState,
  type RecurrentOutput,
  type RecurrentForwardOptions,
} from './nn/rnn/layers.js';
export { unroll, type RecurrentCell, type UnrollOptions } from './nn/rnn/unroll.js';
export { rnnStep, lstmStep, gruStep, minGruStep, minLstmStep, type CellWeights, type Peepholes, type Nonlinearity } from './nn/rnn/steps.js';
export { CELL_KIND_NAMES, type CellKind } from './nn/rnn/kinds.js';

// --- Optimizers, clipping, schedulers ---
// Updating parameters from their gradients, bounding the gradients first, and changing the learning rate over training.
export { Optimizer, type OptimizerStateDict } from './optim/optimizer.js';
export { SGD, Adagrad, RMSprop, Adam, AdamW } from './optim/optimizers.js';
export type { SGDOptions, AdagradOptions, RMSpropOptions, AdamOptions } from './optim/optimizers.js';
export { clipGradNorm, clipGradValue } from './optim/clip.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR } from './optim/schedulers.js';

// --- Data and tokenizers ---
// Text to token ids and back, train/validation splits, truncated-BPTT batches, and padded batches of sequences.
export { decodeText, textPieces, normalizeLineEnds, tokenIds, splitIds, type Split, type TokenIds, type LineEnds } from './data/text.js';
export { readCorpus, type Corpus, type CorpusOptions } from './data/corpus.js';
export { BpttBatcher, type BpttWindow } from './data/bptt.js';
export { padSequences, lengthsMask, SequenceDataset, type Sequence, type PadOptions, type PaddedBatch, type BatchOptions } from './data/sequences.js';
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

// --- Models ---
// The language model behind `recur train` (over characters or words; a plain stack or residual blocks) and its description.
export { LanguageModel, checkLMConfig, defaultLMConfig, describeArchitecture, type LanguageModelConfig, type CellType } from './models/charlm.js';
export { RecurrentBlock } from './models/blocks.js';

// --- Training ---
// The training loop for language models, with its options, callbacks and evaluation.
export {
  trainLM,
  evaluateLoss,
  defaultTrainOptions,
  OPTIMIZER_NAMES,
  SCHEDULE_NAMES,
  minTextLength,
  type TrainOptions,
  type ScheduleName,
  type TrainCallbacks,
  type TrainResult,
  type StepInfo,
  type EvalInfo,
  type OptimizerName,
} from './train/trainer.js';

// --- Generation ---
// Text from a language model: the sampling loop, one token's choice, and batch-1 steps without tensors.
export { LMStepper } from './generate/stepper.js';
export { sampleText, pickToken, type SampleOptions, type PickOptions, type GenerateOptions } from './generate/sample.js';

// --- io ---
// Files: safetensors for any tensors, language-model checkpoints (weights, tokenizer, optimizer, progress), PyTorch imports.
export { readSafetensors, readSafetensorsWithMetadata, readSafetensorsMetadata, writeSafetensors, type SafetensorsMetadata } from './io/safetensors.js';
export { encodeCheckpoint, decodeCheckpoint, type Checkpoint, type CheckpointMeta, type TrainingProgress } from './models/checkpoint.js';
export { charLMFromTorch, parseVocab, type TorchImport } from './models/torch-import.js';

// --- Tasks ---
// Building blocks for sequence tasks: forecasting series and its baselines, greedy and beam decoding, attention, sequence-to-vector heads.
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
export { greedyDecode, beamSearch, type StepFunction, type DecodeOptions, type BeamOptions, type Hypothesis } from './generate/decode.js';
export { dotAttention, LuongAttention } from './nn/attention.js';
export { lastValidStep, finalHidden, meanOverValid } from './nn/heads.js';

// --- Backends ---
// Where tensors live and kernels run: `wasm` (SIMD WebAssembly, the default where it loads), `js`, and `js-f64` (for gradchecks).
export { getBackend, setBackend, withBackend, availableBackends } from './backend/registry.js';

// --- Deprecated names ---
// The names from before language models learned words; each is the same object as its new name, and goes in the next release.
import { LanguageModel, checkLMConfig, defaultLMConfig, type LanguageModelConfig } from './models/charlm.js';
import { trainLM } from './train/trainer.js';
import { LMStepper } from './generate/stepper.js';

/** @deprecated Use {@link LanguageModel}, which is the same class. */
export const CharLM = LanguageModel;
/** @deprecated Use {@link LanguageModel}. */
export type CharLM = LanguageModel;
/** @deprecated Use {@link LanguageModelConfig}. */
export type CharLMConfig = LanguageModelConfig;
/** @deprecated Use {@link defaultLMConfig}, which is the same object. */
export const defaultCharLMConfig = defaultLMConfig;
/** @deprecated Use {@link checkLMConfig}, which is the same function. */
export const checkCharLMConfig = checkLMConfig;
/** @deprecated Use {@link trainLM}, which is the same function. */
export const trainCharLM = trainLM;
/** @deprecated Use {@link LMStepper}, which is the same class. */
export const CharStepper = LMStepper;
/** @deprecated Use {@link LMStepper}. */
export type CharStepper = LMStepper;
