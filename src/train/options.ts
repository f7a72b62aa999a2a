/**
 * Training options and their defaults, with no imports, so the CLI's option
 * parser and the playground's page read the defaults without loading the
 * training code.
 */

/** The optimizers `trainLM` can use (the CLI's --optimizer choices). */
export const OPTIMIZER_NAMES = ['adam', 'adagrad', 'rmsprop', 'sgd'] as const;
/** One of OPTIMIZER_NAMES. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** How menus name each optimizer (the playground's). */
export const OPTIMIZER_LABELS: Record<OptimizerName, string> = { adam: 'Adam', adagrad: 'Adagrad', rmsprop: 'RMSprop', sgd: 'SGD' };

/**
 * How `trainLM` trains: batching, optimizer, clipping, when to stop,
 * evaluate and sample. Every field is required; spread `defaultTrainOptions`
 * and change what differs. Checkpoints store these.
 */
export interface TrainOptions {
  /** Parallel rows per step (sequences in a batch). */
  batch: number;
  /** Steps per window: how far back gradients flow (truncated BPTT). */
  seq: number;
  /** Learning rate. */
  lr: number;
  /** The optimizer: one of OPTIMIZER_NAMES. */
  optimizer: OptimizerName;
  /** SGD momentum. */
  momentum: number;
  /** RMSprop's decay of its running mean of squared gradients (PyTorch's alpha; char-rnn's decay_rate). */
  rmspropDecay: number;
  /** Clip gradients to this global L2 norm (0: off). */
  clip: number;
  /** Clip each gradient element to [-v, v] (0: off), as min-char-rnn does. */
  clipValue: number;
  /**
   * Train on the loss summed over each window's time steps (still averaged
   * over the batch) instead of its mean, as min-char-rnn and Grokking Deep
   * Learning do, so their learning rates carry over. Reported losses stay
   * per token.
   */
  lossSum: boolean;
  /** Multiply the learning rate by this after every epoch (1: constant). */
  lrDecay: number;
  /** Stop after this many epochs (0: no limit). */
  epochs: number;
  /** Stop after this many seconds of training (0: no limit). */
  seconds: number;
  /** Stop after this many steps in total (0: no limit). */
  steps: number;
  /** The share of the text (its end) held out for validation, below 0.5; 0 trains on all of it and evaluates nothing. */
  valFrac: number;
  /** Evaluate (and checkpoint) every N steps (0: only at the end). */
  evalEvery: number;
  /**
   * Tokens of the validation split (from its start) that each periodic
   * evaluation scores, so its cost does not grow with the corpus; the final
   * evaluation scores the whole split (0: the whole split every time).
   */
  evalChars: number;
  /** Print a sample every N steps (0: only at the end). */
  sampleEvery: number;
  /** Tokens per sample. */
  sampleLength: number;
  /** Seeds the initial weights, dropout and samples, so a run can be repeated. */
  seed: number;
}

/**
 * The training defaults, the one home of them: the CLI's option defaults and
 * the playground's fields are read from here. lr 3e-3 with decay 0.85 per
 * epoch (and dropout 0.1 in defaultLMConfig) are the measured best for a
 * 2 x 128 LSTM on tinyshakespeare in ten minutes (docs/benchmarks.md).
 */
export const defaultTrainOptions: TrainOptions = {
  batch: 32,
  seq: 64,
  lr: 3e-3,
  optimizer: 'adam',
  momentum: 0.9,
  // char-rnn's RMSprop decay (PyTorch's default alpha is 0.99)
  rmspropDecay: 0.95,
  clip: 5,
  clipValue: 0,
  lossSum: false,
  lrDecay: 0.85,
  epochs: 0,
  seconds: 0,
  steps: 0,
  valFrac: 0.1,
  evalEvery: 200,
  evalChars: 250_000,
  sampleEvery: 500,
  sampleLength: 200,
  seed: 1,
};
