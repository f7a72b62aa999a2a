/** Messages between the page (main.ts) and the training worker (worker.ts). */
import type { CellKind } from '../../src/nn/rnn/kinds.js';
import type { ScheduleName } from '../../src/train/options.js';

export interface ModelSettings {
  model: CellKind;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  /** The residual block form (its embedding is as wide as its blocks). */
  blocks: boolean;
}

export interface TrainSettings {
  batch: number;
  seq: number;
  optimizer: 'adam' | 'adagrad' | 'sgd';
  lr: number;
  clip: number;
  schedule: ScheduleName;
  lrDecay: number;
  warmup: number;
  /** Training seconds before it stops (0: until stopped). */
  seconds: number;
  evalEvery: number;
  sampleEvery: number;
  seed: number;
}

export interface SampleSettings {
  prime?: string;
  length: number;
  temperature: number;
  topK?: number;
  topP?: number;
  argmax: boolean;
  seed: number;
}

export interface ModelInfo {
  model: CellKind;
  /** The residual block form (RMSNorm, GELU FFN) rather than a plain stack. */
  blocks: boolean;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  vocabSize: number;
  parameters: number;
  step: number;
  lastValLoss: number | null;
}

export type ToWorker =
  | { type: 'train'; text: string; name: string; model: ModelSettings; train: TrainSettings }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'save' }
  | { type: 'load'; bytes: Uint8Array; name: string }
  | { type: 'sample'; settings: SampleSettings }
  | { type: 'activations'; text: string; layer: number }
  | { type: 'speed' };

export type FromWorker =
  | { type: 'ready'; backend: string; threads: number; isolated: boolean; variant: string }
  | { type: 'speed'; gflops: number }
  /** `chars` counts code points of the text as read; `note` says how its line ends were read, if it had CRs. */
  | { type: 'started'; vocabSize: number; chars: number; note: string | null; info: ModelInfo }
  | { type: 'step'; step: number; epoch: number; loss: number; charsPerSec: number; lr: number }
  | { type: 'eval'; step: number; valLoss: number; bitsPerChar: number; evalChars: number; valChars: number }
  | { type: 'trainSample'; step: number; text: string }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; stoppedBy: string; step: number; info: ModelInfo }
  | { type: 'checkpoint'; bytes: Uint8Array }
  | { type: 'loaded'; info: ModelInfo; name: string }
  | { type: 'char'; c: string }
  | { type: 'sampleDone'; text: string }
  /** `state`: which of the kind's states `values` holds (LMStepper.cellActivations: c where the kind has one, else h). */
  | { type: 'activations'; chars: string[]; layer: number; hidden: number; values: Float32Array; kind: CellKind; state: 'c' | 'h' }
  | { type: 'error'; message: string; during: string };
