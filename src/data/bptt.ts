/**
 * Stateful truncated-BPTT batching (char-rnn's layout): the stream is cut
 * into `batch` parallel rows, each read left to right in windows of `seq`
 * steps, so row b of window k+1 continues exactly where row b of window k
 * stopped and the hidden state can carry over (detached). One epoch is one
 * pass over all windows of the rows. The ids may be any id array (a
 * Uint8Array for a small vocabulary); the windows are Int32Array.
 */
import type { TokenIds } from './text.js';

/** One window of a `BpttBatcher`. */
export interface BpttWindow {
  /** Inputs, [batch, seq] batch-major. */
  x: Int32Array;
  /** Targets: each input's next token, [batch, seq] batch-major. */
  y: Int32Array;
  /** The epoch this window belongs to (from 0). */
  epoch: number;
  /** Index of this window within the epoch; 0 means the hidden state should be reset. */
  window: number;
}

/**
 * Windows of a token stream for truncated backpropagation through time:
 * `batch` parallel rows read left to right `seq` steps at a time, so each
 * window continues the previous one and the hidden state can carry over.
 *
 * @example
 * ```ts
 * const batcher = new BpttBatcher(ids, 32, 64);
 * let state: RecurrentState | undefined;
 * const { x, y, window } = batcher.next(); // x and y: [32, 64]
 * if (window === 0) state = undefined; // a new epoch starts from a zero state
 * ```
 */
export class BpttBatcher {
  /** Tokens per row (the ids split into `batch` equal rows). */
  readonly rowLength: number;
  /** Windows in one pass over the rows. */
  readonly windowsPerEpoch: number;
  /** The epoch the next window belongs to. */
  epoch = 0;
  /** The next window's index within its epoch. */
  window = 0;

  /** Row length and windows per epoch for `length` ids: the batcher's arithmetic, also what the minimum text length is computed from. */
  static layout(
    length: number,
    batch: number,
    seq: number,
  ): {
    /** Tokens per row. */
    rowLength: number;
    /** Windows per epoch (0: the text is too short). */
    windowsPerEpoch: number;
  } {
    // each row needs seq + 1 characters for one window (inputs plus shifted targets)
    const rowLength = Math.max(0, Math.floor((length - 1) / batch));
    return { rowLength, windowsPerEpoch: Math.floor(rowLength / seq) };
  }

  constructor(
    private readonly ids: TokenIds,
    /** Parallel rows (sequences per window). */
    readonly batch: number,
    /** Steps per window (the truncation length). */
    readonly seq: number,
  ) {
    for (const [k, v] of [
      ['batch', batch],
      ['seq', seq],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`BpttBatcher: ${k} must be a positive integer, got ${v}`);
    }
    const layout = BpttBatcher.layout(ids.length, batch, seq);
    this.rowLength = layout.rowLength;
    this.windowsPerEpoch = layout.windowsPerEpoch;
    if (this.windowsPerEpoch < 1) {
      throw new Error(
        `the text is too short for batch ${batch} x seq ${seq}: it has ${ids.length} characters but needs at least ${batch * seq + 1}; use a smaller --batch or --seq`,
      );
    }
  }

  /** Characters consumed per window. */
  get charsPerWindow(): number {
    return this.batch * this.seq;
  }

  /** The next window (wrapping to the next epoch). */
  next(): BpttWindow {
    const { batch: B, seq: T } = this;
    const x = new Int32Array(B * T),
      y = new Int32Array(B * T);
    const start = this.window * T;
    for (let b = 0; b < B; b++) {
      const base = b * this.rowLength + start;
      for (let t = 0; t < T; t++) {
        x[b * T + t] = this.ids[base + t];
        y[b * T + t] = this.ids[base + t + 1];
      }
    }
    const w: BpttWindow = { x, y, epoch: this.epoch, window: this.window };
    this.window++;
    if (this.window === this.windowsPerEpoch) {
      this.window = 0;
      this.epoch++;
    }
    return w;
  }

  /** Position, for checkpoints. */
  getState(): {
    /** The next window's epoch. */
    epoch: number;
    /** The next window's index within it. */
    window: number;
  } {
    return { epoch: this.epoch, window: this.window };
  }

  /** Continue from a position `getState()` returned (for the same ids, batch and seq). */
  setState(s: { epoch: number; window: number }): void {
    if (!(Number.isInteger(s.window) && s.window >= 0 && s.window < this.windowsPerEpoch)) {
      throw new Error(`BpttBatcher: window ${s.window} is out of range for ${this.windowsPerEpoch} windows per epoch`);
    }
    this.epoch = s.epoch;
    this.window = s.window;
  }
}
