/**
 * Optimizer base: a list of parameters, hyper-parameters, a step count, and
 * per-parameter state tensors (moments, accumulators) that live on the
 * backend and update in place through fused backend kernels. The state dict
 * holds all of it, so a resumed run continues exactly where it stopped.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { formatShape, sameShape } from '../tensor/shape.js';

/** An optimizer's whole state, as checkpoints store it; `loadStateDict` takes it back. */
export interface OptimizerStateDict {
  /** The optimizer's name ('Adam', 'SGD', ...): a state only loads into the same kind. */
  type: string;
  /** Steps taken (Adam's bias correction depends on it). */
  step: number;
  /** The hyper-parameters, lr included. */
  options: Record<string, number | boolean>;
  /** `${paramIndex}.${name}` -> state tensor. */
  state: Record<string, Tensor>;
}

/**
 * The base of every optimizer: a list of parameters, a learning rate
 * (`lr`, changeable between steps), `zeroGrad()`, `step()`, and state dicts
 * for checkpoints. Each subclass's update rule runs as one backend kernel.
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 3e-3 });
 * opt.zeroGrad();
 * loss.backward();
 * clipGradNorm(model.parameters(), 5);
 * opt.step();
 * ```
 */
export abstract class Optimizer {
  /** The parameters it updates, in the order given (state dict keys use these indices). */
  readonly params: Tensor[];
  /** Number of completed steps. */
  stepCount = 0;
  /** Current learning rate (schedulers change it). */
  lr: number;
  /** Per-parameter state tensors by parameter index and slot name (see `slot`). */
  protected readonly state: Map<number, Record<string, Tensor>> = new Map();

  constructor(
    params: Iterable<Tensor>,
    lr: number,
    /** The name state dicts carry, so one optimizer's state never loads into another. */
    readonly type: string,
  ) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${type}: no parameters to optimize`);
    for (const p of this.params) {
      if (!p.requiresGrad) throw new Error(`${type}: parameter ${formatShape(p.shape)} does not require grad`);
    }
    checkNonNegative(type, 'lr', lr);
    this.lr = lr;
  }

  /** Apply one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad) this.update(p, p.grad, i);
    });
  }

  /** The update rule: change parameter `p` (the `index`-th) in place from its gradient `g`. */
  protected abstract update(p: Tensor, g: Tensor, index: number): void;

  /** Hyper-parameters, saved in the state dict and checked on load. */
  protected abstract options(): Record<string, number | boolean>;
  /** Restore hyper-parameters saved by `options()` (field names match). */
  protected setOptions(o: Record<string, number | boolean>): void {
    Object.assign(this, o);
  }

  /** Drop every parameter's gradient before the next backward (gradients accumulate otherwise). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** A named state tensor for parameter `i`, created as zeros on first use. */
  protected slot(i: number, name: string): Tensor {
    let s = this.state.get(i);
    if (!s) this.state.set(i, (s = {}));
    if (!s[name]) {
      const p = this.params[i];
      s[name] = zeros(p.shape, { backend: p.backend }).keep();
    }
    return s[name];
  }

  /** Whether parameter `i` has state `name` yet (so an update can tell its first step). */
  protected hasSlot(i: number, name: string): boolean {
    return !!this.state.get(i)?.[name];
  }

  /** The step count, hyper-parameters and state tensors (the tensors themselves, not copies), for a checkpoint. */
  stateDict(): OptimizerStateDict {
    const state: Record<string, Tensor> = {};
    for (const [i, slots] of this.state) for (const [name, t] of Object.entries(slots)) state[`${i}.${name}`] = t;
    return { type: this.type, step: this.stepCount, options: { ...this.options(), lr: this.lr }, state };
  }

  /**
   * Continue from a saved state: copies its tensors and takes its step count
   * and hyper-parameters. Refuses a state from another kind of optimizer or
   * for parameters of other shapes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.type !== this.type) {
      throw new Error(`${this.type}.loadStateDict: the state was saved by ${sd.type}, not ${this.type}`);
    }
    const next = new Map<number, Record<string, Tensor>>();
    for (const [key, t] of Object.entries(sd.state)) {
      const m = /^(\d+)\.(\w+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= this.params.length) {
        throw new Error(`${this.type}.loadStateDict: state '${key}' does not belong to any of the ${this.params.length} parameters`);
      }
      const p = this.params[i];
      if (!sameShape(t.shape, p.shape)) {
        throw new Error(`${this.type}.loadStateDict: state '${key}' has shape ${formatShape(t.shape)} but parameter ${i} is ${formatShape(p.shape)}`);
      }
      const copy = zeros(p.shape, { backend: p.backend }).keep();
      copy.backend.write(copy.storage, t.data);
      const slots = next.get(i) ?? {};
      slots[m[2]] = copy;
      next.set(i, slots);
    }
    for (const slots of this.state.values()) for (const t of Object.values(slots)) t.dispose();
    this.state.clear();
    for (const [i, s] of next) this.state.set(i, s);
    this.stepCount = sd.step;
    const { lr, ...rest } = sd.options;
    if (typeof lr === 'number') this.lr = lr;
    this.setOptions(rest);
  }
}

export function checkNonNegative(op: string, name: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
    throw new Error(`${op}: ${name} must be a non-negative number, got ${v}`);
  }
}

export function checkRange01(op: string, name: string, v: number): void {
  if (!(typeof v === 'number' && v >= 0 && v < 1)) throw new Error(`${op}: ${name} must be in [0, 1), got ${v}`);
}
