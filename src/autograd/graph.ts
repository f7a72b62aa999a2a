/**
 * The autograd tape. An op that produces a tensor from inputs that require
 * gradients attaches a GradNode to its output: the inputs, the tensors its
 * backward needs (kept visible so `tidy` does not free them), and a function
 * from the output's gradient to one gradient per input.
 */
import type { Tensor } from '../tensor/tensor.js';

export type BackwardFn = (gy: Tensor) => (Tensor | null)[];

export interface GradNode {
  readonly op: string;
  inputs: Tensor[];
  saved: Tensor[];
  /** Null once the graph has been freed by a backward pass. */
  backward: BackwardFn | null;
}

let gradEnabled = true;

/** Whether ops record the graph now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without building any graph (inference, optimizer updates, sampling). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Run `fn` with graph building on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attach a backward to `out` if any input needs gradients and grad mode is on.
 * `backward` returns one gradient per input, shaped like that input (or null);
 * it may skip work for inputs whose `requiresGrad` is false.
 */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: BackwardFn, saved: Tensor[] = []): Tensor {
  if (!gradEnabled) return out;
  let needed = false;
  for (const t of inputs) if (t.requiresGrad) needed = true;
  if (!needed) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, saved, backward };
  return out;
}
