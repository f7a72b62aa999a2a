/**
 * Reverse-mode differentiation: order the graph topologically from the root
 * (iterative depth-first search, so deep unrolled RNNs do not overflow the
 * stack), then walk it backwards, summing each tensor's incoming gradients
 * before its own backward runs. Leaf gradients accumulate into `.grad`.
 * Afterwards the graph is freed; a second backward through it is an error.
 */
import type { Tensor } from '../tensor/tensor.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { keep } from '../tensor/scope.js';
import { noGrad } from './graph.js';
import { onesLike } from '../tensor/create.js';
import { add } from '../ops/arith.js';

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const u = inputs[i];
      if (u.requiresGrad && !visited.has(u)) {
        visited.add(u);
        stack.push([u, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before the tensors made from them
}

function freedError(op: string): Error {
  return new Error(
    `backward: the graph through '${op}' has already been freed by an earlier backward(); ` +
      'run the forward pass again, or call backward(grad, { retainGraph: true }) the first time',
  );
}

export function backward(root: Tensor, grad: Tensor | undefined, opts: { retainGraph?: boolean }): void {
  if (!root.requiresGrad) {
    throw new Error('backward: this tensor does not require grad (no input of the computation had requiresGrad set)');
  }
  if (root.node && !root.node.backward) throw freedError(root.node.op);
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new Error(`backward: gradient can only be implied for a one-element output; this one has shape ${formatShape(root.shape)}, so pass grad`);
    }
  } else if (!sameShape(grad.shape, root.shape)) {
    throw new Error(`backward: grad shape ${formatShape(grad.shape)} does not match the output shape ${formatShape(root.shape)}`);
  }

  noGrad(() => {
    const order = topoOrder(root);
    // Pending gradients, and how many pending entries hold each gradient tensor
    // (a backward may hand the same tensor to several inputs).
    const grads = new Map<Tensor, Tensor>();
    const holders = new Map<Tensor, number>();
    const hold = (t: Tensor, g: Tensor): void => {
      grads.set(t, g);
      holders.set(g, (holders.get(g) ?? 0) + 1);
    };
    const release = (t: Tensor): void => {
      const g = grads.get(t)!;
      grads.delete(t);
      const n = holders.get(g)! - 1;
      if (n === 0) holders.delete(g);
      else holders.set(g, n);
    };
    // Tensors the caller passed in or a leaf now holds: never disposed here.
    const owned = new Set<Tensor>();
    const disposable = (g: Tensor): boolean => !owned.has(g) && !holders.has(g);

    const seed = grad ?? onesLike(root);
    if (grad) owned.add(grad);
    hold(root, seed);

    /** Add g to t's pending gradient; returns the tensors this made unnecessary. */
    const accumulate = (t: Tensor, g: Tensor): Tensor[] => {
      if (!sameShape(g.shape, t.shape)) {
        throw new Error(
          `backward: internal error: gradient ${formatShape(g.shape)} for a tensor of shape ${formatShape(t.shape)}` + ` (input of '${t.node?.op ?? 'leaf'}')`,
        );
      }
      const prev = grads.get(t);
      if (!prev) {
        hold(t, g);
        return [];
      }
      release(t);
      hold(t, add(prev, g));
      return [prev, g];
    };

    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      release(t);
      const node = t.node;
      if (!node) {
        // A leaf: accumulate into .grad. The gradient a leaf keeps must be its own
        // (optimizers and clipping write grads in place), so clone shared ones.
        if (t.grad) {
          const sum = add(t.grad, g);
          t.grad.dispose();
          t.grad = keep(sum);
          if (disposable(g)) g.dispose();
        } else {
          const shared = !disposable(g) || g.storageShared;
          t.grad = keep(shared ? g.clone() : g);
        }
        owned.add(t.grad);
        continue;
      }
      if (!node.backward) throw freedError(node.op);
      const inGrads = node.backward(g);
      // Dispose only after every input has taken its gradient: one tensor may go to several.
      const done = new Set<Tensor>([g]);
      for (let i = 0; i < node.inputs.length; i++) {
        const u = node.inputs[i];
        const gu = inGrads[i];
        if (!gu) continue;
        if (u.requiresGrad) for (const x of accumulate(u, gu)) done.add(x);
        else done.add(gu);
      }
      for (const x of done) if (disposable(x)) x.dispose();
      if (!opts.retainGraph) {
        node.backward = null;
        node.inputs = [];
        node.saved = [];
      }
    }
  });
}
