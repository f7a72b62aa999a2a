/**
 * A CharLM's description and the shapes of its weights, with no tensor
 * imports: the embeddable sampler checks checkpoints with this alone.
 */

export type CellType = 'lstm' | 'gru' | 'rnn';

export interface CharLMConfig {
  vocabSize: number;
  model: CellType;
  layers: number;
  hidden: number;
  /** Embedding size; 0 feeds one-hot vectors (min-char-rnn). */
  embed: number;
  dropout: number;
}

/** The model defaults (the CLI's and the playground's too); dropout 0.1 was measured with defaultTrainOptions. */
export const defaultCharLMConfig: Omit<CharLMConfig, 'vocabSize'> = { model: 'lstm', layers: 2, hidden: 128, embed: 64, dropout: 0.1 };

/**
 * The largest model recur builds: 2^27 parameters (512 MiB of float32
 * weights; with gradients and Adam's two moments that fills the wasm
 * backend's 2 GiB heap, and its checkpoint stays under MAX_CHECKPOINT_BYTES).
 * A config read from a file is checked against this before anything is
 * allocated, so a checkpoint claiming hidden size 10^9 is a sentence, not an
 * out-of-memory crash.
 */
export const MAX_PARAMETERS = 2 ** 27;
/** Per-size caps, so the parameter count below is computed from sane numbers. */
export const CONFIG_LIMITS = { vocabSize: 2 ** 24, layers: 1024, hidden: 2 ** 16, embed: 2 ** 16 } as const;

/** How many parameters a CharLM of this description has (the sum of charLMShapes). */
export function charLMParameterCount(c: CharLMConfig): number {
  let n = 0;
  for (const shape of Object.values(charLMShapes(c))) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

export function checkCharLMConfig(c: CharLMConfig): CharLMConfig {
  if (typeof c !== 'object' || c === null) throw new Error('the model description is missing');
  const int = (k: keyof typeof CONFIG_LIMITS, min: number): void => {
    const v = c[k] as number;
    const max = CONFIG_LIMITS[k];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${k} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
  };
  if (!['lstm', 'gru', 'rnn'].includes(c.model)) throw new Error(`model must be lstm, gru or rnn, got '${c.model}'`);
  int('vocabSize', 1);
  int('layers', 1);
  int('hidden', 1);
  int('embed', 0);
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) throw new Error(`dropout must be at least 0 and below 1, got ${c.dropout}`);
  const n = charLMParameterCount(c);
  if (n > MAX_PARAMETERS) {
    throw new Error(`a ${c.layers} x ${c.hidden} ${c.model.toUpperCase()} with vocabulary ${c.vocabSize} and embedding ${c.embed} has ` +
      `${n.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} recur builds`);
  }
  return c;
}

/** Gate blocks per cell: PyTorch stacks LSTM i,f,g,o and GRU r,z,n along the first weight dimension. */
export const GATE_BLOCKS: Record<CellType, number> = { lstm: 4, gru: 3, rnn: 1 };

/** Every weight of a CharLM by state-dict name, with its shape (the order CharLM.stateDict() uses). */
export function charLMShapes(c: CharLMConfig): Record<string, number[]> {
  const { vocabSize: V, layers, hidden: H, embed: E } = c;
  const G = GATE_BLOCKS[c.model] * H;
  const shapes: Record<string, number[]> = {};
  if (E > 0) shapes['embedding.weight'] = [V, E];
  for (let l = 0; l < layers; l++) {
    shapes[`rnn.weight_ih_l${l}`] = [G, l === 0 ? (E > 0 ? E : V) : H];
    shapes[`rnn.weight_hh_l${l}`] = [G, H];
    shapes[`rnn.bias_ih_l${l}`] = [G];
    shapes[`rnn.bias_hh_l${l}`] = [G];
  }
  shapes['head.weight'] = [V, H];
  shapes['head.bias'] = [V];
  return shapes;
}
