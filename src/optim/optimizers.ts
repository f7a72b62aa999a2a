/** SGD (momentum, Nesterov), Adagrad, RMSprop, Adam and AdamW, with PyTorch's update rules. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative, checkRange01 } from './optimizer.js';

/** `SGD`'s hyper-parameters, PyTorch's names and defaults. */
export interface SGDOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum's gradient term (default 0). */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

/** Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and weight decay, as torch.optim.SGD. */
export class SGD extends Optimizer {
  /** Momentum factor. */
  momentum: number;
  /** Dampening of the gradient term in the momentum buffer. */
  dampening: number;
  /** Whether the momentum is Nesterov's. */
  nesterov: boolean;
  /** L2 penalty coefficient. */
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
  protected options(): Record<string, number | boolean> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

/** `Adagrad`'s hyper-parameters, PyTorch's names and defaults. */
export interface AdagradOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** The rate at step t is lr / (1 + (t - 1) * lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** The squared-gradient sums' starting value (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator for stability (default 1e-10). */
  eps?: number;
}

/** Adagrad: per-element rates from the running sum of squared gradients (min-char-rnn's optimizer). */
export class Adagrad extends Optimizer {
  /** Learning-rate decay per step. */
  lrDecay: number;
  /** L2 penalty coefficient. */
  weightDecay: number;
  /** Starting value of the squared-gradient sums. */
  initialAccumulatorValue: number;
  /** Denominator term for stability. */
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
  protected options(): Record<string, number | boolean> {
    return { lrDecay: this.lrDecay, weightDecay: this.weightDecay, initialAccumulatorValue: this.initialAccumulatorValue, eps: this.eps };
  }
}

/** `RMSprop`'s hyper-parameters, PyTorch's names and defaults. */
export interface RMSpropOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Divide by the gradient's estimated variance rather than its mean square (default false). */
  centered?: boolean;
}

/** RMSprop: per-element rates from a moving average of squared gradients, as torch.optim.RMSprop. */
export class RMSprop extends Optimizer {
  /** Smoothing constant. */
  alpha: number;
  /** Denominator term for stability. */
  eps: number;
  /** L2 penalty coefficient. */
  weightDecay: number;
  /** Momentum factor. */
  momentum: number;
  /** Whether the variance is centered. */
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
  protected options(): Record<string, number | boolean> {
    return { alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered };
  }
}

/** `Adam`'s and `AdamW`'s hyper-parameters, PyTorch's names and defaults. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the gradient's and the squared gradient's moving averages (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Weight decay: an L2 penalty for Adam (default 0), decoupled for AdamW (default 0.01). */
  weightDecay?: number;
  /** Use the maximum of past squared-gradient averages (AMSGrad; default false). */
  amsgrad?: boolean;
}

/** Adam: per-element rates from moving averages of the gradient and its square, bias-corrected, as torch.optim.Adam; `recur train`'s default. */
export class Adam extends Optimizer {
  /** Decay rate of the gradient's moving average. */
  beta1: number;
  /** Decay rate of the squared gradient's moving average. */
  beta2: number;
  /** Denominator term for stability. */
  eps: number;
  /** Weight decay coefficient. */
  weightDecay: number;
  /** Whether AMSGrad's maximum is used. */
  amsgrad: boolean;
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  protected decoupled = false;
  /** `type` and `defaultWd` are for subclasses such as AdamW. */
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
  protected options(): Record<string, number | boolean> {
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
