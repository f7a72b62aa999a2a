/**
 * Learning-rate schedules. Each computes the rate for epoch (or step) `t` in
 * closed form from the base rate, so a resumed run only needs `lastEpoch`.
 * Call `step()` once per epoch (or per step, if the schedule is in steps).
 */
import type { Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  readonly baseLr: number;
  lastEpoch = 0;
  constructor(readonly optimizer: Optimizer) {
    this.baseLr = optimizer.lr;
  }
  /** The learning rate at epoch t. */
  abstract lrAt(t: number): number;
  step(): number {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
    return this.optimizer.lr;
  }
  get lr(): number {
    return this.optimizer.lr;
  }
  stateDict(): { lastEpoch: number; baseLr: number } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }
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
    readonly stepSize: number,
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
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
  }
  lrAt(t: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * t) / this.tMax))) / 2;
  }
}
