/** Single-step cells with PyTorch's parameter names (weight_ih, weight_hh, bias_ih, bias_hh). */
import { zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { globalRng, type Rng } from '../../random/rng.js';
import { Module, parameter } from '../module.js';
import { uniform_ } from '../init.js';
import { gruStep, lstmStep, rnnStep } from './steps.js';
import { CELL_KINDS, type CellKind, type Nonlinearity } from './kinds.js';
import type { RecurrentCell } from './unroll.js';

export interface CellOptions {
  inputSize: number;
  hiddenSize: number;
  bias?: boolean;
  rng?: Rng;
}

export function checkSizes(op: string, o: { inputSize: number; hiddenSize: number }): void {
  for (const k of ['inputSize', 'hiddenSize'] as const) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new Error(`${op}: ${k} must be a positive integer, got ${o[k]}`);
  }
}

/** A parameter drawn from U(-1/√H, 1/√H), PyTorch's default for recurrent weights. */
export function recurrentParam(shape: number[], hidden: number, rng: Rng): Tensor {
  const k = 1 / Math.sqrt(hidden);
  return parameter(uniform_(zeros(shape), -k, k, rng));
}

abstract class CellBase extends Module implements RecurrentCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias_ih: Tensor | null;
  bias_hh: Tensor | null;
  constructor(op: string, kind: CellKind, o: CellOptions) {
    super();
    checkSizes(op, o);
    const { inputSize, hiddenSize, bias = true, rng = globalRng } = o;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const G = CELL_KINDS[kind].gates.length * hiddenSize;
    this.weight_ih = recurrentParam([G, inputSize], hiddenSize, rng);
    this.weight_hh = recurrentParam([G, hiddenSize], hiddenSize, rng);
    this.bias_ih = bias ? recurrentParam([G], hiddenSize, rng) : null;
    this.bias_hh = bias ? recurrentParam([G], hiddenSize, rng) : null;
  }
  protected get weights() {
    return { weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh };
  }
  initialState(batch: number): Tensor[] {
    return [zeros([batch, this.hiddenSize], { backend: this.weight_ih.backend })];
  }
  abstract step(x: Tensor, state: Tensor[]): Tensor[];
}

/** Elman RNN cell: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh (default), relu or sigmoid. */
export class RNNCell extends CellBase {
  readonly nonlinearity: Nonlinearity;
  constructor(o: CellOptions & { nonlinearity?: Nonlinearity }) {
    super('RNNCell', 'rnn', o);
    this.nonlinearity = o.nonlinearity ?? 'tanh';
    if (!['tanh', 'relu', 'sigmoid'].includes(this.nonlinearity)) {
      throw new Error(`RNNCell: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got '${this.nonlinearity}'`);
    }
  }
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    return [rnnStep(x, h, this.weights, this.nonlinearity)];
  }
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, [h ?? this.initialState(x.shape[0])[0]])[0];
  }
}

export interface LSTMCellOptions extends CellOptions {
  /** Initial value of the forget-gate bias (split: all in bias_ih, zero in bias_hh). Default: PyTorch's uniform init. */
  forgetBias?: number;
  /** TensorFlow-style peephole connections: adds weight_ci, weight_cf, weight_co ([hidden] each). */
  peepholes?: boolean;
}

export class LSTMCell extends CellBase {
  weight_ci: Tensor | null = null;
  weight_cf: Tensor | null = null;
  weight_co: Tensor | null = null;
  constructor(o: LSTMCellOptions) {
    super('LSTMCell', 'lstm', o);
    const H = this.hiddenSize;
    if (o.forgetBias !== undefined) setForgetBias(this.bias_ih, this.bias_hh, H, o.forgetBias);
    if (o.peepholes) {
      const rng = o.rng ?? globalRng;
      this.weight_ci = recurrentParam([H], H, rng);
      this.weight_cf = recurrentParam([H], H, rng);
      this.weight_co = recurrentParam([H], H, rng);
    }
  }
  override initialState(batch: number): Tensor[] {
    const backend = this.weight_ih.backend;
    return [zeros([batch, this.hiddenSize], { backend }), zeros([batch, this.hiddenSize], { backend })];
  }
  step(x: Tensor, [h, c]: Tensor[]): Tensor[] {
    const peep = this.weight_ci ? { weightCi: this.weight_ci, weightCf: this.weight_cf!, weightCo: this.weight_co! } : null;
    const s = lstmStep(x, h, c, this.weights, peep);
    return [s.h, s.c];
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor] {
    const [h, c] = this.step(x, state ?? this.initialState(x.shape[0]));
    return [h, c];
  }
}

/** Put the whole forget-gate bias in bias_ih (gate slice [H, 2H)) and zero it in bias_hh. */
export function setForgetBias(bih: Tensor | null, bhh: Tensor | null, H: number, value: number): void {
  if (!bih || !bhh) throw new Error('LSTM: forgetBias needs bias = true');
  bih.backend.fill(bih.storage, value, H, H);
  bhh.backend.fill(bhh.storage, 0, H, H);
}

export class GRUCell extends CellBase {
  constructor(o: CellOptions) {
    super('GRUCell', 'gru', o);
  }
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    return [gruStep(x, h, this.weights)];
  }
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, [h ?? this.initialState(x.shape[0])[0]])[0];
  }
}
