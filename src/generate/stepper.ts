/**
 * Batch-1 inference for a LanguageModel, one token at a time, without tensors
 * or a graph (the loop is StepperCore's, in stepper-core.ts). This is what
 * sampling runs; it computes exactly what `LanguageModel.forward` computes for a
 * batch of one (tested against it).
 */
import type { LanguageModel } from '../models/charlm.js';
import type { RecurrentBase, RecurrentState } from '../nn/rnn/layers.js';
import { tensor } from '../tensor/create.js';
import { peepholeTensors } from '../ops/recurrent.js';
import { StepperCore, type StepperLayer, type StepperWeights } from './stepper-core.js';

/** Layer l's forward weights as the stepper's storages. */
function layerOf(rnn: RecurrentBase, l: number): StepperLayer {
  const w = rnn.weights(l, 0);
  const { peepholes, forgetGateOffset } = rnn.lstmExtras(l, 0);
  const peep = peepholes ? peepholeTensors(peepholes) : null;
  return {
    weightIh: w.weightIh.storage,
    inputSize: w.weightIh.shape[1],
    weightHh: w.weightHh ? w.weightHh.storage : null,
    biasIh: w.biasIh ? w.biasIh.storage : null,
    biasHh: w.biasHh ? w.biasHh.storage : null,
    peepholes: peep ? { i: peep.i.storage, f: peep.f.storage, o: peep.o.storage } : null,
    forgetGateOffset,
  };
}

/** A LanguageModel's parameters as the stepper's storages (the parameters themselves, not copies). */
function weightsOf(model: LanguageModel): StepperWeights {
  const { vocabSize, hidden, layers, embed } = model.config;
  const common = {
    backend: model.head.weight.backend,
    vocabSize,
    hidden,
    embed,
    embedding: model.embedding ? model.embedding.weight.storage : null,
    headWeight: model.head.weight.storage,
    headBias: model.head.bias ? model.head.bias.storage : null,
  };
  if (model.blocks) {
    const blocks = model.blocks;
    const [first] = blocks[0].ffnLinears;
    return {
      ...common,
      cell: blocks[0].cell.layerCell,
      layers: blocks.map((b) => layerOf(b.cell, 0)),
      blocks: {
        blocks: blocks.map((b) => {
          const [fin, fout] = b.ffnLinears;
          return {
            norm1: b.norm1.weight.storage,
            norm2: b.norm2.weight.storage,
            ffnInWeight: fin.weight.storage,
            ffnInBias: fin.bias ? fin.bias.storage : null,
            ffnOutWeight: fout.weight.storage,
            ffnOutBias: fout.bias ? fout.bias.storage : null,
          };
        }),
        norm: model.norm!.weight.storage,
        ffnHidden: first.outFeatures,
        eps: model.norm!.eps,
      },
    };
  }
  const rnn = model.rnn!;
  if (rnn.bidirectional) throw new Error('LMStepper: a bidirectional model cannot generate text');
  return { ...common, cell: rnn.layerCell, layers: Array.from({ length: layers }, (_, l) => layerOf(rnn, l)) };
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
  /** A stepper for `model` (unidirectional only; either form, plain stack or blocks), starting from a zero state. */
  constructor(model: LanguageModel) {
    super(weightsOf(model));
  }

  /** Start from zeros, or from a model state ([layers, 1, H] tensors). */
  reset(state?: RecurrentState): void {
    this.resetArrays(state ? { h: state.h.data, c: state.c?.data } : undefined);
  }

  /**
   * Layer (or block) `l`'s state after the last step, for looking at what cells do (the
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
