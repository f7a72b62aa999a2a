/**
 * Batch-1 inference for a LanguageModel, one token at a time, without tensors
 * or a graph (the loop is StepperCore's, in stepper-core.ts). This is what
 * sampling runs; it computes exactly what `LanguageModel.forward` computes for a
 * batch of one (tested against it).
 */
import type { LanguageModel } from '../models/charlm.js';
import type { RecurrentState } from '../nn/rnn/layers.js';
import { tensor } from '../tensor/create.js';
import { StepperCore, type StepperWeights } from './stepper-core.js';

/** A LanguageModel's parameters as the stepper's storages (the parameters themselves, not copies). */
function weightsOf(model: LanguageModel): StepperWeights {
  if (model.rnn.bidirectional) throw new Error('LMStepper: a bidirectional model cannot generate text');
  const { vocabSize, hidden, layers, embed } = model.config;
  return {
    backend: model.head.weight.backend,
    cell: model.rnn.layerCell,
    vocabSize,
    hidden,
    embed,
    embedding: model.embedding ? model.embedding.weight.storage : null,
    layers: Array.from({ length: layers }, (_, l) => {
      const w = model.rnn.weights(l, 0);
      return {
        weightIh: w.weightIh.storage,
        inputSize: w.weightIh.shape[1],
        weightHh: w.weightHh ? w.weightHh.storage : null,
        biasIh: w.biasIh ? w.biasIh.storage : null,
        biasHh: w.biasHh ? w.biasHh.storage : null,
      };
    }),
    headWeight: model.head.weight.storage,
    headBias: model.head.bias ? model.head.bias.storage : null,
  };
}

/**
 * A language model run one token at a time for one sequence, on buffers made
 * once: what sampling runs, several times faster than `forward` with batch
 * and time 1, and the same numbers. It reads the model's parameters in place,
 * so it follows further training; `dispose()` it when done.
 *
 * @example
 * ```ts
 * const stepper = new LMStepper(model);
 * let logits = stepper.step(vocab.encode('T')[0]);
 * const next = logits.indexOf(Math.max(...logits)); // the likeliest next token
 * stepper.dispose();
 * ```
 */
export class LMStepper extends StepperCore {
  /** A stepper for `model` (unidirectional only), starting from a zero state. */
  constructor(model: LanguageModel) {
    super(weightsOf(model));
  }

  /** Start from zeros, or from a model state ([layers, 1, H] tensors). */
  reset(state?: RecurrentState): void {
    this.resetArrays(state ? { h: state.h.data, c: state.c?.data } : undefined);
  }

  /**
   * Layer `l`'s state after the last step, for looking at what cells do (the
   * playground's activation view): the cell state c for an LSTM, else h.
   * A copy the caller owns.
   */
  cellActivations(l: number): Float32Array {
    if (!(Number.isInteger(l) && l >= 0 && l < this.L)) throw new Error(`LMStepper: layer ${l} does not exist (the model has ${this.L})`);
    return Float32Array.from(this.bk.read((this.c ?? this.h)[l]).subarray(0, this.H));
  }

  /** The current state as [layers, 1, H] tensors (new tensors the caller owns). */
  state(): RecurrentState {
    const { h, c } = this.stateArrays();
    const s: RecurrentState = { h: tensor(h, [this.L, 1, this.H], { backend: this.bk }) };
    if (c) s.c = tensor(c, [this.L, 1, this.H], { backend: this.bk });
    return s;
  }
}
