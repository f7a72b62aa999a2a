/**
 * Training options and their defaults, with no imports, so the CLI's option
 * parser and the playground's page read the defaults without loading the
 * training code.
 */

/** The optimizers `trainLM` can use (the CLI's --optimizer choices). */
export const OPTIMIZER_NAMES = ['adam', 'adagrad', 'rmsprop', 'sgd'] as const;
/** One of OPTIMIZER_NAMES. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** The learning-rate schedules `trainLM` can follow (the CLI's --schedule choices; src/train/schedule.ts computes them). */
export const SCHEDULE_NAMES = ['exponential', 'cosine'] as const;
/** One of SCHEDULE_NAMES. */
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

/** How menus name each schedule (the playground's). */
export const SCHEDULE_LABELS: Record<ScheduleName, string> = { exponential: 'Decay per epoch', cosine: 'Cosine over the run' };

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
  /**
   * The learning-rate schedule, one of SCHEDULE_NAMES: 'exponential'
   * multiplies lr by lrDecay after every epoch; 'cosine' follows half a
   * cosine from lr to lrMin over the run (its steps, epochs or seconds,
   * whichever ends it first, so it needs one of them).
   */
  schedule: ScheduleName;
  /** Multiply the learning rate by this after every epoch (1: constant), on the exponential schedule. */
  lrDecay: number;
  /** The cosine schedule's last rate. */
  lrMin: number;
  /** Raise the rate linearly from lr/warmup to lr over the first `warmup` steps (0: no warm-up), on either schedule. */
  warmup: number;
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
 * the playground's fields are read from here. With defaultLMConfig they are
 * the measured best for ten minutes of tinyshakespeare on two cores
 * (docs/benchmarks.md, "Time to quality"): lr 5e-3 with a 100-step warm-up
 * and a cosine decay to 0 over the run beat lr 4e-3 x 0.8 per epoch and
 * lr 3e-3 x 0.85 per epoch on the same model. The cosine needs the run's
 * end (steps, epochs or seconds); `recur train` always has one.
 */
export const defaultTrainOptions: TrainOptions = {
  batch: 32,
  seq: 64,
  lr: 5e-3,
  optimizer: 'adam',
  momentum: 0.9,
  // char-rnn's RMSprop decay (PyTorch's default alpha is 0.99)
  rmspropDecay: 0.95,
  clip: 5,
  clipValue: 0,
  lossSum: false,
  schedule: 'cosine',
  lrDecay: 0.85,
  lrMin: 0,
  warmup: 100,
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
