/**
 * A LanguageModel as a standard ONNX graph (opset 17), so any ONNX runtime
 * runs it: ONNX's own LSTM / GRU / RNN operators, one per layer, for the step
 * kinds (an LSTM's peepholes are the operator's P input, its forgetBias is
 * folded into the forget gate's bias); for the scan kinds (minGRU, minLSTM),
 * whose gates read only x_t, one MatMul for every step's gates, elementwise
 * gate arithmetic over the whole sequence, and a Scan that carries h through
 * time (see scanLayer). The block form (config.blocks) writes each block's cell the same way, between
 * RMSNorms, residual adds and a GELU feed-forward built from elementwise
 * operators (see blockStack).
 *
 *   inputs   tokens  int64 [batch, seq]        (batch-major, as LanguageModel.forward)
 *            h0      float [layers, batch, H]  the initial state (see `states`); of a block model, a row per block
 *            c0      float [layers, batch, H]  LSTM only, likewise
 *   outputs  logits  float [batch, seq, vocab]
 *            hn, cn  float [layers, batch, H]  the final states (cn for LSTM)
 *
 * `states: 'optional'` (the default): h0/c0 are graph inputs that also have
 * an initializer of the same name, which ONNX takes as the input's default
 * and runtimes let the caller override (ONNX Runtime's "overridable
 * initializers"). The default is [layers, 1, H] zeros, broadcast to the
 * batch with Expand, so one graph serves every batch size. ONNX Runtime's
 * JavaScript API cannot feed such inputs, though (it accepts only names in
 * `session.inputNames`, which leaves them out), so `states: 'required'`
 * makes them plain inputs that must always be fed (zeros to start).
 *
 * The protobuf is written by protobufjs against ONNX's own onnx.proto
 * (vendored in ./onnx-schema/), never by hand. Node only (it reads the
 * schema file); used by `recur export`.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { LanguageModel } from '../models/charlm.js';
import type { RecurrentBlock } from '../models/blocks.js';
import { describeArchitecture, lmShapes } from '../models/config.js';
import { savedSpec, type LMTokenizer } from '../text/tokenizers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ScanKind } from '../backend/backend.js';
import { peepholeTensors, type CellWeights, type LstmExtras, type Peepholes } from '../ops/recurrent.js';
import { GELU_TANH } from '../backend/kernel-constants.js';
import { CELL_KINDS, offsetGateBlock, toOnnxGateOrder, type CellKind } from '../nn/rnn/kinds.js';
import type { RecurrentBase } from '../nn/rnn/layers.js';
import type { Linear, RMSNorm } from '../nn/layers.js';

/** The ONNX opset the exported graphs import (the default domain's only). */
export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10+) is the oldest that may use opset 17; runtimes read it widely. */
const IR_VERSION = 8;

// TensorProto.DataType and AttributeProto.AttributeType values used here.
const FLOAT = 1,
  INT64 = 7;
const ATTR_INT = 2,
  ATTR_GRAPH = 5,
  ATTR_INTS = 7,
  ATTR_STRINGS = 8;

type Attr = { name: string; type: number; i?: number; ints?: number[]; strings?: Uint8Array[]; g?: GraphSpec };
interface NodeSpec {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Attr[];
}
interface TensorSpec {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  int64_data?: number[];
}
interface ValueSpec {
  name: string;
  doc_string?: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}
interface GraphSpec {
  name: string;
  node: NodeSpec[];
  initializer: TensorSpec[];
  input: ValueSpec[];
  output: ValueSpec[];
}

const int = (name: string, i: number): Attr => ({ name, type: ATTR_INT, i });
const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR_INTS, ints: v });
const strings = (name: string, v: string[]): Attr => ({ name, type: ATTR_STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) });
const graphAttr = (name: string, g: GraphSpec): Attr => ({ name, type: ATTR_GRAPH, g });

const value = (name: string, elem: number, dims: (number | string)[], doc = ''): ValueSpec => ({
  name,
  doc_string: doc,
  type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
});

/** float32 little-endian bytes, whatever the host's byte order. */
function rawFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** A [rows, cols] row-major matrix as [cols, rows]: MatMul's right operand is W^T. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * The nodes and initializers of one graph; `prefix` keeps a subgraph's node
 * and value names apart from its parent's. Initializers are shared by name
 * (the first use adds one), so a constant used in several places is one tensor.
 */
class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorSpec[] = [];
  constructor(private readonly prefix = '') {}

  node(op_type: string, input: string[], output: string[], attribute: Attr[] = []): void {
    this.nodes.push({ op_type, input, output, name: `${this.prefix}${op_type}_${this.nodes.length}`, attribute });
  }

  /** A node with one output, named `name` or after the node; returns the output's name. */
  op(op_type: string, input: string[], attribute: Attr[] = [], name?: string): string {
    const out = name ?? `${this.prefix}${op_type.toLowerCase()}_${this.nodes.length}`;
    this.node(op_type, input, [out], attribute);
    return out;
  }

  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    if (!this.has(name)) this.inits.push({ name, dims, data_type: FLOAT, raw_data: rawFloat32(data) });
    return name;
  }

  int64s(name: string, data: number[], dims = [data.length]): string {
    if (!this.has(name)) this.inits.push({ name, dims, data_type: INT64, int64_data: data });
    return name;
  }

  private has(name: string): boolean {
    return this.inits.some((t) => t.name === name);
  }
}

/** One recurrent layer's output, in the layout its kind runs in, and its final states [1, B, H]. */
interface LayerOut {
  y: string;
  hn: string;
  /** For a kind with a cell state. */
  cn: string | null;
}

/** What the recurrent part hands the head: its batch-major output and each layer's (or block's) final states. */
interface Stack {
  /** [B, T, H] */
  y: string;
  /** [1, B, H] per layer */
  hn: string[];
  /** [1, B, H] per layer, for a kind with a cell state */
  cn: string[];
}

/**
 * Writes one recurrent layer on x, its initial states being row `l` of each of `states` ([L, B, H]); `l` also keeps its names apart.
 * `lstm`: an LSTM's peepholes and forget-gate offset (the scan kinds have neither).
 */
type LayerWriter = (g: GraphBuilder, cell: CellKind, w: CellWeights, l: number, x: string, states: string[], lstm: LstmExtras) => LayerOut;

/**
 * A kind's layer writer and the layout it reads and writes: ONNX's recurrent
 * operators are time-major ([T, B, ·]; layout=1 is not supported by every
 * runtime), a Scan runs over axis 1 of batch-major tensors. What a block
 * puts between layers (norms, feed-forwards, residual adds) acts on the last
 * axis, so it runs in either.
 */
function layerWriter(cell: CellKind): { timeMajor: boolean; write: LayerWriter } {
  return CELL_KINDS[cell].scan ? { timeMajor: false, write: scanLayer } : { timeMajor: true, write: opLayer };
}

/** [B, T, ·] to [T, B, ·] or back. */
const swapBT = (g: GraphBuilder, x: string, name?: string): string => g.op('Transpose', [x], [ints('perm', [1, 0, 2])], name);

function stackOf(y: string, outs: LayerOut[]): Stack {
  return { y, hn: outs.map((o) => o.hn), cn: outs.flatMap((o) => (o.cn === null ? [] : [o.cn])) };
}

/** Options of {@link exportLMOnnx}. */
export interface OnnxExportOptions {
  /** 'optional' (default): initial states default to zeros; 'required': they are plain inputs. */
  states?: 'optional' | 'required';
  /** Written to the model's producer_version (recur's version, from the CLI). */
  producerVersion?: string;
}

/** Throws unless the model's recurrent layers (the stack, or each block's cell) are ones ONNX's operators or the Scan compute as recur does. */
function checkRecurrentLayers(model: LanguageModel): void {
  const spec = CELL_KINDS[model.config.model];
  for (const layer of model.rnn ? [model.rnn] : model.blocks!.map((b) => b.cell)) {
    if (layer.bidirectional) throw new Error('a bidirectional model cannot be exported as a char LM');
    // the registry's ONNX entry (operator, attributes) describes the default, tanh, kernel
    if (spec.fused && layer.kind !== spec.fused('tanh')) throw new Error('only tanh RNN layers are exported');
  }
}

/**
 * Throws unless the model's weights are exactly those of its form (lmShapes),
 * so a model with parts this exporter does not know is refused rather than
 * exported without them.
 */
function checkWeights(model: LanguageModel): void {
  const known = Object.keys(lmShapes(model.config));
  const names = Object.keys(model.stateDict());
  const extra = names.find((n) => !known.includes(n));
  const missing = known.find((n) => !names.includes(n));
  if (extra !== undefined || missing !== undefined) {
    const what = extra !== undefined ? `has '${extra}'` : `lacks '${missing}'`;
    throw new Error(
      `only recur's language models (a plain stack or residual blocks, as built from their config) can be exported to ONNX, and this one ${what}`,
    );
  }
}

/** The ONNX graph of a LanguageModel as plain objects shaped like onnx.proto's messages. */
export function lmOnnxModel(model: LanguageModel, vocab: LMTokenizer, opts: OnnxExportOptions = {}): Record<string, unknown> {
  const optional = (opts.states ?? 'optional') === 'optional';
  if (!optional && opts.states !== 'required') throw new Error(`states must be 'optional' or 'required', got '${opts.states}'`);
  checkRecurrentLayers(model);
  checkWeights(model);
  const { vocabSize: V, model: cell, layers: L } = model.config;
  const g = new GraphBuilder();
  const names = new Map(model.namedParameters().map(([n, t]) => [t, n]));
  const x = embedTokens(g, model);
  const states = initialStates(g, model, optional);
  const { y, hn, cn } = model.blocks ? blockStack(g, names, cell, model.blocks, model.norm!, x, states) : plainStack(g, cell, model.rnn!, L, x, states);
  g.node('Concat', hn, ['hn'], [int('axis', 0)]);
  if (CELL_KINDS[cell].cellState) g.node('Concat', cn, ['cn'], [int('axis', 0)]);
  linear(g, names, y, model.head, 'logits');

  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'recur',
    producer_version: opts.producerVersion ?? '',
    doc_string: `recur char LM: ${describeArchitecture(model.config)}, vocabulary ${V}`,
    graph: { name: 'recur_charlm', node: g.nodes, initializer: g.inits, ...graphInterface(model, optional) },
    // the vocabulary (and the tokenizer's description where the list alone does not rebuild it, as for words; JSON leaves out
    // an undefined one), so a consumer can turn ids into text
    metadata_props: [
      {
        key: 'recur',
        value: JSON.stringify({ config: model.config, vocab: [...vocab.tokens], tokenizer: savedSpec(vocab) ?? undefined }),
      },
    ],
  };
}

/** The states' names, h0 (and c0 for a kind with a cell state): the graph's inputs, and their initializers when optional. */
const stateNamesOf = (model: LanguageModel): string[] => (CELL_KINDS[model.config.model].cellState ? ['h0', 'c0'] : ['h0']);

/** tokens [B, T] -> inputs [B, T, I]: an embedding lookup, or one-hot vectors (embed 0, as min-char-rnn). */
function embedTokens(g: GraphBuilder, model: LanguageModel): string {
  const { vocabSize: V, embed: E } = model.config;
  if (E > 0) {
    g.node('Gather', [g.floats('embedding.weight', [V, E], model.embedding!.weight.toFloat32Array()), 'tokens'], ['x_bti'], [int('axis', 0)]);
  } else {
    g.node('OneHot', ['tokens', g.int64s('onehot_depth', [V], []), g.floats('onehot_values', [2], [0, 1])], ['x_bti'], [int('axis', -1)]);
  }
  return 'x_bti';
}

/** The initial states [L, B, H]: as given, or (optional states) the [L, 1, H] zero default broadcast to the batch. */
function initialStates(g: GraphBuilder, model: LanguageModel, optional: boolean): string[] {
  const { layers: L, hidden: H } = model.config;
  if (!optional) return stateNamesOf(model);
  g.node('Shape', ['tokens'], ['tokens_shape']);
  g.node('Slice', ['tokens_shape', g.int64s('zero', [0]), g.int64s('one', [1])], ['batch']);
  g.node('Concat', [g.int64s('layers_dim', [L]), 'batch', g.int64s('hidden_dim', [H])], ['state_shape'], [int('axis', 0)]);
  return stateNamesOf(model).map((s) => {
    g.floats(s, [L, 1, H], new Float32Array(L * H));
    return g.op('Expand', [s, 'state_shape'], [], `${s}_full`);
  });
}

/** The graph's inputs and outputs, with their shapes and descriptions. */
function graphInterface(model: LanguageModel, optional: boolean): { input: ValueSpec[]; output: ValueSpec[] } {
  const { vocabSize: V, layers: L, hidden: H, blocks } = model.config;
  const stateDoc = (what: string) => `${what} [${blocks ? 'blocks' : 'layers'}, batch, hidden]`;
  const input = [value('tokens', INT64, ['batch', 'seq'], 'token ids [batch, seq] (vocabulary in the recur metadata)')];
  const output = [value('logits', FLOAT, ['batch', 'seq', V], 'next-token logits [batch, seq, vocab]')];
  for (const s of stateNamesOf(model)) {
    input.push(
      optional
        ? value(s, FLOAT, [L, 'state_batch', H], stateDoc(`optional initial ${s[0]} state (default zeros; batch 1 is broadcast), `))
        : value(s, FLOAT, [L, 'batch', H], stateDoc(`initial ${s[0]} state (zeros to start), `)),
    );
    output.push(value(`${s[0]}n`, FLOAT, [L, 'batch', H], stateDoc(`final ${s[0]}`)));
  }
  return { input, output };
}

/** The plain stack: its L layers one after another. */
function plainStack(g: GraphBuilder, cell: CellKind, rnn: RecurrentBase, L: number, xBti: string, states: string[]): Stack {
  const { timeMajor, write } = layerWriter(cell);
  let x = timeMajor ? swapBT(g, xBti, 'x0') : xBti;
  const outs: LayerOut[] = [];
  for (let l = 0; l < L; l++) {
    outs.push(write(g, cell, rnn.weights(l, 0), l, x, states, rnn.lstmExtras(l, 0)));
    x = outs[l].y;
  }
  return stackOf(timeMajor ? swapBT(g, x, 'y_bth') : x, outs);
}

/**
 * The block form: per block x = x + cell(RMSNorm(x)), x = x + FFN(RMSNorm(x)),
 * then the final RMSNorm. Block i's cell is a one-layer layer whose state is
 * row i of h0/c0, as LanguageModel.forward reads it.
 */
function blockStack(
  g: GraphBuilder,
  names: Map<Tensor, string>,
  cell: CellKind,
  blocks: RecurrentBlock[],
  norm: RMSNorm,
  xBti: string,
  states: string[],
): Stack {
  const { timeMajor, write } = layerWriter(cell);
  let x = timeMajor ? swapBT(g, xBti, 'x0') : xBti;
  const outs = blocks.map((block, i) => {
    const out = write(g, cell, block.cell.weights(0, 0), i, rmsNorm(g, names, x, block.norm1), states, block.cell.lstmExtras(0, 0));
    x = g.op('Add', [x, out.y]);
    const [up, down] = block.ffnLinears;
    x = g.op('Add', [x, linear(g, names, gelu(g, linear(g, names, rmsNorm(g, names, x, block.norm2), up)), down)]);
    return out;
  });
  x = rmsNorm(g, names, x, norm);
  return stackOf(timeMajor ? swapBT(g, x, 'y_bth') : x, outs);
}

/** A weight as an initializer named by its state-dict name (`suffix` marks a changed layout). */
function weightInit(g: GraphBuilder, names: Map<Tensor, string>, t: Tensor, dims: number[], data: Float32Array, suffix = ''): string {
  const name = names.get(t);
  if (name === undefined) throw new Error('internal error: a weight of the exported model is not among its parameters');
  return g.floats(name + suffix, dims, data);
}

/** x W^T + b on the last axis (`out` names the result). */
function linear(g: GraphBuilder, names: Map<Tensor, string>, x: string, layer: Linear, out?: string): string {
  const { inFeatures: I, outFeatures: O, weight, bias } = layer;
  const wt = weightInit(g, names, weight, [I, O], transposed(weight.toFloat32Array(), O, I), '_t');
  if (!bias) return g.op('MatMul', [x, wt], [], out);
  return g.op('Add', [g.op('MatMul', [x, wt]), weightInit(g, names, bias, [O], bias.toFloat32Array())], [], out);
}

/** RMSNorm on the last axis, x / sqrt(mean(x²) + eps) * weight (ReduceMean takes its axes as an attribute up to opset 17). */
function rmsNorm(g: GraphBuilder, names: Map<Tensor, string>, x: string, norm: RMSNorm): string {
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], [ints('axes', [-1]), int('keepdims', 1)]);
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.floats(`rms_norm_eps_${norm.eps}`, [], [norm.eps])])]);
  return g.op('Mul', [g.op('Div', [x, rms]), weightInit(g, names, norm.weight, [norm.dim], norm.weight.toFloat32Array())]);
}

/**
 * GELU's tanh approximation, 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))),
 * from standard operators (ONNX's Gelu arrives in opset 20), grouped as
 * recur's kernel groups it: tanh(x (c + c a x²)).
 */
function gelu(g: GraphBuilder, x: string): string {
  const c = g.floats('gelu_c', [], [GELU_TANH.C]),
    ca = g.floats('gelu_ca', [], [GELU_TANH.C * GELU_TANH.A]),
    half = g.floats('half_f', [], [0.5]);
  const th = g.op('Tanh', [g.op('Mul', [g.op('Add', [g.op('Mul', [g.op('Mul', [x, x]), ca]), c]), x])]);
  return g.op('Mul', [g.op('Add', [g.op('Mul', [th, half]), half]), x]);
}

/**
 * A layer of a step kind (LSTM, GRU, RNN): ONNX's own operator, on time-major x [T, B, I].
 * An LSTM's forget-gate offset is a constant on the gate's pre-activation, as a bias is, so it
 * is folded into the forget gate's part of the bias; its peepholes are the operator's P input.
 */
function opLayer(g: GraphBuilder, cell: CellKind, w: CellWeights, l: number, x: string, states: string[], lstm: LstmExtras): LayerOut {
  const spec = CELL_KINDS[cell];
  const [G, I] = w.weightIh.shape;
  const H = G / spec.gates.length;
  const reorderGates = (t: Tensor | null): Float32Array => toOnnxGateOrder(cell, t ? t.toFloat32Array() : new Float32Array(G));
  const W = g.floats(`W_l${l}`, [1, G, I], reorderGates(w.weightIh));
  const R = g.floats(`R_l${l}`, [1, G, H], reorderGates(w.weightHh));
  const bias = new Float32Array(2 * G);
  bias.set(reorderGates(w.biasIh), 0);
  bias.set(reorderGates(w.biasHh), G);
  if (lstm.forgetGateOffset !== 0) {
    const block = spec.onnx.fromTorch.indexOf(offsetGateBlock(cell));
    for (let j = block * H; j < (block + 1) * H; j++) bias[j] += lstm.forgetGateOffset;
  }
  const B = g.floats(`B_l${l}`, [1, 2 * G], bias);
  const P = lstm.peepholes ? g.floats(`P_l${l}`, [1, 3 * H], onnxPeepholes(cell, lstm.peepholes)) : null;
  const start = g.int64s(`layer${l}_start`, [l]),
    end = g.int64s(`layer${l}_end`, [l + 1]);
  // [1, B, H]: num_directions first
  const init = states.map((s) => g.op('Slice', [s, start, end, g.int64s('zero', [0])], [], `${s}_l${l}`));
  const attrs = [int('hidden_size', H)];
  for (const [name, i] of Object.entries(spec.onnx.ints ?? {})) attrs.push(int(name, i));
  for (const [name, v] of Object.entries(spec.onnx.strings ?? {})) attrs.push(strings(name, [...v]));
  // inputs: X, W, R, B, sequence_lens (none), initial_h[, initial_c[, P]]; outputs Y [T, 1, B, H], Y_h[, Y_c]
  const cn = spec.cellState ? `cn_l${l}` : null;
  g.node(spec.onnx.op, [x, W, R, B, '', ...init, ...(P ? [P] : [])], [`Y_l${l}`, `hn_l${l}`, ...(cn ? [cn] : [])], attrs);
  return { y: g.op('Squeeze', [`Y_l${l}`, g.int64s('axes_1', [1])], [], `y_l${l}`), hn: `hn_l${l}`, cn };
}

/** An LSTM's peephole vectors concatenated in the order of the operator's P input (ONNX: i, o, f). */
function onnxPeepholes(cell: CellKind, p: Peepholes): Float32Array {
  const order = CELL_KINDS[cell].onnx.peepholes;
  if (!order) throw new Error(`internal error: ONNX's ${CELL_KINDS[cell].onnx.op} takes no peepholes`);
  const byGate = peepholeTensors(p);
  const H = p.weightCi.size;
  const out = new Float32Array(order.length * H);
  order.forEach((gate, j) => out.set(byGate[gate].toFloat32Array(), j * H));
  return out;
}

/**
 * A layer of a scan kind (minGRU, minLSTM), on batch-major x [B, T, I]. Its
 * gates read only x_t, so all but the recurrence runs on the whole sequence
 * at once: one MatMul [B, T, I] x [I, G*H] for every step's gate
 * pre-activations, a Split into the registry's gate blocks, and the kind's
 * mixing weight u and candidate h~ as elementwise ops (SCAN_MIX). The Scan
 * body is then only h_t = h_{t-1} + u_t (h~_t - h_{t-1}), the update recur's
 * scan kernels compute, in the same order of operations. It scans axis 1,
 * the time axis, so no Transpose is needed.
 */
function scanLayer(g: GraphBuilder, cell: CellKind, w: CellWeights, l: number, x: string, states: string[]): LayerOut {
  const spec = CELL_KINDS[cell];
  const blockNames = spec.onnx.fromTorch.map((f) => spec.gates[f]);
  const [G, I] = w.weightIh.shape;
  let pre = g.op('MatMul', [x, g.floats(`W_l${l}_t`, [I, G], transposed(toOnnxGateOrder(cell, w.weightIh.toFloat32Array()), G, I))]);
  if (w.biasIh) pre = g.op('Add', [pre, g.floats(`B_l${l}`, [G], toOnnxGateOrder(cell, w.biasIh.toFloat32Array()))]);
  // no split sizes: Split (opset 13-17) cuts the axis into as many equal parts as it has outputs
  const blocks = blockNames.map((name) => `l${l}_${name}`);
  g.node('Split', [pre], blocks, [int('axis', 2)]);
  const gate = (name: string): string => {
    const j = blockNames.indexOf(name);
    if (j < 0) throw new Error(`internal error: ${spec.name} has no gate block '${name}'`);
    return blocks[j];
  };
  const init = g.op('Gather', [states[0], g.int64s(`layer${l}`, [l], [])], [int('axis', 0)], `h0_l${l}`); // [B, H]
  const hLast = `hn_l${l}_bh`,
    y = `y_l${l}`;
  const body = [
    graphAttr('body', scanStep(`l${l}_step_`, G / spec.gates.length)),
    int('num_scan_inputs', 2),
    ints('scan_input_axes', [1, 1]),
    ints('scan_output_axes', [1]),
  ];
  g.node(spec.onnx.op, [init, SCAN_MIX[spec.scan!](g, gate), gate('h')], [hLast, y], body);
  return { y, hn: g.op('Unsqueeze', [hLast, g.int64s('axes_0', [0])], [], `hn_l${l}`), cn: null };
}

/** The Scan body: state h [B, H] and one step of u and h~ in; the new h out twice, as the state and as the step's output. */
function scanStep(prefix: string, H: number): GraphSpec {
  const b = new GraphBuilder(prefix);
  const [h, u, hTilde] = ['h', 'u', 'h_tilde'].map((n) => prefix + n);
  const next = b.op('Add', [h, b.op('Mul', [u, b.op('Sub', [hTilde, h])])], [], `${prefix}h_next`);
  // a graph lists each output once, so the step's output is a copy
  const y = b.op('Identity', [next], [], `${prefix}y`);
  const io = (name: string) => value(name, FLOAT, ['batch', H]);
  return { name: `${prefix}body`, node: b.nodes, initializer: b.inits, input: [h, u, hTilde].map(io), output: [next, y].map(io) };
}

/**
 * A scan kind's mixing weight u over the whole sequence, from its gate
 * blocks (named as the registry names them), for h_t = h_{t-1} + u_t (h~_t - h_{t-1}).
 * minLSTM's u = i / (f + i) is built as σ(log σ(p_i) - log σ(p_f)), as
 * recur's kernels compute it: the quotient as written is 0 / 0 once both
 * gates round to 0, which ONNX Runtime's Sigmoid does from about -20 on
 * (float32 itself would hold σ down to about -103).
 */
const SCAN_MIX: { readonly [K in ScanKind]: (g: GraphBuilder, gate: (name: string) => string) => string } = {
  mingru: (g, gate) => g.op('Sigmoid', [gate('z')]),
  minlstm: (g, gate) => g.op('Sigmoid', [g.op('Sub', [logSigmoid(g, gate('i')), logSigmoid(g, gate('f'))])]),
};

/**
 * log σ(x) = min(x, 0) - log(1 + e^-|x|) from standard operators (ONNX has
 * no LogSigmoid): nothing in it overflows, whereas -Softplus(-x) is -inf
 * below x ≈ -88 in a runtime that computes Softplus as its definition,
 * log(e^x + 1), reads (ONNX's reference implementation does).
 */
function logSigmoid(g: GraphBuilder, x: string): string {
  const one = g.floats('one_f', [], [1]),
    zero = g.floats('zero_f', [], [0]);
  const tail = g.op('Log', [g.op('Add', [g.op('Exp', [g.op('Neg', [g.op('Abs', [x])])]), one])]);
  return g.op('Sub', [g.op('Min', [x, zero]), tail]);
}

let modelProto: protobuf.Type | null = null;

/** onnx.ModelProto from the vendored onnx.proto (parsed once). */
function onnxModelType(): protobuf.Type {
  if (!modelProto) {
    const schema = readFileSync(new URL('./onnx-schema/onnx.proto', import.meta.url), 'utf8');
    modelProto = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelProto;
}

/** Serialise a LanguageModel as an ONNX model file. */
export function exportLMOnnx(model: LanguageModel, vocab: LMTokenizer, opts: OnnxExportOptions = {}): Uint8Array {
  const type = onnxModelType();
  const obj = lmOnnxModel(model, vocab, opts);
  const err = type.verify(obj);
  if (err) throw new Error(`internal error: the ONNX model does not match onnx.proto: ${err}`);
  return type.encode(type.fromObject(obj)).finish();
}
