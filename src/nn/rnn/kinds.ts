/**
 * The registry of recurrent cell kinds: everything recur knows about a kind
 * that is not its arithmetic. Layers, LanguageModel's shapes, checkpoint checks,
 * the PyTorch importer, the ONNX exporter, the stepper and the CLI read it
 * here instead of spelling gate counts, names and orders themselves.
 *
 * A kind's arithmetic lives in three places that must agree, all keyed by
 * CellKind so that a missing one is a type error: the composed reference
 * step (COMPOSED_STEPS in steps.ts, tensor ops), and the fused kernels named
 * by `fused` (src/backend/js and assembly/kernels.ts). This file imports no
 * tensors: the embeddable sampler bundles it.
 */
import type { RecurrentKind, ScanKind } from '../../backend/backend.js';
import type { FusedCell, LayerCell } from '../../ops/recurrent-step.js';

/** A kind of recurrent cell, spelled as checkpoints store it (config.model) and as the CLI takes it. */
export type CellKind = 'lstm' | 'gru' | 'rnn' | 'mingru' | 'minlstm';

/** An Elman RNN's activation (LSTM and GRU gates have fixed ones). */
export type Nonlinearity = 'tanh' | 'relu' | 'sigmoid';

/**
 * The gates an LSTM's peepholes feed, in the order recur stores and passes
 * them: i and f read c_{t-1}, o reads c_t (TensorFlow's use_peepholes). Their
 * weights are named weight_c{gate}.
 */
export const PEEPHOLE_GATES = ['i', 'f', 'o'] as const;
export type PeepholeGate = (typeof PEEPHOLE_GATES)[number];

/** A layer's PyTorch parameter names (layer l, `_reverse` for the backward direction). */
export interface ParamNames {
  weightIh: string;
  weightHh: string;
  biasIh: string;
  biasHh: string;
}

export interface CellKindSpec {
  kind: CellKind;
  /** PyTorch's module name, which messages use too. */
  name: string;
  /** The name with its article, for sentences ("an LSTM"). */
  article: string;
  /** Gate blocks in the order PyTorch stacks them along W_ih / W_hh's first dimension. */
  gates: readonly string[];
  /**
   * The whole-sequence scan kernel of a kind whose gates read only x_t
   * (minGRU, minLSTM): it has no W_hh / b_hh, its layers run ops/scan.ts, and
   * `fused` is null. Null for the step kinds.
   */
  scan: ScanKind | null;
  /** State tensors besides h: an LSTM's c. */
  cellState: boolean;
  foldsHh: boolean;
  actBlocks: number;
  /** The fused step kernel for a nonlinearity (only RNN layers have a choice; the others ignore it); null for scan kinds. */
  fused: ((nonlinearity: Nonlinearity) => RecurrentKind) | null;
  params(layer: number, reverse?: boolean): ParamNames;
  /**
   * TensorFlow's LSTM options, for the kind that takes them (null for the
   * others): peepholes (PEEPHOLE_GATES), and a constant added to the
   * pre-activation of gate `offsetGate` (TensorFlow's forget_bias), which the
   * ONNX and PyTorch exports fold into that gate's bias.
   */
  tfOptions: { offsetGate: string } | null;
  /** How src/export/onnx.ts writes a layer of this kind. */
  onnx: {
    /**
     * ONNX's own recurrent operator (LSTM, GRU, RNN) for a step kind; 'Scan'
     * for a scan kind: one MatMul for every step's gates, then a Scan that
     * carries h through h_t = h_{t-1} + u_t (h~_t - h_{t-1}).
     */
    op: string;
    /** onnxBlocks[j] = the PyTorch gate block that ONNX's block j is (for 'Scan', of the exported MatMul's weight). */
    fromTorch: readonly number[];
    /** Extra int attributes (GRU: PyTorch applies r after the recurrent matmul). */
    ints?: Readonly<Record<string, number>>;
    strings?: Readonly<Record<string, readonly string[]>>;
    /** The order of the peephole vectors in the operator's P input, for a kind with peepholes. */
    peepholes?: readonly PeepholeGate[];
  };
}

/** PyTorch's names, shared by its RNN, LSTM and GRU. */
export function torchParamNames(layer: number, reverse = false): ParamNames {
  const sfx = `_l${layer}${reverse ? '_reverse' : ''}`;
  return { weightIh: `weight_ih${sfx}`, weightHh: `weight_hh${sfx}`, biasIh: `bias_ih${sfx}`, biasHh: `bias_hh${sfx}` };
}

const RNN_KERNELS: Record<Nonlinearity, RecurrentKind> = { tanh: 'rnn_tanh', relu: 'rnn_relu', sigmoid: 'rnn_sigmoid' };

export const CELL_KINDS: { readonly [K in CellKind]: CellKindSpec & { kind: K } } = {
  lstm: {
    kind: 'lstm',
    name: 'LSTM',
    article: 'an LSTM',
    gates: ['i', 'f', 'g', 'o'],
    scan: null,
    cellState: true,
    foldsHh: true,
    actBlocks: 4,
    fused: () => 'lstm',
    params: torchParamNames,
    tfOptions: { offsetGate: 'f' },
    onnx: { op: 'LSTM', fromTorch: [0, 3, 1, 2], peepholes: ['i', 'o', 'f'] }, // ONNX: i, o, f, c(g); P[iof]
  },
  gru: {
    kind: 'gru',
    name: 'GRU',
    article: 'a GRU',
    gates: ['r', 'z', 'n'],
    scan: null,
    cellState: false,
    foldsHh: false,
    actBlocks: 4,
    fused: () => 'gru',
    params: torchParamNames,
    tfOptions: null,
    onnx: { op: 'GRU', fromTorch: [1, 0, 2], ints: { linear_before_reset: 1 } }, // ONNX: z, r, h(n)
  },
  rnn: {
    kind: 'rnn',
    name: 'RNN',
    article: 'an RNN',
    gates: ['h'],
    scan: null,
    cellState: false,
    foldsHh: true,
    actBlocks: 0,
    fused: (nl) => RNN_KERNELS[nl],
    params: torchParamNames,
    tfOptions: null,
    // recur exports tanh RNNs only (ONNX's default would be Tanh as well; said for readers of the graph)
    onnx: { op: 'RNN', fromTorch: [0], strings: { activations: ['Tanh'] } },
  },
  // Feng et al. 2024, "Were RNNs All We Needed?": gates from x_t only, so a layer is one GEMM and a linear scan
  mingru: {
    kind: 'mingru',
    name: 'MinGRU',
    article: 'a MinGRU',
    gates: ['z', 'h'],
    scan: 'mingru',
    cellState: false,
    foldsHh: false,
    actBlocks: 0,
    fused: null,
    params: torchParamNames,
    tfOptions: null,
    onnx: { op: 'Scan', fromTorch: [0, 1] },
  },
  minlstm: {
    kind: 'minlstm',
    name: 'MinLSTM',
    article: 'a MinLSTM',
    gates: ['f', 'i', 'h'],
    scan: 'minlstm',
    cellState: false,
    foldsHh: false,
    actBlocks: 0,
    fused: null,
    params: torchParamNames,
    tfOptions: null,
    onnx: { op: 'Scan', fromTorch: [0, 1, 2] },
  },
};

/** Every kind, in the registry's order (the CLI's choices, messages). */
export const CELL_KIND_NAMES = Object.keys(CELL_KINDS) as CellKind[];

export function isCellKind(s: unknown): s is CellKind {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(CELL_KINDS, s);
}

/** "lstm, gru or rnn" */
export function cellKindChoices(): string {
  return CELL_KIND_NAMES.slice(0, -1).join(', ') + ' or ' + CELL_KIND_NAMES[CELL_KIND_NAMES.length - 1];
}

/** The kind whose W_hh stacks `blocks` gate blocks (a step kind), or, with `scan`, whose W_ih does and which has no W_hh. */
export function cellKindOfGateBlocks(blocks: number, scan = false): CellKind | undefined {
  return CELL_KIND_NAMES.find((k) => CELL_KINDS[k].gates.length === blocks && !!CELL_KINDS[k].scan === scan);
}

/** What the storage-level step (ops/recurrent-step.ts) needs for this kind; a step kind only. */
export function fusedCell(kind: CellKind, nonlinearity: Nonlinearity = 'tanh'): FusedCell {
  const s = CELL_KINDS[kind];
  if (!s.fused) throw new Error(`fusedCell: ${s.name} is a scan kind and has no step kernel`);
  return { kind: s.fused(nonlinearity), gates: s.gates.length, actBlocks: s.actBlocks, cellState: s.cellState, foldsHh: s.foldsHh };
}

/** What the batch-1 stepper runs for this kind: its fused step, or its scan kernel. */
export function layerCell(kind: CellKind, nonlinearity: Nonlinearity = 'tanh'): LayerCell {
  const s = CELL_KINDS[kind];
  return s.scan ? { scan: s.scan, gates: s.gates.length, cellState: false } : fusedCell(kind, nonlinearity);
}

/**
 * Layer l's peephole weights' names: weight_ci, weight_cf, weight_co with the
 * suffix of weight_ih_l{k}[_reverse]. recur's own names (PyTorch's LSTM has
 * no peepholes), after PyTorch's pattern.
 */
export function peepholeParamNames(layer: number, reverse = false): Record<PeepholeGate, string> {
  const sfx = torchParamNames(layer, reverse).weightIh.slice('weight_ih'.length);
  return { i: `weight_ci${sfx}`, f: `weight_cf${sfx}`, o: `weight_co${sfx}` };
}

/** The gate block (in PyTorch's order) that a kind's forget-gate offset shifts; throws for a kind without TensorFlow's LSTM options. */
export function offsetGateBlock(kind: CellKind): number {
  const s = CELL_KINDS[kind];
  if (!s.tfOptions) throw new Error(`${s.name} has no forget-gate offset`);
  return s.gates.indexOf(s.tfOptions.offsetGate);
}

/** Layer l's parameters by name with their shapes, in state-dict order: PyTorch's four, then (`peepholes`, LSTM only) recur's peephole weights. */
export function layerParamShapes(
  kind: CellKind,
  layer: number,
  inputSize: number,
  hidden: number,
  opts: { reverse?: boolean; bias?: boolean; peepholes?: boolean } = {},
): Record<string, number[]> {
  const s = CELL_KINDS[kind];
  const n = s.params(layer, opts.reverse);
  const G = s.gates.length * hidden;
  const hh = !s.scan;
  const shapes: Record<string, number[]> = { [n.weightIh]: [G, inputSize] };
  if (hh) shapes[n.weightHh] = [G, hidden];
  if (opts.bias ?? true) {
    shapes[n.biasIh] = [G];
    if (hh) shapes[n.biasHh] = [G];
  }
  if (opts.peepholes) {
    if (!s.tfOptions) throw new Error(`${s.name}: only an LSTM has peepholes`);
    for (const name of Object.values(peepholeParamNames(layer, opts.reverse))) shapes[name] = [hidden];
  }
  return shapes;
}

/** Reorder the gate blocks of a [G*H, ...] PyTorch weight or bias into ONNX's order. */
export function toOnnxGateOrder(kind: CellKind, data: Float32Array): Float32Array {
  return permuteBlocks(data, CELL_KINDS[kind].onnx.fromTorch);
}

/** ONNX's gate order back to PyTorch's (the inverse of toOnnxGateOrder). */
export function fromOnnxGateOrder(kind: CellKind, data: Float32Array): Float32Array {
  const from = CELL_KINDS[kind].onnx.fromTorch;
  const inverse = from.map((_, j) => from.indexOf(j));
  return permuteBlocks(data, inverse);
}

function permuteBlocks(data: Float32Array, from: readonly number[]): Float32Array {
  const block = data.length / from.length;
  const out = new Float32Array(data.length);
  from.forEach((f, to) => out.set(data.subarray(f * block, (f + 1) * block), to * block));
  return out;
}
