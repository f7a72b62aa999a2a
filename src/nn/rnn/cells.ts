/** Single-step cells with PyTorch's parameter names (weight_ih, weight_hh, bias_ih, bias_hh). */
import { zeros } from '../../tensor/create.js';
import type { CellWeights } from '../../ops/recurrent.js';
import type { Tensor } from '../../tensor/tensor.js';
import { globalRng, type Rng } from '../../random/rng.js';
import { Module, parameter } from '../module.js';
import { uniform_ } from '../init.js';
import { gruStep, lstmStep, rnnStep } from './steps.js';
import { CELL_KINDS, type CellKind, type Nonlinearity } from './kinds.js';
import type { RecurrentCell } from './unroll.js';

/** What a cell is made from: its sizes, and whether it has biases. */
export interface CellOptions {
  /** Features of each input step. */
  inputSize: number;
  /** Size of the hidden state (and of the output). */
  hiddenSize: number;
  /** Whether to learn bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default the global one). */
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
  /** Features of each input step. */
  readonly inputSize: number;
  /** Size of the hidden state. */
  readonly hiddenSize: number;
  /** Input-to-hidden weights [gates * hidden, input], PyTorch's layout and gate order. */
  weight_ih: Tensor;
  /** Hidden-to-hidden weights [gates * hidden, hidden]. */
  weight_hh: Tensor;
  /** Input-side bias [gates * hidden], or null without biases. */
  bias_ih: Tensor | null;
  /** Hidden-side bias [gates * hidden], or null without biases. */
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
  /** The four weights in the form the step functions take. */
  protected get weights(): CellWeights {
    return { weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh };
  }
  initialState(batch: number): Tensor[] {
    return [zeros([batch, this.hiddenSize], { backend: this.weight_ih.backend })];
  }
  /** The next state from input x [batch, input] and the state list (see `initialState`). */
  abstract step(x: Tensor, state: Tensor[]): Tensor[];
}

/** Elman RNN cell: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh (default), relu or sigmoid. */
export class RNNCell extends CellBase {
  /** The activation: 'tanh' (default), 'relu' or 'sigmoid'. */
  readonly nonlinearity: Nonlinearity;
  constructor(o: CellOptions & { nonlinearity?: Nonlinearity }) {
    super('RNNCell', 'rnn', o);
    this.nonlinearity = o.nonlinearity ?? 'tanh';
    if (!['tanh', 'relu', 'sigmoid'].includes(this.nonlinearity)) {
      throw new Error(`RNNCell: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got '${this.nonlinearity}'`);
    }
  }
  /** [h] -> [h'] for one step. */
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    return [rnnStep(x, h, this.weights, this.nonlinearity)];
  }
  /** h' [batch, hidden] from x [batch, input] and h (default zeros). */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, [h ?? this.initialState(x.shape[0])[0]])[0];
  }
}

/** `LSTMCell`'s options: a cell's, plus the forget-gate bias's initial value, peepholes and a constant forget-gate offset. */
export interface LSTMCellOptions extends CellOptions {
  /** Initial value of the forget-gate bias (split: all in bias_ih, zero in bias_hh). Default: PyTorch's uniform init. */
  forgetBias?: number;
  /** TensorFlow-style peephole connections: adds weight_ci, weight_cf, weight_co ([hidden] each). */
  peepholes?: boolean;
  /** A constant added to the forget gate's pre-activation at every step (TensorFlow's `forget_bias`; not trained). Default 0. */
  forgetGateOffset?: number;
}

/** Long short-term memory cell: gates i, f, g, o (PyTorch's order) over a hidden state h and a cell state c, optionally with peepholes. */
export class LSTMCell extends CellBase {
  /** Peephole weight from c to the input gate [hidden], or null without peepholes. */
  weight_ci: Tensor | null = null;
  /** Peephole weight from c to the forget gate [hidden], or null. */
  weight_cf: Tensor | null = null;
  /** Peephole weight from the new c to the output gate [hidden], or null. */
  weight_co: Tensor | null = null;
  /** The constant on the forget gate's pre-activation (`forgetGateOffset`). */
  readonly forgetGateOffset: number;
  constructor(o: LSTMCellOptions) {
    super('LSTMCell', 'lstm', o);
    this.forgetGateOffset = o.forgetGateOffset ?? 0;
    if (!Number.isFinite(this.forgetGateOffset)) throw new Error(`LSTMCell: forgetGateOffset must be a finite number, got ${this.forgetGateOffset}`);
    const H = this.hiddenSize;
    if (o.forgetBias !== undefined) setForgetBias(this.bias_ih, this.bias_hh, H, o.forgetBias);
    if (o.peepholes) {
      const rng = o.rng ?? globalRng;
      this.weight_ci = recurrentParam([H], H, rng);
      this.weight_cf = recurrentParam([H], H, rng);
      this.weight_co = recurrentParam([H], H, rng);
    }
  }
  /** Zeros [h, c], each [batch, hidden]. */
  override initialState(batch: number): Tensor[] {
    const backend = this.weight_ih.backend;
    return [zeros([batch, this.hiddenSize], { backend }), zeros([batch, this.hiddenSize], { backend })];
  }
  /** [h, c] -> [h', c'] for one step. */
  step(x: Tensor, [h, c]: Tensor[]): Tensor[] {
    const peep = this.weight_ci ? { weightCi: this.weight_ci, weightCf: this.weight_cf!, weightCo: this.weight_co! } : null;
    const s = lstmStep(x, h, c, this.weights, peep, this.forgetGateOffset);
    return [s.h, s.c];
  }
  /** [h', c'] from x [batch, input] and [h, c] (default zeros). */
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

/** Gated recurrent unit cell: reset and update gates r, z and candidate n (PyTorch's order and equations). */
export class GRUCell extends CellBase {
  constructor(o: CellOptions) {
    super('GRUCell', 'gru', o);
  }
  /** [h] -> [h'] for one step. */
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    return [gruStep(x, h, this.weights)];
  }
  /** h' [batch, hidden] from x [batch, input] and h (default zeros). */
  forward(x: Tensor, h?: Tensor): Tensor {
    return this.step(x, [h ?? this.initialState(x.shape[0])[0]])[0];
  }
}
