/**
 * A LanguageModel as a standard ONNX graph (opset 17), with ONNX's own LSTM / GRU /
 * RNN operators, one per layer, so any ONNX runtime runs it.
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
import { CELL_KINDS, toOnnxGateOrder } from '../nn/rnn/kinds.js';

export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10+) is the oldest that may use opset 17; runtimes read it widely. */
const IR_VERSION = 8;

// TensorProto.DataType and AttributeProto.AttributeType values used here.
const FLOAT = 1,
  INT64 = 7;
const ATTR_INT = 2,
  ATTR_STRINGS = 8,
  ATTR_INTS = 7;

type Attr = { name: string; type: number; i?: number; ints?: number[]; strings?: Uint8Array[] };
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

const int = (name: string, i: number): Attr => ({ name, type: ATTR_INT, i });
const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR_INTS, ints: v });
const strings = (name: string, v: string[]): Attr => ({ name, type: ATTR_STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) });

/** float32 little-endian bytes, whatever the host's byte order. */
function rawFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

export interface OnnxExportOptions {
  /** 'optional' (default): initial states default to zeros; 'required': they are plain inputs. */
  states?: 'optional' | 'required';
  producerVersion?: string;
}

/** The ONNX graph of a LanguageModel as plain objects shaped like onnx.proto's messages. */
export function lmOnnxModel(model: LanguageModel, vocab: LMTokenizer, opts: OnnxExportOptions = {}): Record<string, unknown> {
  const optional = (opts.states ?? 'optional') === 'optional';
  if (!optional && opts.states !== 'required') throw new Error(`states must be 'optional' or 'required', got '${opts.states}'`);
  const { vocabSize: V, model: cell, layers: L, hidden: H, embed: E } = model.config;
  const rnn = model.rnn;
  if (!rnn) throw new Error('a block model cannot be exported to ONNX yet');
  if (rnn.bidirectional) throw new Error('a bidirectional model cannot be exported as a char LM');
  const spec = CELL_KINDS[cell];
  // the registry's ONNX entry (operator, attributes) describes the default, tanh, kernel
  if (!spec.fused) throw new Error(`${spec.article} model cannot be exported to ONNX yet`);
  if (rnn.kind !== spec.fused('tanh')) throw new Error('only tanh RNN layers are exported');
  const gates = spec.gates.length;
  const { op } = spec.onnx;
  const reorderGates = (d: Float32Array): Float32Array => toOnnxGateOrder(cell, d);
  const nodes: NodeSpec[] = [];
  const inits: TensorSpec[] = [];
  const node = (op_type: string, input: string[], output: string[], attribute: Attr[] = []): void => {
    nodes.push({ op_type, input, output, name: `${op_type}_${nodes.length}`, attribute });
  };
  const floats = (name: string, dims: number[], data: ArrayLike<number>): string => {
    inits.push({ name, dims, data_type: FLOAT, raw_data: rawFloat32(data) });
    return name;
  };
  const int64s = (name: string, data: number[], dims = [data.length]): string => {
    inits.push({ name, dims, data_type: INT64, int64_data: data });
    return name;
  };
  const data = (t: Tensor | null): Float32Array => (t ? t.toFloat32Array() : new Float32Array(gates * H));

  // tokens [B, T] -> inputs [B, T, I]: an embedding lookup, or one-hot vectors (embed 0, as min-char-rnn)
  if (E > 0) {
    node('Gather', [floats('embedding.weight', [V, E], model.embedding!.weight.toFloat32Array()), 'tokens'], ['x_bti'], [int('axis', 0)]);
  } else {
    node('OneHot', ['tokens', int64s('onehot_depth', [V], []), floats('onehot_values', [2], [0, 1])], ['x_bti'], [int('axis', -1)]);
  }
  // ONNX's recurrent ops take time-major input ([T, B, I]; layout=1 is not supported by every runtime)
  node('Transpose', ['x_bti'], ['x0'], [ints('perm', [1, 0, 2])]);

  // initial states [L, B, H]: as given, or (optional states) the [L, 1, H] zero default broadcast to the batch
  const stateNames = spec.cellState ? ['h0', 'c0'] : ['h0'];
  const zero = int64s('zero', [0]);
  let full = (s: string): string => s;
  if (optional) {
    node('Shape', ['tokens'], ['tokens_shape']);
    node('Slice', ['tokens_shape', zero, int64s('one', [1])], ['batch']);
    node('Concat', [int64s('layers_dim', [L]), 'batch', int64s('hidden_dim', [H])], ['state_shape'], [int('axis', 0)]);
    for (const s of stateNames) {
      floats(s, [L, 1, H], new Float32Array(L * H));
      node('Expand', [s, 'state_shape'], [`${s}_full`]);
    }
    full = (s) => `${s}_full`;
  }

  let x = 'x0';
  const hn: string[] = [],
    cn: string[] = [];
  for (let l = 0; l < L; l++) {
    const w = rnn.weights(l, 0);
    const I = w.weightIh.shape[1];
    const W = floats(`W_l${l}`, [1, gates * H, I], reorderGates(data(w.weightIh)));
    const R = floats(`R_l${l}`, [1, gates * H, H], reorderGates(data(w.weightHh)));
    const bias = new Float32Array(2 * gates * H);
    bias.set(reorderGates(data(w.biasIh)), 0);
    bias.set(reorderGates(data(w.biasHh)), gates * H);
    const B = floats(`B_l${l}`, [1, 2 * gates * H], bias);
    const start = int64s(`layer${l}_start`, [l]),
      end = int64s(`layer${l}_end`, [l + 1]);
    const init = stateNames.map((s) => {
      node('Slice', [full(s), start, end, zero], [`${s}_l${l}`]); // [1, B, H]: num_directions first
      return `${s}_l${l}`;
    });
    const attrs = [int('hidden_size', H)];
    for (const [name, i] of Object.entries(spec.onnx.ints ?? {})) attrs.push(int(name, i));
    for (const [name, v] of Object.entries(spec.onnx.strings ?? {})) attrs.push(strings(name, [...v]));
    // inputs: X, W, R, B, sequence_lens (none), initial_h[, initial_c]; outputs Y [T, 1, B, H], Y_h[, Y_c]
    const outs = [`Y_l${l}`, `hn_l${l}`, ...(spec.cellState ? [`cn_l${l}`] : [])];
    node(op, [x, W, R, B, '', ...init], outs, attrs);
    hn.push(`hn_l${l}`);
    if (spec.cellState) cn.push(`cn_l${l}`);
    node('Squeeze', [`Y_l${l}`, int64s(`squeeze_axes_l${l}`, [1])], [`x${l + 1}`]);
    x = `x${l + 1}`;
  }
  node('Concat', hn, ['hn'], [int('axis', 0)]);
  if (spec.cellState) node('Concat', cn, ['cn'], [int('axis', 0)]);

  // the output layer on [B, T, H]: x W^T + b
  const headW = model.head.weight.toFloat32Array(); // [V, H]
  const headWT = new Float32Array(H * V);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) headWT[h * V + v] = headW[v * H + h];
  node('Transpose', [x], ['y_bth'], [ints('perm', [1, 0, 2])]);
  node('MatMul', ['y_bth', floats('head.weight_t', [H, V], headWT)], ['logits_nobias']);
  node('Add', ['logits_nobias', floats('head.bias', [V], model.head.bias ? model.head.bias.toFloat32Array() : new Float32Array(V))], ['logits']);

  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const value = (name: string, elem: number, dims: (number | string)[], doc: string) => ({
    name,
    doc_string: doc,
    type: { tensor_type: { elem_type: elem, shape: { dim: dims.map(dim) } } },
  });
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
    graph: { name: 'recur_charlm', node: nodes, initializer: inits, input: inputs, output: outputs },
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
