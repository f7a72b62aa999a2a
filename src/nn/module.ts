/**
 * Module: the base of every layer. Parameters and sub-modules are found on the
 * instance's own fields (as PyTorch does through __setattr__), in the order
 * they were assigned; arrays of modules are named by index. Names join with
 * dots, so a state dict's keys match PyTorch's (`0.weight`, `rnn.weight_ih_l0`).
 */
import { keep } from '../tensor/scope.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape } from '../tensor/shape.js';

/** Mark a tensor as a trainable parameter (requires grad, kept out of `tidy` scopes). */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  t.isParameter = true;
  return keep(t);
}

/** Parameters by dotted name (`rnn.weight_ih_l0`), the form checkpoints and PyTorch's `state_dict()` use. */
export type StateDict = Record<string, Tensor>;

/**
 * The base of every layer and model, as in PyTorch: parameters and
 * sub-modules found from the object's fields, `parameters()`,
 * `stateDict()` / `loadStateDict()` with PyTorch's dotted names,
 * `train()` / `eval()` modes, and `numParameters()`.
 *
 * @example
 * ```ts
 * class TwoLayer extends Module {
 *   a = new Linear(4, 8);
 *   b = new Linear(8, 1);
 *   forward(x: Tensor): Tensor { return this.b.forward(this.a.forward(x).tanh()); }
 * }
 * const m = new TwoLayer();
 * Object.keys(m.stateDict()); // ['a.weight', 'a.bias', 'b.weight', 'b.bias']
 * ```
 */
export abstract class Module {
  /** Whether the module is in training mode (dropout active); set it with `train()` / `eval()`, which reach every sub-module. */
  training = true;

  /** The module's computation; each layer has its own signature. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  abstract forward(...args: any[]): any;

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i: number) => out.push([`${key}.${i}`, m]));
      }
    }
    return out;
  }

  /** This module's own parameters (not its children's). */
  protected ownParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (isTensor(value) && value.isParameter) out.push([key, value]);
    }
    return out;
  }

  /** Every parameter below this module with its dotted name (`prefix` goes in front), in the order fields were assigned. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = this.ownParameters().map(([k, t]) => [prefix + k, t]);
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Every parameter below this module: what an optimizer is given. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** This module and every module below it, with dotted names (this one's is `prefix` without its final dot). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(`${prefix}${name}.`));
    return out;
  }

  /** Total number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** The parameters by name (the tensors themselves, not copies). */
  stateDict(): StateDict {
    return Object.fromEntries(this.namedParameters());
  }

  /**
   * Copy values into the parameters. Shapes must match; with `strict` (the
   * default) the keys must match exactly, and the error lists what differs.
   */
  loadStateDict(dict: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const { strict = true } = opts;
    const own = new Map(this.namedParameters());
    const missing = [...own.keys()].filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new Error(`loadStateDict: the state dict does not match the model (${parts.join('; ')})`);
    }
    for (const [name, param] of own) {
      const src = dict[name];
      if (!src) continue;
      if (!sameShape(src.shape, param.shape)) {
        throw new Error(`loadStateDict: '${name}' has shape ${formatShape(src.shape)} in the state dict but ${formatShape(param.shape)} in the model`);
      }
    }
    for (const [name, param] of own) {
      const src = dict[name];
      if (src && src !== param) param.backend.write(param.storage, src.data);
    }
  }

  /** Training mode (dropout active) for this module and all below it. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (dropout off) for this module and all below it: before validation or sampling. */
  eval(): this {
    return this.train(false);
  }

  /** Free every parameter's gradient; backward() accumulates, so call it (or the optimizer's zeroGrad) between steps. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }
}
