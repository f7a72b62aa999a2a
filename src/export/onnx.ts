/**
 * A LanguageModel as a standard ONNX graph (opset 17), so any ONNX runtime
 * runs it: ONNX's own LSTM / GRU / RNN operators, one per layer, for the step
 * kinds; for the scan kinds (minGRU, minLSTM), whose gates read only x_t, one
 * MatMul for every step's gates, elementwise gate arithmetic over the whole
 * sequence, and a Scan that carries h through time (see scanLayers).
 *
 *   inputs   tokens  int64 [batch, seq]        (batch-major, as LanguageModel.forward)
 *            h0      float [layers, batch, H]  the initial state (see `states`)
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
import { savedSpec, type LMTokenizer } from '../text/tokenizers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ScanKind } from '../backend/backend.js';
import { CELL_KINDS, layerParamShapes, toOnnxGateOrder } from '../nn/rnn/kinds.js';
import type { RecurrentBase } from '../nn/rnn/layers.js';

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

/** What a stack of layers hands the head: its batch-major output and each layer's final states. */
interface Stack {
  /** [B, T, H] */
  y: string;
  /** [1, B, H] per layer */
  hn: string[];
  /** [1, B, H] per layer, for a kind with a cell state */
  cn: string[];
}

/** Options of {@link exportLMOnnx}. */
export interface OnnxExportOptions {
  /** 'optional' (default): initial states default to zeros; 'required': they are plain inputs. */
  states?: 'optional' | 'required';
  /** Written to the model's producer_version (recur's version, from the CLI). */
  producerVersion?: string;
}

/**
 * Throws unless every weight of the model is one this exporter writes
 * (embedding or none, the recurrent layers, the head), so a model of another
 * form is refused rather than exported without the parts it does not know.
 */
function checkPlainStack(model: LanguageModel): void {
  const { vocabSize: V, model: cell, layers: L, hidden: H, embed: E } = model.config;
  const known = new Set(['head.weight', 'head.bias', ...(E > 0 ? ['embedding.weight'] : [])]);
  for (let l = 0; l < L; l++) for (const name of Object.keys(layerParamShapes(cell, l, l === 0 ? E || V : H, H))) known.add(`rnn.${name}`);
  const names = Object.keys(model.stateDict());
  const extra = names.find((n) => !known.has(n));
  const missing = [...known].find((n) => !names.includes(n));
  if (extra !== undefined || missing !== undefined) {
    const what = extra !== undefined ? `has '${extra}'` : `lacks '${missing}'`;
    throw new Error(`only a plain language model (embedding, recurrent layers, output layer) can be exported to ONNX, and this one ${what}`);
  }
}

/** The ONNX graph of a LanguageModel as plain objects shaped like onnx.proto's messages. */
export function lmOnnxModel(model: LanguageModel, vocab: LMTokenizer, opts: OnnxExportOptions = {}): Record<string, unknown> {
  const optional = (opts.states ?? 'optional') === 'optional';
  if (!optional && opts.states !== 'required') throw new Error(`states must be 'optional' or 'required', got '${opts.states}'`);
  const { vocabSize: V, model: cell, layers: L, hidden: H, embed: E } = model.config;
  if (!model.rnn) throw new Error('a block model (--blocks) cannot be exported to ONNX yet; export a plain stack');
  if (model.rnn.bidirectional) throw new Error('a bidirectional model cannot be exported as a char LM');
  checkPlainStack(model);
  const spec = CELL_KINDS[cell];
  // the registry's ONNX entry (operator, attributes) describes the default, tanh, kernel
  if (spec.fused && model.rnn.kind !== spec.fused('tanh')) throw new Error('only tanh RNN layers are exported');
  const g = new GraphBuilder();

  // tokens [B, T] -> inputs [B, T, I]: an embedding lookup, or one-hot vectors (embed 0, as min-char-rnn)
  if (E > 0) {
    g.node('Gather', [g.floats('embedding.weight', [V, E], model.embedding!.weight.toFloat32Array()), 'tokens'], ['x_bti'], [int('axis', 0)]);
  } else {
    g.node('OneHot', ['tokens', g.int64s('onehot_depth', [V], []), g.floats('onehot_values', [2], [0, 1])], ['x_bti'], [int('axis', -1)]);
  }

  // initial states [L, B, H]: as given, or (optional states) the [L, 1, H] zero default broadcast to the batch
  const stateNames = spec.cellState ? ['h0', 'c0'] : ['h0'];
  let states = stateNames;
  if (optional) {
    g.node('Shape', ['tokens'], ['tokens_shape']);
    g.node('Slice', ['tokens_shape', g.int64s('zero', [0]), g.int64s('one', [1])], ['batch']);
    g.node('Concat', [g.int64s('layers_dim', [L]), 'batch', g.int64s('hidden_dim', [H])], ['state_shape'], [int('axis', 0)]);
    states = stateNames.map((s) => {
      g.floats(s, [L, 1, H], new Float32Array(L * H));
      return g.op('Expand', [s, 'state_shape'], [], `${s}_full`);
    });
  }

  const { y, hn, cn } = spec.scan ? scanLayers(g, model, model.rnn, spec.scan, 'x_bti', states[0]) : opLayers(g, model, model.rnn, 'x_bti', states);
  g.node('Concat', hn, ['hn'], [int('axis', 0)]);
  if (spec.cellState) g.node('Concat', cn, ['cn'], [int('axis', 0)]);

  // the output layer on [B, T, H]: x W^T + b
  const headWT = transposed(model.head.weight.toFloat32Array(), V, H);
  g.node('MatMul', [y, g.floats('head.weight_t', [H, V], headWT)], ['logits_nobias']);
  g.node('Add', ['logits_nobias', g.floats('head.bias', [V], model.head.bias ? model.head.bias.toFloat32Array() : new Float32Array(V))], ['logits']);

  const stateDoc = (what: string) => `${what} [layers, batch, hidden]`;
  const inputs = [value('tokens', INT64, ['batch', 'seq'], 'token ids [batch, seq] (vocabulary in the recur metadata)')];
  for (const s of stateNames) {
    inputs.push(
      optional
        ? value(s, FLOAT, [L, 'state_batch', H], stateDoc(`optional initial ${s[0]} state (default zeros; batch 1 is broadcast), `))
        : value(s, FLOAT, [L, 'batch', H], stateDoc(`initial ${s[0]} state (zeros to start), `)),
    );
  }
  const outputs = [
    value('logits', FLOAT, ['batch', 'seq', V], 'next-token logits [batch, seq, vocab]'),
    value('hn', FLOAT, [L, 'batch', H], stateDoc('final h')),
  ];
  if (spec.cellState) outputs.push(value('cn', FLOAT, [L, 'batch', H], stateDoc('final c')));

  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'recur',
    producer_version: opts.producerVersion ?? '',
    doc_string: `recur char LM: ${L} x ${H} ${spec.name}, ${E > 0 ? `embedding ${E}` : 'one-hot input'}, vocabulary ${V}`,
    graph: { name: 'recur_charlm', node: g.nodes, initializer: g.inits, input: inputs, output: outputs },
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

/** The layers of a step kind (LSTM, GRU, RNN): ONNX's own operator for each, on time-major input. */
function opLayers(g: GraphBuilder, model: LanguageModel, rnn: RecurrentBase, xBti: string, states: string[]): Stack {
  const { model: cell, layers: L, hidden: H } = model.config;
  const spec = CELL_KINDS[cell];
  const gates = spec.gates.length;
  const reorderGates = (d: Float32Array): Float32Array => toOnnxGateOrder(cell, d);
  const data = (t: Tensor | null): Float32Array => (t ? t.toFloat32Array() : new Float32Array(gates * H));
  // ONNX's recurrent ops take time-major input ([T, B, I]; layout=1 is not supported by every runtime)
  g.node('Transpose', [xBti], ['x0'], [ints('perm', [1, 0, 2])]);
  let x = 'x0';
  const hn: string[] = [],
    cn: string[] = [];
  for (let l = 0; l < L; l++) {
    const w = rnn.weights(l, 0);
    const I = w.weightIh.shape[1];
    const W = g.floats(`W_l${l}`, [1, gates * H, I], reorderGates(data(w.weightIh)));
    const R = g.floats(`R_l${l}`, [1, gates * H, H], reorderGates(data(w.weightHh)));
    const bias = new Float32Array(2 * gates * H);
    bias.set(reorderGates(data(w.biasIh)), 0);
    bias.set(reorderGates(data(w.biasHh)), gates * H);
    const B = g.floats(`B_l${l}`, [1, 2 * gates * H], bias);
    const start = g.int64s(`layer${l}_start`, [l]),
      end = g.int64s(`layer${l}_end`, [l + 1]);
    // [1, B, H]: num_directions first
    const init = states.map((s) => g.op('Slice', [s, start, end, g.int64s('zero', [0])], [], `${s}_l${l}`));
    const attrs = [int('hidden_size', H)];
    for (const [name, i] of Object.entries(spec.onnx.ints ?? {})) attrs.push(int(name, i));
    for (const [name, v] of Object.entries(spec.onnx.strings ?? {})) attrs.push(strings(name, [...v]));
    // inputs: X, W, R, B, sequence_lens (none), initial_h[, initial_c]; outputs Y [T, 1, B, H], Y_h[, Y_c]
    const outs = [`Y_l${l}`, `hn_l${l}`, ...(spec.cellState ? [`cn_l${l}`] : [])];
    g.node(spec.onnx.op, [x, W, R, B, '', ...init], outs, attrs);
    hn.push(`hn_l${l}`);
    if (spec.cellState) cn.push(`cn_l${l}`);
    x = g.op('Squeeze', [`Y_l${l}`, g.int64s(`squeeze_axes_l${l}`, [1])], [], `x${l + 1}`);
  }
  return { y: g.op('Transpose', [x], [ints('perm', [1, 0, 2])], 'y_bth'), hn, cn };
}

/**
 * The layers of a scan kind (minGRU, minLSTM). Their gates read only x_t,
 * so all but the recurrence runs on the whole batch-major sequence at once:
 * one MatMul [B, T, I] x [I, G*H] for every step's gate pre-activations, a
 * Split into the registry's gate blocks, and the kind's mixing weight u and
 * candidate h~ as elementwise ops (SCAN_MIX). The Scan body is then only
 * h_t = h_{t-1} + u_t (h~_t - h_{t-1}), the update recur's scan kernels
 * compute, in the same order of operations. It scans axis 1, the time axis
 * of batch-major tensors, so no Transpose is needed.
 */
function scanLayers(g: GraphBuilder, model: LanguageModel, rnn: RecurrentBase, scan: ScanKind, xBti: string, h0: string): Stack {
  const { model: cell, layers: L, hidden: H } = model.config;
  const spec = CELL_KINDS[cell];
  const blockNames = spec.onnx.fromTorch.map((f) => spec.gates[f]);
  let x = xBti;
  const hn: string[] = [];
  for (let l = 0; l < L; l++) {
    const w = rnn.weights(l, 0);
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
    const init = g.op('Gather', [h0, g.int64s(`layer${l}`, [l], [])], [int('axis', 0)], `h0_l${l}`); // [B, H]
    const hLast = `hn_l${l}_bh`,
      y = `y_l${l}`;
    const body = [graphAttr('body', scanStep(`l${l}_step_`, H)), int('num_scan_inputs', 2), ints('scan_input_axes', [1, 1]), ints('scan_output_axes', [1])];
    g.node(spec.onnx.op, [init, SCAN_MIX[scan](g, gate), gate('h')], [hLast, y], body);
    hn.push(g.op('Unsqueeze', [hLast, g.int64s('axes_0', [0])], [], `hn_l${l}`));
    x = y;
  }
  return { y: x, hn, cn: [] };
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
