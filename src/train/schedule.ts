/**
 * The learning rate trainLM uses at each step, from its options and where the
 * run is. A closed form of the run's position, so a resumed run continues the
 * schedule from its checkpoint's progress with nothing else saved.
 */
import type { TrainOptions } from './options.js';

/** Where a run is when a step is about to be taken. */
export interface ScheduleClock {
  /** Steps done so far, over every resumed run. */
  step: number;
  /** Epochs done so far, fractional (2.5 is halfway through the third). */
  epochs: number;
  /** Training seconds of this run so far (a time limit counts from the start of each run). */
  seconds: number;
}

type ScheduleOptions = Pick<TrainOptions, 'lr' | 'lrDecay' | 'schedule' | 'warmup' | 'lrMin' | 'steps' | 'epochs' | 'seconds'>;

/**
 * How far through the run the clock is, from 0 to 1, by whichever of the
 * limits (steps, epochs, seconds) ends it first; null when the run has none.
 */
export function runFraction(o: ScheduleOptions, at: ScheduleClock): number | null {
  let f: number | null = null;
  const by = (done: number, limit: number): void => {
    if (limit > 0) f = Math.max(f ?? 0, done / limit);
  };
  by(at.step, o.steps);
  by(at.epochs, o.epochs);
  by(at.seconds, o.seconds);
  return f === null ? null : Math.min(1, f);
}

/**
 * The rate for the next step. 'exponential': lr x lrDecay^(whole epochs
 * done). 'cosine': half a cosine from lr down to lrMin over the run, as
 * nanoGPT and SGDR anneal, so the last steps take the small steps that
 * settle the loss. Either is scaled by a linear warm-up over the first
 * `warmup` steps, which keeps Adam's first, badly estimated moments from
 * taking full-size steps.
 */
export function learningRate(o: ScheduleOptions, at: ScheduleClock): number {
  const warm = o.warmup > 0 ? Math.min(1, (at.step + 1) / o.warmup) : 1;
  if (o.schedule === 'exponential') return warm * o.lr * Math.pow(o.lrDecay, Math.floor(at.epochs));
  const f = runFraction(o, at);
  if (f === null) throw new Error(cosineNeedsAnEnd);
  return warm * (o.lrMin + (o.lr - o.lrMin) * 0.5 * (1 + Math.cos(Math.PI * f)));
}

/** Why a cosine schedule cannot run without a limit. */
export const cosineNeedsAnEnd =
  'the cosine schedule decays over the whole run, so it needs an end: give a number of steps, epochs or seconds (--steps, --epochs or --minutes)';
