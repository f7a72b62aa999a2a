/**
 * Deterministic memory management (like tfjs's `tidy`). A backend that keeps
 * tensors outside the JavaScript heap (WebAssembly memory) needs them freed
 * explicitly; `tidy(fn)` frees every tensor made inside `fn` except what `fn`
 * returns (and whatever the returned tensors' autograd graphs still need).
 */
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** Called by the Tensor constructor: the innermost open scope owns the new tensor. */
export function track(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Take a tensor out of every open scope, so no `tidy` frees it (parameters, gradients, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Tensors found in a returned value: a tensor, or arrays / plain objects / Maps holding tensors. */
function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function isTensor(v: object): v is Tensor {
  return (v as { __isTensor?: boolean }).__isTensor === true;
}

/** Add everything a tensor's graph still refers to (inputs and saved values of unfreed nodes). */
function addGraph(roots: Set<Tensor>): Set<Tensor> {
  const stack = [...roots];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const node = t.node;
    if (!node || !node.backward) continue;
    for (const u of [...node.inputs, ...node.saved]) {
      if (!roots.has(u)) {
        roots.add(u);
        stack.push(u);
      }
    }
  }
  return roots;
}

/**
 * Run `fn` and free every tensor it made except what it returns (and what a
 * returned tensor's graph still needs for `backward()`), so a training loop's
 * memory stays flat. Tensors can leave a scope with `keep()`.
 *
 * @example
 * ```ts
 * const loss = tidy(() => crossEntropy(model.forward(x), y)); // the intermediates are freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy: the function must not be async (tensors made after an await cannot be tracked)');
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  addGraph(survivors);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Dispose tensors in a value (a tensor, array or object of tensors). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collect(value, found);
  for (const t of found) t.dispose();
}
