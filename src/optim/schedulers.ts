/**
 * Learning-rate schedules. Each computes the rate for epoch (or step) `t` in
 * closed form from the base rate, so a resumed run only needs `lastEpoch`.
 * Call `step()` once per epoch (or per step, if the schedule is in steps).
 */
import type { Optimizer } from './optimizer.js';

/**
 * The base of the schedules: it sets the optimizer's `lr` from the base rate
 * (the optimizer's rate when the scheduler was made) and the epoch count.
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 2e-3 });
 * const sched = new ExponentialLR(opt, 0.97);
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   // ... a training epoch
 *   sched.step();
 * }
 * ```
 */
export abstract class LRScheduler {
  /** The rate at epoch 0. */
  readonly baseLr: number;
  /** Epochs (or steps) counted so far. */
  lastEpoch = 0;
  constructor(
    /** The optimizer whose `lr` this sets. */
    readonly optimizer: Optimizer,
  ) {
    this.baseLr = optimizer.lr;
  }
  /** The learning rate at epoch t. */
  abstract lrAt(t: number): number;
  /** Count one epoch and set the optimizer's rate for the next; returns it. */
  step(): number {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
    return this.optimizer.lr;
  }
  /** The optimizer's current rate. */
  get lr(): number {
    return this.optimizer.lr;
  }
  /** What a resumed run needs: the epoch count and the base rate. */
  stateDict(): {
    /** Epochs counted. */
    lastEpoch: number;
    /** The rate at epoch 0. */
    baseLr: number;
  } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }
  /** Continue from a `stateDict()`, setting the optimizer's rate for that epoch. */
  loadStateDict(s: { lastEpoch: number; baseLr?: number }): void {
    if (s.baseLr !== undefined) (this as { baseLr: number }).baseLr = s.baseLr;
    this.lastEpoch = s.lastEpoch;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

/** Multiply the rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    /** Epochs between decays. */
    readonly stepSize: number,
    /** The factor applied at each decay. */
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
  }
  lrAt(t: number): number {
    return this.baseLr * Math.pow(this.gamma, Math.floor(t / this.stepSize));
  }
}

/** Multiply the rate by `gamma` every epoch (char-rnn's learning_rate_decay). */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    /** The factor applied every epoch. */
    readonly gamma: number,
  ) {
    super(optimizer);
    if (!(gamma > 0)) throw new Error(`ExponentialLR: gamma must be positive, got ${gamma}`);
  }
  lrAt(t: number): number {
    return this.baseLr * Math.pow(this.gamma, t);
  }
}

/** Cosine annealing from the base rate to `etaMin` over `tMax` epochs. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    /** Epochs from the base rate down to etaMin (half a cosine period). */
    readonly tMax: number,
    /** The lowest rate. */
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
  }
  lrAt(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}
