/**
 * Multi-layer, optionally bidirectional sequence layers constructed like
 * PyTorch's nn.RNN / nn.LSTM / nn.GRU, with the same parameter names, shapes,
 * gate orders and state layout ([numLayers * directions, batch, hidden],
 * index layer * D + direction), so state dicts move both ways.
 */
import { zeros } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { formatShape, sameShape } from '../../tensor/shape.js';
import { globalRng, type Rng } from '../../random/rng.js';
import { concat, narrow, squeeze, stack, transpose } from '../../ops/shape.js';
import { dropout } from '../../ops/dropout.js';
import { Module } from '../module.js';
import { checkSizes, recurrentParam, setForgetBias } from './cells.js';
import { COMPOSED_STEPS, type CellWeights, type Peepholes } from './steps.js';
import { checkLengths, unroll, type RecurrentCell } from './unroll.js';
import { CELL_KINDS, fusedCell, layerCell, layerParamShapes, peepholeParamNames, type CellKind, type CellKindSpec, type Nonlinearity } from './kinds.js';
import { recurrentLayer, type LstmExtras } from '../../ops/recurrent.js';
import { scanLayer } from '../../ops/scan.js';
import type { RecurrentKind, ScanKind } from '../../backend/backend.js';
import type { FusedCell, LayerCell } from '../../ops/recurrent-step.js';

/** What a recurrent layer is made from, as PyTorch's nn.RNN / nn.LSTM / nn.GRU arguments. */
export interface RecurrentOptions {
  /** Features of each input step. */
  inputSize: number;
  /** Size of each layer's hidden state, per direction. */
  hiddenSize: number;
  /** Layers stacked, each reading the previous one's output (default 1). */
  numLayers?: number;
  /** Also run each layer backwards in time and concatenate both outputs (default false). */
  bidirectional?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode. */
  dropout?: number;
  /** x is [batch, time, features] (default) rather than [time, batch, features]. */
  batchFirst?: boolean;
  /** Whether to learn biases (default true). */
  bias?: boolean;
  /** The generator for the initial weights and the dropout masks (default the global one). */
  rng?: Rng;
}

/** A recurrent layer's state between calls: h (and c for an LSTM), each [numLayers * directions, batch, hidden]. */
export interface RecurrentState {
  /** The hidden state, index layer * directions + direction. */
  h: Tensor;
  /** LSTM only. */
  c?: Tensor;
}

/** Options of a recurrent layer's `forward`. */
export interface RecurrentForwardOptions {
  /** The state to start from, as a previous call returned it (default zeros): carry it across windows of a long sequence. */
  state?: RecurrentState;
  /** Valid length of each sequence (1..time). */
  lengths?: readonly number[] | Int32Array;
  /**
   * 'fused' (default): one op per layer and direction with fused backend step
   * kernels. 'composed': the reference path built from tensor ops, step by step.
   */
  path?: 'fused' | 'composed';
}

/** What a recurrent layer's `forward` returns. */
export interface RecurrentOutput {
  /** [batch, time, D * hidden] (time-major if batchFirst is false); zeros past each sequence's end. */
  output: Tensor;
  /** The state after each sequence's last valid step, to continue from. */
  state: RecurrentState;
}

/**
 * What every recurrent layer shares: PyTorch's parameter names and state
 * layout, multiple layers, both directions, lengths, dropout between layers,
 * and the choice between fused kernels and the composed reference path. The
 * type to accept when any kind of layer will do.
 */
export abstract class RecurrentBase extends Module {
  /** The kind of cell, from the registry: 'lstm', 'gru' or 'rnn'. */
  readonly cellKind: CellKind;
  /** The activation of an RNN layer's single gate; other kinds' gates are fixed. */
  protected readonly activation: Nonlinearity;
  /** Features of each input step. */
  readonly inputSize: number;
  /** Size of each direction's hidden state. */
  readonly hiddenSize: number;
  /** Layers stacked. */
  readonly numLayers: number;
  /** Whether each layer also runs backwards in time. */
  readonly bidirectional: boolean;
  /** Between layers, in training mode; may change between runs (a resumed training run may set another). */
  dropout: number;
  /** Whether inputs and outputs are [batch, time, features] (true, the default) or [time, batch, features]. */
  readonly batchFirst: boolean;
  /** Whether the layer has biases. */
  readonly bias: boolean;
  /** Whether the layer has peephole weights (an LSTM made with `peepholes: true`). */
  readonly peepholesEnabled: boolean;
  /** An LSTM's constant on the forget gate's pre-activation (`forgetGateOffset`); 0 for every other layer. */
  readonly forgetGateOffset: number;
  private readonly dropRng: Rng;

  constructor(cellKind: CellKind, o: RecurrentOptions, activation: Nonlinearity = 'tanh', lstm: LstmLayerOptions = {}) {
    super();
    const op = CELL_KINDS[cellKind].name;
    checkSizes(op, o);
    this.peepholesEnabled = lstm.peepholes ?? false;
    this.forgetGateOffset = lstm.forgetGateOffset ?? 0;
    checkLstmOptions(cellKind, this.peepholesEnabled, this.forgetGateOffset);
    this.cellKind = cellKind;
    this.activation = activation;
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.numLayers = o.numLayers ?? 1;
    this.bidirectional = o.bidirectional ?? false;
    this.dropout = o.dropout ?? 0;
    this.batchFirst = o.batchFirst ?? true;
    this.bias = o.bias ?? true;
    this.dropRng = o.rng ?? globalRng;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new Error(`${op}: numLayers must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`${op}: dropout must be in [0, 1), got ${this.dropout}`);
    const rng = o.rng ?? globalRng;
    const H = this.hiddenSize;
    const self = this as unknown as Record<string, Tensor | null>;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? this.inputSize : H * this.directions;
      for (let d = 0; d < this.directions; d++) {
        const shapes = layerParamShapes(cellKind, l, inSize, H, { reverse: d === 1, bias: this.bias, peepholes: this.peepholesEnabled });
        for (const [name, shape] of Object.entries(shapes)) self[name] = recurrentParam(shape, H, rng);
      }
    }
  }

  /** @internal The kind's registry entry, for the stepper and the exporters. */
  get spec(): CellKindSpec {
    return CELL_KINDS[this.cellKind];
  }

  /** 2 for a bidirectional layer, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The weights of layer l, direction d. */
  weights(l: number, d: number): CellWeights {
    const n = this.spec.params(l, d === 1);
    const self = this as unknown as Record<string, Tensor>;
    const hh = !this.spec.scan;
    return {
      weightIh: self[n.weightIh],
      weightHh: hh ? self[n.weightHh] : null,
      biasIh: this.bias ? self[n.biasIh] : null,
      biasHh: this.bias && hh ? self[n.biasHh] : null,
    };
  }

  /** @internal The peephole weights of layer l, direction d (an LSTM's, when it has them). */
  peepholes(l: number, d: number): Peepholes | null {
    if (!this.peepholesEnabled) return null;
    const n = peepholeParamNames(l, d === 1);
    const self = this as unknown as Record<string, Tensor>;
    return { weightCi: self[n.i], weightCf: self[n.f], weightCo: self[n.o] };
  }

  /** @internal What layer l, direction d adds to its kind's equations: an LSTM's peepholes and forget-gate offset. */
  lstmExtras(l: number, d: number): LstmExtras {
    return { peepholes: this.peepholes(l, d), forgetGateOffset: this.forgetGateOffset };
  }

  /** @internal The kernel kind of this layer: its fused step, or its scan. */
  get kind(): RecurrentKind | ScanKind {
    return this.spec.scan ?? this.spec.fused!(this.activation);
  }

  /** @internal What the storage-level step needs (the training op); step kinds only. */
  get fusedCell(): FusedCell {
    return fusedCell(this.cellKind, this.activation);
  }

  /** @internal What the batch-1 stepper runs for this layer. */
  get layerCell(): LayerCell {
    return layerCell(this.cellKind, this.activation);
  }

  /** @internal Whether forward may take the fused path. */
  protected canFuse(path: 'fused' | 'composed' | undefined): boolean {
    if (path !== undefined && path !== 'fused' && path !== 'composed') {
      throw new Error(`${this.spec.name}: path must be 'fused' or 'composed', got '${path}'`);
    }
    return path !== 'composed';
  }

  /** @internal The cell of layer l, direction d, for the generic unroll. */
  protected cell(l: number, d: number, batch: number): RecurrentCell {
    const w = this.weights(l, d);
    const H = this.hiddenSize;
    const backend = w.weightIh.backend;
    const states = this.spec.cellState ? 2 : 1;
    const step = COMPOSED_STEPS[this.cellKind];
    const o = { nonlinearity: this.activation, ...this.lstmExtras(l, d) };
    return {
      hiddenSize: H,
      initialState: () => Array.from({ length: states }, () => zeros([batch, H], { backend })),
      step: (x, state) => step(x, state, w, o),
    };
  }

  /** Run the layers over `input` ([batch, time, inputSize] when batchFirst); see {@link RecurrentForwardOptions}. */
  forward(input: Tensor, opts: RecurrentForwardOptions = {}): RecurrentOutput {
    const op = this.spec.name;
    if (input.rank !== 3) {
      throw new Error(`${op}: input must be 3-D (${this.batchFirst ? '[batch, time, features]' : '[time, batch, features]'}), got ${formatShape(input.shape)}`);
    }
    let x = this.batchFirst ? input : transpose(input, 0, 1);
    const [B, T, I] = x.shape;
    if (I !== this.inputSize) throw new Error(`${op}: input has ${I} features but the layer expects inputSize ${this.inputSize}`);
    const lengths = opts.lengths ? checkLengths(op, opts.lengths, B, T) : undefined;
    const L = this.numLayers,
      D = this.directions,
      H = this.hiddenSize;
    const isLstm = this.spec.cellState;
    const expect = [L * D, B, H];
    const given = opts.state;
    for (const [k, t] of [
      ['h', given?.h],
      ['c', given?.c],
    ] as const) {
      if (t && !sameShape(t.shape, expect)) {
        throw new Error(`${op}: initial state ${k} has shape ${formatShape(t.shape)} but must be ${formatShape(expect)} [numLayers*directions, batch, hidden]`);
      }
    }
    if (given?.c && !isLstm) throw new Error(`${op}: only an LSTM takes a cell state c`);
    const finalH: Tensor[] = [],
      finalC: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const idx = l * D + d;
        const init = given
          ? [
              squeeze(narrow(given.h, 0, idx, 1), 0),
              ...(isLstm ? [given.c ? squeeze(narrow(given.c, 0, idx, 1), 0) : zeros([B, H], { backend: x.backend })] : []),
            ]
          : undefined;
        const scan = this.spec.scan;
        if (scan && this.canFuse(opts.path)) {
          const w = this.weights(l, d);
          const res = scanLayer({
            kind: scan,
            gates: this.spec.gates.length,
            x,
            h0: init ? init[0] : zeros([B, H], { backend: x.backend }),
            weightIh: w.weightIh,
            biasIh: w.biasIh,
            lengths: lengths ?? null,
            reverse: d === 1,
          });
          outs.push(res.output);
          finalH.push(res.h);
        } else if (this.canFuse(opts.path)) {
          const res = recurrentLayer({
            cell: this.fusedCell,
            x,
            w: this.weights(l, d),
            lengths: lengths ?? null,
            reverse: d === 1,
            h0: init ? init[0] : zeros([B, H], { backend: x.backend }),
            c0: isLstm ? (init ? init[1] : zeros([B, H], { backend: x.backend })) : null,
            lstm: this.lstmExtras(l, d),
          });
          outs.push(res.output);
          finalH.push(res.h);
          if (isLstm) finalC.push(res.c!);
        } else {
          const res = unroll(this.cell(l, d, B), x, { state: init, lengths, reverse: d === 1 });
          outs.push(res.output);
          finalH.push(res.state[0]);
          if (isLstm) finalC.push(res.state[1]);
        }
      }
      x = D === 1 ? outs[0] : concat(outs, 2);
      if (l < L - 1 && this.dropout > 0 && this.training) x = dropout(x, this.dropout, { rng: this.dropRng });
    }
    const output = this.batchFirst ? x : transpose(x, 0, 1);
    const state: RecurrentState = { h: stack(finalH, 0) };
    if (isLstm) state.c = stack(finalC, 0);
    return { output, state };
  }
}

/** A (stacked, optionally bidirectional) Elman RNN like PyTorch's nn.RNN, tanh or relu. */
export class RNN extends RecurrentBase {
  constructor(o: RecurrentOptions & { nonlinearity?: 'tanh' | 'relu' }) {
    const nl = o.nonlinearity ?? 'tanh';
    // PyTorch's nn.RNN offers these two (the sigmoid kernel serves RNNCell)
    if (nl !== 'tanh' && nl !== 'relu') throw new Error(`RNN: nonlinearity must be 'tanh' or 'relu', got '${nl}'`);
    super('rnn', o, nl);
  }

  /** The activation: 'tanh' (default) or 'relu'. */
  get nonlinearity(): Nonlinearity {
    return this.activation;
  }
}

/** TensorFlow's LSTM options, which only an LSTM layer takes. */
export interface LstmLayerOptions {
  /**
   * Peephole weights weight_ci_l{k}, weight_cf_l{k}, weight_co_l{k} ([hidden]
   * each, `_reverse` for the backward direction): c_{t-1} feeds gates i and f,
   * c_t gate o (TensorFlow's use_peepholes).
   */
  peepholes?: boolean;
  /**
   * A constant added to the forget gate's pre-activation at every step,
   * f = σ(W_f x + b_f + U_f h + b_hf + offset): TensorFlow's `forget_bias`
   * (its BasicLSTMCell uses 1). Not a parameter: it is not trained and not in the state dict
   * (unlike `forgetBias`, which only sets the trainable biases' initial value). Default 0.
   */
  forgetGateOffset?: number;
}

/** `LSTM`'s options: a recurrent layer's, plus the forget-gate bias's initial value, peepholes and a constant forget-gate offset. */
export interface LSTMOptions extends RecurrentOptions, LstmLayerOptions {
  /**
   * Start every forget-gate bias at this value (all in bias_ih, zero in bias_hh); 1 helps long memories.
   * Default: PyTorch's uniform init. An initial value that training then changes; for TensorFlow's
   * constant `forget_bias` see `forgetGateOffset`.
   */
  forgetBias?: number;
}

/** Throws unless a layer of `kind` may have these LSTM options (only a kind with TensorFlow's LSTM options may, and the offset must be a number). */
function checkLstmOptions(kind: CellKind, peepholes: boolean, forgetGateOffset: number): void {
  const spec = CELL_KINDS[kind];
  if (!Number.isFinite(forgetGateOffset)) throw new Error(`${spec.name}: forgetGateOffset must be a finite number, got ${forgetGateOffset}`);
  if (!spec.tfOptions && (peepholes || forgetGateOffset !== 0)) {
    throw new Error(`${spec.name}: peepholes and forgetGateOffset are LSTM options; ${spec.article} has neither`);
  }
}

/**
 * A (stacked, optionally bidirectional) LSTM with PyTorch's parameter names,
 * shapes and gate order (i, f, g, o), so its state dict loads into
 * `torch.nn.LSTM` and back. Input [batch, time, features] (batch first by
 * default); per-sequence `lengths` stop each row at its own end.
 *
 * @example
 * ```ts
 * const lstm = new LSTM({ inputSize: 3, hiddenSize: 16, numLayers: 2 });
 * const { output, state } = lstm.forward(randn([4, 10, 3]));
 * output.shape; // [4, 10, 16]; state.h and state.c are [2, 4, 16]
 * ```
 */
export class LSTM extends RecurrentBase {
  constructor(o: LSTMOptions) {
    super('lstm', o, 'tanh', { peepholes: o.peepholes, forgetGateOffset: o.forgetGateOffset });
    if (o.forgetBias === undefined) return;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        const w = this.weights(l, d);
        setForgetBias(w.biasIh, w.biasHh, this.hiddenSize, o.forgetBias);
      }
    }
  }
}

/** A (stacked, optionally bidirectional) GRU with PyTorch's parameter names and gate order (r, z, n). */
export class GRU extends RecurrentBase {
  constructor(o: RecurrentOptions) {
    super('gru', o);
  }
}

/**
 * A (stacked, optionally bidirectional) minGRU layer (Feng et al. 2024): the
 * update gate and the candidate read only x_t, so all steps' projections are
 * one GEMM and the recurrence is a linear scan,
 * h_t = (1 - z_t) h_{t-1} + z_t h~_t with z_t = σ(W_z x_t + b_z), h~_t = W_h x_t + b_h.
 * Parameters `weight_ih_l{k}` [2H, in] (z rows, then h~) and `bias_ih_l{k}` [2H]; no hidden-to-hidden weights.
 *
 * @example
 * ```ts
 * const rnn = new MinGRU({ inputSize: 3, hiddenSize: 16, numLayers: 2 });
 * const { output, state } = rnn.forward(randn([4, 10, 3]));
 * output.shape; // [4, 10, 16]; state.h is [2, 4, 16]
 * ```
 */
export class MinGRU extends RecurrentBase {
  constructor(o: RecurrentOptions) {
    super('mingru', o);
  }
}

/**
 * A (stacked, optionally bidirectional) minLSTM layer (Feng et al. 2024):
 * f_t, i_t = σ(W_f x_t + b_f), σ(W_i x_t + b_i); h~_t = W_h x_t + b_h;
 * h_t = f_t/(f_t + i_t) h_{t-1} + i_t/(f_t + i_t) h~_t, a linear scan over the sequence.
 * Parameters `weight_ih_l{k}` [3H, in] (f, i, h~ rows) and `bias_ih_l{k}` [3H]; no hidden-to-hidden weights.
 */
export class MinLSTM extends RecurrentBase {
  constructor(o: RecurrentOptions) {
    super('minlstm', o);
  }
}

/** A layer of any registered kind, with its default nonlinearity; what the named classes are for one kind. */
export class RecurrentLayer extends RecurrentBase {
  constructor(kind: CellKind, o: RecurrentOptions) {
    super(kind, o);
  }
}

/** A layer of the given kind: the named class PyTorch users expect where there is one (LSTM, GRU, RNN). LSTM options are refused for other kinds. */
export function recurrentLayerOf(kind: CellKind, o: RecurrentOptions & LstmLayerOptions): RecurrentBase {
  checkLstmOptions(kind, o.peepholes ?? false, o.forgetGateOffset ?? 0);
  const named = NAMED_LAYERS[kind];
  return named ? new named(o) : new RecurrentLayer(kind, o);
}

const NAMED_LAYERS: { readonly [K in CellKind]?: new (o: RecurrentOptions & LstmLayerOptions) => RecurrentBase } = {
  lstm: LSTM,
  gru: GRU,
  rnn: RNN,
  mingru: MinGRU,
  minlstm: MinLSTM,
};
