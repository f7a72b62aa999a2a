/**
 * The one language-model training loop, shared by the CLI and the playground. It
 * reports through callbacks and yields to the event loop now and then, so a
 * page stays responsive and Ctrl-C can be handled. No Node imports.
 */
import { tidy } from '../tensor/scope.js';
import { noGrad } from '../autograd/graph.js';
import { crossEntropy } from '../ops/loss.js';
import { Adagrad, Adam, RMSprop, SGD } from '../optim/optimizers.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../random/rng.js';
import { BpttBatcher } from '../data/bptt.js';
import { splitIds, splitSizes, type TokenIds } from '../data/text.js';
import { TOKEN_NOUNS, type LMTokenizer } from '../text/tokenizers.js';
import { LanguageModel, type LanguageModelConfig } from '../models/charlm.js';
import type { RecurrentState } from '../nn/rnn/layers.js';
import { encodeCheckpoint, type Checkpoint, type TrainingProgress } from '../models/checkpoint.js';
import { sampleText } from '../generate/sample.js';
import { trainStep } from './step.js';
import { defaultTrainOptions, OPTIMIZER_NAMES, SCHEDULE_NAMES, type TrainOptions } from './options.js';
import { cosineNeedsAnEnd, learningRate, runFraction } from './schedule.js';

export { defaultTrainOptions, OPTIMIZER_NAMES, SCHEDULE_NAMES, type OptimizerName, type ScheduleName, type TrainOptions } from './options.js';

/** evaluateLoss needs one input and its target. */
const MIN_EVAL_TOKENS = 2;

type LengthOptions = Pick<TrainOptions, 'batch' | 'seq' | 'valFrac'>;

/** Whether a text of n tokens leaves a validation split of at least two (none is needed with valFrac 0) and a training split with one window per row. */
function partsFit(n: number, o: LengthOptions): { val: boolean; train: boolean } {
  const s = splitSizes(n, o.valFrac);
  return { val: o.valFrac === 0 || s.val >= MIN_EVAL_TOKENS, train: BpttBatcher.layout(s.train, o.batch, o.seq).windowsPerEpoch >= 1 };
}

/**
 * The fewest tokens a text needs to train with these options (to check a
 * text before starting, or to size a test), from splitIds'
 * and BpttBatcher's own arithmetic (splitSizes, BpttBatcher.layout), so a
 * text of exactly this length trains and one token fewer does not.
 */
export function minTextLength(o: LengthOptions): number {
  const ok = (n: number): boolean => {
    const f = partsFit(n, o);
    return f.val && f.train;
  };
  // neither part shrinks as n grows, so the first n that fits is the minimum: start at the real-number bound and walk to it
  const valBound = o.valFrac > 0 ? MIN_EVAL_TOKENS / o.valFrac : 0;
  let n = Math.max(MIN_EVAL_TOKENS, Math.ceil(Math.max(valBound, (o.batch * o.seq + 1) / (1 - o.valFrac))));
  while (n > 1 && ok(n - 1)) n--;
  while (!ok(n)) n++;
  return n;
}

/** Why a text of `n` tokens is too short to train with these options (one sentence), or null if it is not. */
export function textLengthProblem(n: number, o: LengthOptions, name = 'the text', unit = 'characters'): string | null {
  const need = minTextLength(o);
  if (n >= need) return null;
  const fmt = (k: number): string => k.toLocaleString('en-US');
  // when only the validation part falls short, smaller windows would not help
  const below = partsFit(need - 1, o);
  return (
    `${name} has ${fmt(n)} ${unit}; batch ${o.batch} x seq ${o.seq} with val-frac ${o.valFrac} needs at least ${fmt(need)}; ` +
    `use a longer text or ${below.train ? 'a larger --val-frac' : 'a smaller --batch/--seq'}`
  );
}

export function checkTrainOptions(o: TrainOptions): TrainOptions {
  const pos = (k: keyof TrainOptions): void => {
    if (!(typeof o[k] === 'number' && Number.isInteger(o[k]) && (o[k] as number) >= 1))
      throw new Error(`${k} must be a whole number of at least 1, got ${o[k]}`);
  };
  const nonneg = (k: keyof TrainOptions): void => {
    if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0)) throw new Error(`${k} must be a number of at least 0, got ${o[k]}`);
  };
  pos('batch');
  pos('seq');
  pos('sampleLength');
  for (const k of ['momentum', 'clip', 'clipValue', 'epochs', 'seconds', 'steps', 'evalEvery', 'sampleEvery', 'seed'] as const) nonneg(k);
  if (!(Number.isSafeInteger(o.warmup) && o.warmup >= 0)) throw new Error(`warmup must be a whole number of steps, at least 0, got ${o.warmup}`);
  if (!(o.rmspropDecay >= 0 && o.rmspropDecay < 1)) throw new Error(`rmsprop decay must be at least 0 and below 1, got ${o.rmspropDecay}`);
  if (typeof o.lossSum !== 'boolean') throw new Error(`loss-sum must be true or false, got ${JSON.stringify(o.lossSum)}`);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new Error(`lr must be a positive number, got ${o.lr}`);
  if (!(o.lrDecay > 0 && o.lrDecay <= 1)) throw new Error(`lr decay must be above 0 and at most 1, got ${o.lrDecay}`);
  if (!(o.lrMin >= 0 && o.lrMin <= o.lr)) throw new Error(`lr-min must be at least 0 and at most lr (${o.lr}), got ${o.lrMin}`);
  if (!(SCHEDULE_NAMES as readonly string[]).includes(o.schedule)) throw new Error(`schedule must be one of ${SCHEDULE_NAMES.join(', ')}, got '${o.schedule}'`);
  if (o.schedule === 'cosine' && runFraction(o, { step: 0, epochs: 0, seconds: 0 }) === null) throw new Error(cosineNeedsAnEnd);
  if (!(o.valFrac >= 0 && o.valFrac < 0.5)) throw new Error(`val-frac must be at least 0 and below 0.5, got ${o.valFrac}`);
  if (!(Number.isSafeInteger(o.evalChars) && (o.evalChars === 0 || o.evalChars >= MIN_EVAL_TOKENS))) {
    throw new Error(`eval-chars must be 0 (the whole validation split) or a whole number of at least ${MIN_EVAL_TOKENS}, got ${o.evalChars}`);
  }
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(o.optimizer))
    throw new Error(`optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got '${o.optimizer}'`);
  return o;
}

/** What `onStep` reports after each training step. */
export interface StepInfo {
  /** Steps done so far, this one included. */
  step: number;
  /** The current epoch (from 0). */
  epoch: number;
  /** Fraction of the current epoch done. */
  epochProgress: number;
  /** This step's training loss (mean cross-entropy, nats per token). */
  loss: number;
  /** The learning rate used. */
  lr: number;
  /** Training throughput in tokens per second (characters for a character model). */
  charsPerSec: number;
  /** Training time so far, pauses excluded. */
  seconds: number;
}

/** What `onEval` reports after each evaluation on the validation split. */
export interface EvalInfo {
  /** The step evaluated after. */
  step: number;
  /** Mean cross-entropy on the tokens scored, in nats per token. */
  valLoss: number;
  /** e^valLoss: the effective number of choices per token. */
  perplexity: number;
  /** The loss in bits per token: per character for a character model, per word piece for a word model. */
  bitsPerToken: number;
  /** @deprecated The same value as bitsPerToken, which says what it counts for word models too. */
  bitsPerChar: number;
  /** Tokens scored: the first `evalChars` of the validation split's `valChars`. */
  evalChars: number;
  /** Tokens in the validation split. */
  valChars: number;
}

/** Hooks into `trainLM`'s loop: progress reports, and requests that a page or a CLI makes between steps. All optional. */
export interface TrainCallbacks {
  /** Once, with the model about to be trained (a page samples from it between steps). */
  onStart?(model: LanguageModel): void;
  /** After every step. */
  onStep?(info: StepInfo): void;
  /** After every evaluation (every `evalEvery` steps, and at the end). */
  onEval?(info: EvalInfo): void;
  /** With a sample from the model every `sampleEvery` steps and at the end. */
  onSample?(text: string, step: number): void;
  /** Checkpoint bytes at every evaluation and at the end (never after a NaN). */
  onCheckpoint?(bytes: Uint8Array, progress: TrainingProgress): void | Promise<void>;
  /** After each completed epoch (numbered from 1), with the model being trained. */
  onEpochEnd?(epoch: number, model: LanguageModel): void;
  /** Polled between steps; return true to stop (the run still evaluates and checkpoints). */
  shouldStop?(): boolean;
  /** Polled between steps; return true to get a checkpoint (onCheckpoint) now, as a page's Save button does. */
  checkpointRequested?(): boolean;
  /** Polled between steps; a returned promise pauses training until it settles. Paused time does not count as training time. */
  waitIfPaused?(): Promise<void> | void;
}

/** What `trainLM` resolves to when training ends. */
export interface TrainResult {
  /** The trained model (the resumed one, when resuming). */
  model: LanguageModel;
  /** Where training stopped: steps, epoch, position, last validation loss, time. */
  progress: TrainingProgress;
  /** Which limit ended the run, or 'request' for shouldStop. */
  stoppedBy: 'epochs' | 'time' | 'steps' | 'request';
  /** The last step's training loss. */
  finalTrainLoss: number;
  /** The last evaluation, over the whole validation split; null when there is none (valFrac 0). */
  finalEval: EvalInfo | null;
}

/** Mean cross-entropy (nats per token) of the model on `ids`, read as stateful windows: the validation loss of a held-out split. */
export function evaluateLoss(model: LanguageModel, ids: TokenIds, batch: number, seq: number): number {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      // use fewer rows for short texts so every character counts
      const B = Math.max(1, Math.min(batch, Math.floor((ids.length - 1) / seq)));
      const T = Math.min(seq, ids.length - 1);
      const batches = new BpttBatcher(ids, B, T);
      let state: RecurrentState | undefined;
      let total = 0;
      for (let w = 0; w < batches.windowsPerEpoch; w++) {
        const win = batches.next();
        const prev = state;
        const out = tidy(() => {
          const r = model.forward(win.x, B, T, prev);
          return { loss: crossEntropy(r.logits, win.y, { reduction: 'sum' }).item(), h: r.state.h.keep(), c: r.state.c?.keep() };
        });
        prev?.h.dispose();
        prev?.c?.dispose();
        state = { h: out.h, c: out.c };
        total += out.loss;
      }
      state?.h.dispose();
      state?.c?.dispose();
      return total / (batches.windowsPerEpoch * B * T);
    });
  } finally {
    model.train(wasTraining);
  }
}

/**
 * The model's loss on a window from a state, forward only (no update, no
 * dropout): when a resumed run's first loss is not finite and this is not
 * either, the checkpoint's weights are the cause, which no learning rate or
 * clipping can help.
 */
function lossBeforeUpdate(model: LanguageModel, win: { x: Int32Array; y: Int32Array }, prev: RecurrentState, o: TrainOptions): number {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => tidy(() => crossEntropy(model.forward(win.x, o.batch, o.seq, prev).logits, win.y).item()));
  } finally {
    model.train(wasTraining);
  }
}

function makeOptimizer(model: LanguageModel, o: TrainOptions): Optimizer {
  if (o.optimizer === 'adagrad') return new Adagrad(model.parameters(), { lr: o.lr });
  if (o.optimizer === 'sgd') return new SGD(model.parameters(), { lr: o.lr, momentum: o.momentum });
  if (o.optimizer === 'rmsprop') return new RMSprop(model.parameters(), { lr: o.lr, alpha: o.rmspropDecay });
  return new Adam(model.parameters(), { lr: o.lr });
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Train a language model on `text`, or on its `ids` under `vocab` (readCorpus reads
 * a big file into those without one string), or continue `resume`. `name`
 * names the text in messages. Throws (after reporting nothing further) if
 * the loss becomes NaN or infinite; the last checkpoint handed to
 * onCheckpoint is then the last good one.
 *
 * @example
 * ```ts
 * const vocab = Vocab.fromText(text);
 * const { model, finalEval } = await trainLM(
 *   { text, vocab, config: { ...defaultLMConfig, layers: 1 }, options: { ...defaultTrainOptions, steps: 300 } },
 *   { onEval: (e) => console.log(`step ${e.step}: ${e.bitsPerToken.toFixed(2)} bits per character`) },
 * );
 * writeFileSync('model.safetensors', encodeCheckpoint(model, vocab));
 * ```
 */
export async function trainLM(
  args: {
    /** The training text (or give `ids`). */
    text?: string;
    /** The text as ids under `vocab`, instead of `text`. */
    ids?: TokenIds;
    /** How messages name the text, e.g. its file name. */
    name?: string;
    /** The tokenizer: a `Vocab` for characters, a `WordTokenizer` for words. */
    vocab: LMTokenizer;
    /** The model to build (its vocabSize comes from `vocab`); not needed when resuming. */
    config?: Omit<LanguageModelConfig, 'vocabSize'>;
    /** How to train (see `defaultTrainOptions`). */
    options: TrainOptions;
    /** A decoded checkpoint to continue: its model, optimizer state, position and random state. */
    resume?: Checkpoint;
    /** How messages name the checkpoint being resumed, e.g. its quoted path (default: no name). */
    resumeName?: string;
  },
  cb: TrainCallbacks = {},
): Promise<TrainResult> {
  // options saved before a field existed (a checkpoint's) get its default
  const o = checkTrainOptions({ ...defaultTrainOptions, ...args.options });
  const { vocab } = args;
  if (args.ids === undefined && args.text === undefined) throw new Error('trainLM: give the text or its ids');
  const ids = args.ids ?? vocab.encode(args.text!);
  const tooShort = textLengthProblem(ids.length, o, args.name, TOKEN_NOUNS[vocab.kind]);
  if (tooShort) throw new Error(tooShort);
  const split = splitIds(ids, o.valFrac);
  let rng = new Rng(o.seed);
  let model: LanguageModel;
  let progress: TrainingProgress = { step: 0, epoch: 0, window: 0, lastValLoss: null, seconds: 0 };
  if (args.resume) {
    model = args.resume.model;
    progress = { ...args.resume.meta.progress };
    // one generator for everything, as in an uninterrupted run: the model's, which draws its dropout masks
    const from = args.resume.meta.rng ?? rng.getState();
    rng = model.rng;
    rng.setState(from);
  } else {
    if (!args.config) throw new Error('trainLM: give a model config or a checkpoint to resume');
    model = new LanguageModel({ ...args.config, vocabSize: vocab.size }, { rng });
  }
  model.train();
  cb.onStart?.(model);
  const batches = new BpttBatcher(split.train, o.batch, o.seq);
  if (args.resume) batches.setState({ epoch: progress.epoch, window: Math.min(progress.window, batches.windowsPerEpoch - 1) });
  const opt = makeOptimizer(model, o);
  if (args.resume?.optimizer) {
    if (args.resume.optimizer.type !== opt.type) {
      throw new Error(`the checkpoint was trained with ${args.resume.optimizer.type}; resume with the same --optimizer`);
    }
    opt.loadStateDict(args.resume.optimizer);
  }

  const checkpoint = async (): Promise<void> => {
    if (!cb.onCheckpoint) return;
    const bytes = encodeCheckpoint(model, vocab, { options: { ...o }, progress, optimizer: opt.stateDict(), rng: rng.getState(), state });
    await cb.onCheckpoint(bytes, { ...progress });
  };
  let lastEval: EvalInfo | null = null;
  const evaluate = (whole: boolean): void => {
    if (split.val.length === 0) return;
    const n = whole || o.evalChars === 0 ? split.val.length : Math.min(o.evalChars, split.val.length);
    const valLoss = evaluateLoss(model, split.val.subarray(0, n), o.batch, o.seq);
    progress.lastValLoss = valLoss;
    lastEval = {
      step: progress.step,
      valLoss,
      perplexity: Math.exp(valLoss),
      bitsPerToken: valLoss / Math.LN2,
      bitsPerChar: valLoss / Math.LN2,
      evalChars: n,
      valChars: split.val.length,
    };
    cb.onEval?.(lastEval);
  };
  const sample = (): void => {
    if (!cb.onSample) return;
    cb.onSample(sampleText(model, vocab, { length: o.sampleLength, temperature: 0.8, rng }), progress.step);
  };

  // the carried hidden state is part of a checkpoint, so a resumed run continues exactly
  let state: RecurrentState | null = null;
  const saved = args.resume?.state;
  if (saved && saved.h.shape[1] === o.batch && progress.window > 0) state = { h: saved.h.keep(), c: saved.c?.keep() };
  const startSeconds = progress.seconds;
  const t0 = now();
  let lastYield = t0;
  let pausedMs = 0;
  let charsThisRun = 0;
  let lastLoss = NaN;
  let stoppedBy: TrainResult['stoppedBy'] = 'request';
  const limitReached = (): TrainResult['stoppedBy'] | null => {
    if (o.epochs > 0 && batches.epoch >= o.epochs) return 'epochs';
    if (o.steps > 0 && progress.step >= o.steps) return 'steps';
    if (o.seconds > 0 && (now() - t0 - pausedMs) / 1000 >= o.seconds) return 'time';
    return null;
  };
  for (;;) {
    const limit = limitReached();
    if (limit) {
      stoppedBy = limit;
      break;
    }
    const pause = cb.waitIfPaused?.();
    if (pause) {
      const p0 = now();
      await pause;
      pausedMs += now() - p0;
      lastYield = now();
    }
    if (cb.shouldStop?.()) {
      stoppedBy = 'request';
      break;
    }
    if (cb.checkpointRequested?.()) await checkpoint();

    opt.lr = learningRate(o, {
      step: progress.step,
      epochs: batches.epoch + batches.window / batches.windowsPerEpoch,
      seconds: (now() - t0 - pausedMs) / 1000,
    });
    const win = batches.next();
    if (win.window === 0 || !state) {
      state?.h.dispose();
      state?.c?.dispose();
      state = model.initialState(o.batch);
    }
    const prev: RecurrentState = state;
    const res = trainStep(model, opt, win.x, win.y, o.batch, o.seq, prev, o);
    // on a resumed run's first step (charsThisRun is still 0) the weights are the checkpoint's, as trainStep
    // skips the update when the loss is not finite; prev is needed for the check, so it is disposed after
    const before = !Number.isFinite(res.loss) && args.resume && charsThisRun === 0 ? lossBeforeUpdate(model, win, prev, o) : 0;
    if (!Number.isFinite(before)) {
      throw new Error(
        `training stopped at step ${progress.step + 1}: the checkpoint${args.resumeName ? ` ${args.resumeName}` : ''} is the cause, not the learning rate: ` +
          `its weights give a loss of ${before} on the first batch before any training; resume from an earlier checkpoint or train anew`,
      );
    }
    prev.h.dispose();
    prev.c?.dispose();
    state = res.state;
    if (!Number.isFinite(res.loss)) {
      throw new Error(
        `training stopped at step ${progress.step + 1}: the loss became ${res.loss}; the last checkpoint was kept. ` + 'Try a smaller --lr or --clip',
      );
    }
    lastLoss = res.loss;
    progress.step++;
    charsThisRun += o.batch * o.seq;
    const epochChanged = batches.epoch !== progress.epoch;
    progress.epoch = batches.epoch;
    progress.window = batches.window;
    if (epochChanged) cb.onEpochEnd?.(batches.epoch, model);
    const elapsed = (now() - t0 - pausedMs) / 1000;
    progress.seconds = startSeconds + elapsed;
    cb.onStep?.({
      step: progress.step,
      epoch: progress.epoch,
      epochProgress: batches.window / batches.windowsPerEpoch,
      loss: lastLoss,
      lr: opt.lr,
      charsPerSec: charsThisRun / Math.max(elapsed, 1e-9),
      seconds: progress.seconds,
    });
    // on the last step the final evaluation (the whole split) comes instead
    if (o.evalEvery > 0 && progress.step % o.evalEvery === 0 && !limitReached()) {
      evaluate(false);
      await checkpoint();
    }
    if (o.sampleEvery > 0 && progress.step % o.sampleEvery === 0) sample();
    if (now() - lastYield > 50) {
      await yieldToEventLoop();
      lastYield = now();
    }
  }
  const last = lastEval as EvalInfo | null;
  // with no validation split there is nothing to evaluate, but the end still gets its checkpoint
  if (split.val.length === 0 || !last || last.step !== progress.step || last.evalChars < last.valChars) {
    evaluate(true);
    await checkpoint();
  }
  sample();
  state?.h.dispose();
  state?.c?.dispose();
  return { model, progress: { ...progress }, stoppedBy, finalTrainLoss: lastLoss, finalEval: lastEval };
}
