/** SGD (momentum, Nesterov), Adagrad, RMSprop, Adam and AdamW, with PyTorch's update rules. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative, checkRange01 } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  constructor(params: Iterable<Tensor>, opts: SGDOptions = {}) {
    super(params, opts.lr ?? 0.01, 'SGD');
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkNonNegative('SGD', 'momentum', this.momentum);
    checkNonNegative('SGD', 'weightDecay', this.weightDecay);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
    }
  }
  protected update(p: Tensor, g: Tensor, i: number): void {
    const firstStep = this.momentum !== 0 && !this.hasSlot(i, 'momentum');
    const buf = this.momentum !== 0 ? this.slot(i, 'momentum') : null;
    p.backend.sgdStep(p.storage, g.storage, buf?.storage ?? null, p.size, {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
      firstStep,
    });
  }
  protected options() {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

export interface AdagradOptions {
  lr?: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
}

/** Adagrad: per-element rates from the running sum of squared gradients (min-char-rnn's optimizer). */
export class Adagrad extends Optimizer {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  constructor(params: Iterable<Tensor>, opts: AdagradOptions = {}) {
    super(params, opts.lr ?? 0.01, 'Adagrad');
    this.lrDecay = opts.lrDecay ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.initialAccumulatorValue = opts.initialAccumulatorValue ?? 0;
    this.eps = opts.eps ?? 1e-10;
    checkNonNegative('Adagrad', 'lrDecay', this.lrDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', this.initialAccumulatorValue);
  }
  protected update(p: Tensor, g: Tensor, i: number): void {
    const fresh = !this.hasSlot(i, 'sum');
    const sum = this.slot(i, 'sum');
    if (fresh && this.initialAccumulatorValue !== 0) sum.backend.fill(sum.storage, this.initialAccumulatorValue);
    const clr = this.lr / (1 + (this.stepCount - 1) * this.lrDecay);
    p.backend.adagradStep(p.storage, g.storage, sum.storage, p.size, { lr: clr, eps: this.eps, weightDecay: this.weightDecay });
  }
  protected options() {
    return { lrDecay: this.lrDecay, weightDecay: this.weightDecay, initialAccumulatorValue: this.initialAccumulatorValue, eps: this.eps };
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  constructor(params: Iterable<Tensor>, opts: RMSpropOptions = {}) {
    super(params, opts.lr ?? 0.01, 'RMSprop');
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.momentum = opts.momentum ?? 0;
    this.centered = opts.centered ?? false;
    checkRange01('RMSprop', 'alpha', this.alpha);
    checkNonNegative('RMSprop', 'momentum', this.momentum);
  }
  protected update(p: Tensor, g: Tensor, i: number): void {
    const sq = this.slot(i, 'squareAvg');
    const avg = this.centered ? this.slot(i, 'gradAvg') : null;
    const buf = this.momentum > 0 ? this.slot(i, 'momentum') : null;
    p.backend.rmspropStep(p.storage, g.storage, sq.storage, avg?.storage ?? null, buf?.storage ?? null, p.size, {
      lr: this.lr,
      alpha: this.alpha,
      eps: this.eps,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
      centered: this.centered,
    });
  }
  protected options() {
    return { alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered };
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

export class Adam extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  protected decoupled = false;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, type = 'Adam', defaultWd = 0) {
    super(params, opts.lr ?? 1e-3, type);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? defaultWd;
    this.amsgrad = opts.amsgrad ?? false;
    checkRange01(type, 'beta1', this.beta1);
    checkRange01(type, 'beta2', this.beta2);
    checkNonNegative(type, 'eps', this.eps);
    checkNonNegative(type, 'weightDecay', this.weightDecay);
  }
  protected update(p: Tensor, g: Tensor, i: number): void {
    const m = this.slot(i, 'expAvg');
    const v = this.slot(i, 'expAvgSq');
    const vmax = this.amsgrad ? this.slot(i, 'maxExpAvgSq') : null;
    p.backend.adamStep(p.storage, g.storage, m.storage, v.storage, vmax?.storage ?? null, p.size, {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      amsgrad: this.amsgrad,
      step: this.stepCount,
    });
  }
  protected options() {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, amsgrad: this.amsgrad };
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); default weightDecay 0.01 as in PyTorch. */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', 0.01);
    this.decoupled = true;
  }
}
