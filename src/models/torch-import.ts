/**
 * A PyTorch char model -> LanguageModel. The PyTorch side is a state dict (as
 * safetensors) of the shape recur's LanguageModel has: an optional nn.Embedding, one
 * nn.LSTM / nn.GRU / nn.RNN or tools/torch_interop.py's MinGRU / MinLSTM
 * (batch_first, unidirectional), an nn.Linear to the vocabulary; plus the
 * vocabulary, which a state dict does not carry. The modules may have any
 * names: the recurrent one is found by `weight_ih_l0`, the output layer is the
 * other module with a bias (an embedding has none). The cell type follows from
 * the gate blocks in `weight_hh_l0`, or, for a module without one (a scan
 * kind, whose gates read only the input), from those in `weight_ih_l0`, with
 * the hidden size read from the output layer's input width. A state dict
 * with `blocks.0.*` keys is the block form (LanguageModelConfig.blocks) under
 * recur's own names, which tools/torch_interop.py's BlockCharModel has: its
 * parts are too many to tell apart by shape, so they are found by name.
 * PyTorch's LSTM has neither peepholes nor TensorFlow's constant forget-gate
 * offset, so an imported LSTM has neither (no config.peepholes, forgetBias 0);
 * a recur LSTM that went to PyTorch (tools/torch_interop.py to-torch) had its
 * forgetBias folded into bias_ih's forget rows, and comes back that way, with
 * the same outputs. No Node imports.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { formatShape } from '../tensor/shape.js';
import { LanguageModel, type CellType, type LanguageModelConfig } from './charlm.js';
import { lmShapes } from './config.js';
import { CELL_KIND_NAMES, CELL_KINDS, cellKindOfGateBlocks, layerParamShapes, torchParamNames } from '../nn/rnn/kinds.js';
import { CharTokenizer } from '../text/tokenizers.js';
import { jsonDepth, parseJsonLimited } from '../io/json-limits.js';

/** "LSTM has 4, GRU 3, RNN 1": the step kinds' gate counts, or (scan) the scan kinds'. */
const gateCounts = (scan: boolean): string =>
  CELL_KIND_NAMES.filter((k) => !!CELL_KINDS[k].scan === scan)
    .map((k, i) => `${CELL_KINDS[k].name}${i === 0 ? ' has' : ''} ${CELL_KINDS[k].gates.length}`)
    .join(', ');

/** At most 8 keys, for a message. */
const list = (ks: string[]): string => ks.slice(0, 8).join(', ') + (ks.length > 8 ? ', ...' : '');

/** PyTorch names every kind's first layer alike, so it is found before the kind is known. */
const first = torchParamNames(0);

/** What `charLMFromTorch` made, and how it mapped the names. */
export interface TorchImport {
  /** The model, with the PyTorch weights loaded. */
  model: LanguageModel;
  /** Module prefixes renamed to recur's, e.g. { 'lstm.': 'rnn.', 'decoder.': 'head.' }. */
  renamed: Record<string, string>;
}

/**
 * Build a LanguageModel from a PyTorch state dict and its vocabulary. `model`, if
 * given, must agree with the cell type read from the weights. RNN layers are
 * taken as tanh (the state dict cannot tell tanh from relu; recur's LanguageModel
 * uses tanh). Missing recurrent biases (bias=False) become zeros. A recurrent
 * module without `weight_hh_l0` is a scan kind (MinGRU, MinLSTM): its kind is
 * the number of gate blocks in `weight_ih_l0`, of the hidden size the output
 * layer reads; a GRU, which always has `weight_hh_l0`, is never taken for a
 * MinLSTM although both stack 3 blocks. A block model (`blocks.0.*` keys) is
 * read by recur's names, its cell kind as a plain stack's is. Any other state
 * dict of several recurrent modules is refused.
 */
export function charLMFromTorch(dict: Record<string, Tensor>, vocab: CharTokenizer, opts: { model?: CellType } = {}): TorchImport {
  const keys = Object.keys(dict);
  if (keys.some((k) => k.startsWith('blocks.0.'))) return blockLMFromTorch(dict, vocab, opts);
  // what a state dict of another architecture is told
  const plain =
    'recur imports a plain stack (an optional embedding, one recurrent module and one output layer) or a block model under its own names (blocks.0.*, ...)';
  const rnnKeys = keys.filter((k) => k.endsWith(first.weightIh));
  if (rnnKeys.length === 0) throw new Error(`the state dict has no recurrent layer (no key ending in '${first.weightIh}'; it has ${list(keys)})`);
  if (rnnKeys.length > 1) throw new Error(`the state dict has ${rnnKeys.length} recurrent modules (${list(rnnKeys)}); ${plain}`);
  const rp = rnnKeys[0].slice(0, -first.weightIh.length);
  if (keys.some((k) => k.startsWith(rp) && k.endsWith('_reverse'))) {
    throw new Error('the recurrent layer is bidirectional, which cannot generate text; recur imports unidirectional models');
  }
  // the output layer: the one module besides the recurrent one with a weight and a bias
  const rest = keys.filter((k) => !k.startsWith(rp));
  const heads = rest.filter((k) => k.endsWith('.bias') && rest.includes(k.slice(0, -5) + '.weight')).map((k) => k.slice(0, -4));
  if (heads.length !== 1) {
    throw new Error(
      heads.length === 0
        ? `cannot find the output layer (a Linear with weight and bias) among ${list(rest)}`
        : `cannot tell the output layer among ${list(heads.map((h) => h + '*'))}; ${plain}`,
    );
  }
  const hp = heads[0];
  const headW = dict[hp + 'weight'];
  if (headW.shape.length !== 2) throw new Error(`'${hp}weight' has shape ${formatShape(headW.shape)}; an output layer's weight is a matrix`);
  const V = headW.shape[0];

  const { cell, H, scan } = cellKindOf(dict, rp, hp, opts.model);
  const spec = CELL_KINDS[cell];
  let layers = 0;
  while (`${rp}${spec.params(layers).weightIh}` in dict) layers++;

  checkVocabSize(vocab, V);
  if (headW.shape[1] !== H) {
    throw new Error(`'${hp}weight' has shape ${formatShape(headW.shape)} but a layer on ${H} hidden units needs [${V}, ${H}]`);
  }
  const others = rest.filter((k) => !k.startsWith(hp));
  if (others.length > 1) throw new Error(`unexpected keys besides one embedding (${list(others)}); ${plain}`);
  const emb = others[0];
  if (emb && (dict[emb].shape.length !== 2 || dict[emb].shape[0] !== V)) {
    throw new Error(`'${emb}' has shape ${formatShape(dict[emb].shape)} but an embedding of the ${V}-character vocabulary needs [${V}, size]`);
  }
  const E = emb ? dict[emb].shape[1] : 0;

  const model = new LanguageModel({ vocabSize: V, model: cell, layers, hidden: H, embed: E, dropout: 0 });
  const weights: Record<string, Tensor> = { 'head.weight': headW, 'head.bias': dict[hp + 'bias'] };
  if (emb) weights['embedding.weight'] = dict[emb];
  for (let l = 0; l < layers; l++) {
    const misfit = (name: string, t: Tensor | undefined, shape: number[]): string =>
      `'${rp}${name}' ${t ? `has shape ${formatShape(t.shape)}` : 'is missing'} but ${spec.article} of ${layers} layer(s) ` +
      `and ${H} units${scan ? ` (the width '${hp}weight' reads)` : ''} on ` +
      `${l === 0 ? (E ? `a ${E}-wide embedding` : `one-hot vectors of ${V}`) : 'the layer below'} needs ${formatShape(shape)}`;
    Object.assign(weights, layerWeights(dict, { from: rp, to: 'rnn.' }, cell, l, l === 0 ? E || V : H, H, misfit));
  }
  const extra = keys.filter((k) => k.startsWith(rp) && !(`rnn.${k.slice(rp.length)}` in weights));
  if (extra.length > 0) throw new Error(`unexpected keys in the recurrent layer: ${list(extra)}`);
  model.loadStateDict(weights);
  const renamed: Record<string, string> = {};
  if (rp !== 'rnn.') renamed[rp] = 'rnn.';
  if (hp !== 'head.') renamed[hp] = 'head.';
  if (emb && emb !== 'embedding.weight') renamed[emb.slice(0, -'weight'.length)] = 'embedding.';
  return { model, renamed };
}

function checkVocabSize(vocab: CharTokenizer, V: number): void {
  if (vocab.size !== V) throw new Error(`the vocabulary has ${vocab.size} characters but the model's output layer has ${V}`);
}

/**
 * The kind of the recurrent module under `rp`, read from its gate blocks:
 * a step kind's W_hh is [G*H, H]; a scan kind has none, so H comes from the
 * output layer under `hp`, which reads [V, H]. `want`, if given, must agree.
 */
function cellKindOf(dict: Record<string, Tensor>, rp: string, hp: string, want?: CellType): { cell: CellType; H: number; scan: boolean } {
  const wih = dict[`${rp}${first.weightIh}`];
  const whh = dict[`${rp}${first.weightHh}`];
  const headW = dict[hp + 'weight'];
  if (wih.shape.length !== 2) throw new Error(`'${rp}${first.weightIh}' has shape ${formatShape(wih.shape)}; a recurrent layer's weight is a matrix`);
  if (whh && whh.shape.length !== 2) throw new Error(`'${rp}${first.weightHh}' has shape ${formatShape(whh.shape)}; a recurrent layer's weight is a matrix`);
  const scan = !whh;
  const H = scan ? headW.shape[1] : whh.shape[1];
  const rows = scan ? wih.shape[0] : whh.shape[0];
  const blocksOf = scan
    ? `'${rp}${first.weightIh}' has shape ${formatShape(wih.shape)} and there is no '${rp}${first.weightHh}', so its gates read only the input, ` +
      `and ${rows / H} gate blocks of the ${H} hidden units '${hp}weight' ${formatShape(headW.shape)} reads`
    : `'${rp}${first.weightHh}' has shape ${formatShape(whh.shape)}, which is ${rows / H} gate blocks of ${H}`;
  const cell: CellType | undefined = H > 0 ? cellKindOfGateBlocks(rows / H, scan) : undefined;
  if (!cell) throw new Error(`unknown cell type: ${blocksOf} (${gateCounts(scan)})`);
  if (want && want !== cell) {
    const spec = CELL_KINDS[cell];
    const where = scan ? `in '${rp}${first.weightIh}' and no '${rp}${first.weightHh}'` : `in '${rp}${first.weightHh}'`;
    throw new Error(`the weights are ${spec.article} (${spec.gates.length} gate blocks ${where}), not ${CELL_KINDS[want].article}`);
  }
  return { cell, H, scan };
}

/**
 * Layer l of a recurrent module, its names moved from prefix `from` to `to`.
 * A missing bias is zeros, as PyTorch's bias=False computes; any other
 * missing or misshapen weight throws `misfit`'s sentence.
 */
function layerWeights(
  dict: Record<string, Tensor>,
  prefix: { from: string; to: string },
  cell: CellType,
  l: number,
  inputSize: number,
  H: number,
  misfit: (name: string, got: Tensor | undefined, shape: number[]) => string,
): Record<string, Tensor> {
  const names = CELL_KINDS[cell].params(l);
  const out: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(layerParamShapes(cell, l, inputSize, H))) {
    const t = dict[prefix.from + name];
    if (!t && (name === names.biasIh || name === names.biasHh)) out[prefix.to + name] = zeros(shape);
    else if (!t || formatShape(t.shape) !== formatShape(shape)) throw new Error(misfit(name, t, shape));
    else out[prefix.to + name] = t;
  }
  return out;
}

/**
 * A block model's state dict (recur's names) -> LanguageModel: the blocks
 * counted by their prefixes, the width d from the embedding [V, d], the cell
 * kind from block 0's cell; then every weight lmShapes gives the config
 * must be there with its shape (a cell's missing biases are zeros), and
 * nothing else may be.
 */
function blockLMFromTorch(dict: Record<string, Tensor>, vocab: CharTokenizer, opts: { model?: CellType }): TorchImport {
  const keys = Object.keys(dict);
  let layers = 0;
  while (keys.some((k) => k.startsWith(`blocks.${layers}.`))) layers++;
  const cp = 'blocks.0.cell.';
  for (const k of ['embedding.weight', 'head.weight', cp + first.weightIh]) {
    if (!dict[k]) throw new Error(`the state dict has blocks.0.* keys, as a block model has, but no '${k}'`);
  }
  for (const k of ['embedding.weight', 'head.weight']) {
    if (dict[k].shape.length !== 2) throw new Error(`'${k}' has shape ${formatShape(dict[k].shape)}; a matrix was expected`);
  }
  const { cell } = cellKindOf(dict, cp, 'head.', opts.model);
  checkVocabSize(vocab, dict['head.weight'].shape[0]);
  const d = dict['embedding.weight'].shape[1];
  const config: LanguageModelConfig = { vocabSize: vocab.size, model: cell, layers, hidden: d, embed: d, dropout: 0, blocks: true };
  const what = `a ${layers}-block ${CELL_KINDS[cell].name} model of width ${d} (the width 'embedding.weight' ${formatShape(dict['embedding.weight'].shape)} gives)`;
  const misfit = (name: string, t: Tensor | undefined, shape: number[]): string =>
    `'${name}' ${t ? `has shape ${formatShape(t.shape)}` : 'is missing'} but ${what} needs ${formatShape(shape)}`;
  const weights: Record<string, Tensor> = {};
  for (let i = 0; i < layers; i++) {
    const cellPrefix = `blocks.${i}.cell.`;
    const cellMisfit = (name: string, t: Tensor | undefined, shape: number[]): string => misfit(cellPrefix + name, t, shape);
    Object.assign(weights, layerWeights(dict, { from: cellPrefix, to: cellPrefix }, cell, 0, d, d, cellMisfit));
  }
  for (const [name, shape] of Object.entries(lmShapes(config))) {
    if (name in weights) continue;
    const t = dict[name];
    if (!t || formatShape(t.shape) !== formatShape(shape)) throw new Error(misfit(name, t, shape));
    weights[name] = t;
  }
  const extra = keys.filter((k) => !(k in weights));
  if (extra.length > 0) throw new Error(`unexpected keys for ${what}: ${list(extra)}`);
  const model = new LanguageModel(config);
  model.loadStateDict(weights);
  return { model, renamed: {} };
}

/**
 * A vocabulary file: a JSON list of characters (index order), a JSON object
 * mapping characters to indices (a Python script's `stoi`), or plain UTF-8
 * text that is the characters themselves in index order (`''.join(chars)`).
 */
export function parseVocab(text: string): CharTokenizer {
  let v: unknown;
  if (/^\s*[[{]/.test(text)) {
    const depth = jsonDepth(text);
    // a list or a {char: index} object nests once; a deeper text is not a vocabulary
    if (depth > 2) throw new Error(`it nests ${depth} levels deep; a vocabulary is a flat JSON list or object`);
    try {
      v = parseJsonLimited(text, 'the vocabulary');
    } catch {
      v = undefined; // not JSON: the characters themselves
    }
  }
  let chars: string[];
  if (Array.isArray(v)) {
    if (!v.every((c) => typeof c === 'string')) throw new Error('the vocabulary list has entries that are not strings');
    chars = v as string[];
  } else if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    chars = new Array<string>(entries.length);
    for (const [c, i] of entries) {
      if (!(Number.isInteger(i) && (i as number) >= 0 && (i as number) < entries.length) || chars[i as number] !== undefined) {
        throw new Error(`the vocabulary maps ${JSON.stringify(c)} to ${JSON.stringify(i)}; indices must be 0 to ${entries.length - 1}, each once`);
      }
      chars[i as number] = c;
    }
  } else {
    chars = [...text];
  }
  return new CharTokenizer(chars);
}
