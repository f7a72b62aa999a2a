/** The interop subcommands: import-torch (a PyTorch state dict -> a checkpoint) and export (a checkpoint -> ONNX). */
import { basename } from 'node:path';
import { readSafetensorsWithMetadata } from '../io/safetensors.js';
import { encodeCheckpoint } from '../models/checkpoint.js';
import { charLMFromTorch, parseVocab } from '../models/torch-import.js';
import { describeArchitecture, type CellType } from '../models/charlm.js';
import { CELL_KINDS } from '../nn/rnn/kinds.js';
import type { CharTokenizer } from '../text/tokenizers.js';
import type { Tensor } from '../tensor/tensor.js';
import { prepareOutput, readBytes, readCheckpoint, readTextFile, writeFileAtomic } from './files.js';
import { stdout } from './output.js';
import { UserError } from './errors.js';

const clean = (e: unknown): string => (e as Error).message.replace(/^(readSafetensors|CharTokenizer|loadStateDict): /, '');

export function importTorchCommand(file: string, f: { vocab: string; model?: CellType; out: string }): void {
  const out = prepareOutput(f.out, '--out', [
    { path: file, what: 'state dict' },
    { path: f.vocab, what: 'vocabulary file' },
  ]);
  const bytes = readBytes(file, 'state dict');
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    throw new UserError(
      `'${file}' is a PyTorch pickle (torch.save), not safetensors; save the state dict with ` +
        'safetensors.torch.save_file, or convert it with tools/torch_interop.py state-dict',
    );
  }
  let tensors: Record<string, Tensor>;
  let metadata: Record<string, string>;
  try {
    ({ tensors, metadata } = readSafetensorsWithMetadata(bytes));
  } catch (e) {
    throw new UserError(`'${file}' is not a readable safetensors state dict: ${clean(e)}`);
  }
  if (metadata.recur) throw new UserError(`'${file}' is already a recur checkpoint; use it as it is`);
  let vocab: CharTokenizer;
  try {
    vocab = parseVocab(readTextFile(f.vocab));
  } catch (e) {
    throw e instanceof UserError ? e : new UserError(`the vocabulary file '${f.vocab}' is not usable: ${clean(e)}`);
  }
  let imported;
  try {
    imported = charLMFromTorch(tensors, vocab, { model: f.model });
  } catch (e) {
    throw new UserError(`'${file}' cannot be imported: ${clean(e)}`);
  }
  const { model, renamed } = imported;
  writeFileAtomic(out, encodeCheckpoint(model, vocab, { createdBy: 'recur import-torch', options: { importedFrom: basename(file) } }));
  const c = model.config;
  const names = Object.entries(renamed)
    .map(([a, b]) => `${a}* as ${b}*`)
    .join(', ');
  const sizes = `vocabulary ${vocab.size}, ${model.numParameters().toLocaleString('en-US')} parameters`;
  const what = c.blocks
    ? `a block model, ${describeArchitecture(c)}, ${sizes}`
    : `a ${c.layers} x ${c.hidden} ${CELL_KINDS[c.model].name} (${c.embed ? `embedding ${c.embed}` : 'one-hot input'}, ${sizes})`;
  stdout.write(`recur: imported ${what}${names ? `, reading ${names}` : ''}; saved '${f.out}'\n`);
}

export async function exportCommand(checkpoint: string, f: { onnx: string; states: 'optional' | 'required' }, version: string): Promise<void> {
  // loaded here, not at start-up: protobufjs and the schema are only needed for this command
  const { exportLMOnnx, ONNX_OPSET } = await import('../export/onnx.js');
  const out = prepareOutput(f.onnx, '--onnx', [{ path: checkpoint, what: 'checkpoint' }]);
  const ck = readCheckpoint(checkpoint);
  let bytes: Uint8Array;
  try {
    bytes = exportLMOnnx(ck.model, ck.vocab, { producerVersion: version, states: f.states });
  } catch (e) {
    throw new UserError(`'${checkpoint}' cannot be exported: ${(e as Error).message}`);
  }
  writeFileAtomic(out, bytes);
  const { layers: L, hidden: H, vocabSize: V, model } = ck.model.config;
  const withC = CELL_KINDS[model].cellState;
  const states = withC ? 'h0, c0' : 'h0';
  stdout.write(
    `recur: wrote '${f.onnx}' (ONNX opset ${ONNX_OPSET}, ${(bytes.length / 1024).toFixed(1)} KiB): inputs tokens int64 [batch, seq] and ` +
      `${f.states === 'required' ? '' : 'optional '}${states} [${L}, batch, ${H}]; outputs logits [batch, seq, ${V}] and ` +
      `${withC ? 'hn, cn' : 'hn'} [${L}, batch, ${H}]\n`,
  );
}
