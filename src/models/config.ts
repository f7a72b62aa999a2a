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

export const defaultCharLMConfig: Omit<CharLMConfig, 'vocabSize'> = { model: 'lstm', layers: 2, hidden: 128, embed: 64, dropout: 0 };

export function checkCharLMConfig(c: CharLMConfig): CharLMConfig {
  const int = (k: keyof CharLMConfig, min: number): void => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`${k} must be a whole number of at least ${min}, got ${v}`);
  };
  if (!['lstm', 'gru', 'rnn'].includes(c.model)) throw new Error(`model must be lstm, gru or rnn, got '${c.model}'`);
  int('vocabSize', 1);
  int('layers', 1);
  int('hidden', 1);
  int('embed', 0);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`dropout must be at least 0 and below 1, got ${c.dropout}`);
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
