/**
 * One time step of each recurrent cell, composed from tensor ops. These are
 * the reference definitions (PyTorch's equations and gate orders); the fused
 * backend kernels of the built-in layers are tested against them.
 *
 *   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)
 *   LSTM: i,f,g,o = chunks of W_ih x + b_ih + W_hh h + b_hh   (gate order i, f, g, o)
 *         with peepholes (TensorFlow's use_peepholes): i += w_ci ⊙ c, f += w_cf ⊙ c, o += w_co ⊙ c'
 *         with a forget-gate offset B (TensorFlow's forget_bias, a constant): f += B
 *         c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g);  h' = σ(o) ⊙ tanh(c')
 *   GRU:  r,z,n chunks (order r, z, n); r = σ(x_r + h_r), z = σ(x_z + h_z)
 *         n = tanh(x_n + r ⊙ (W_hn h + b_hn));  h' = (1 - z) ⊙ n + z ⊙ h
 *   minGRU:  z, h~ chunks of W_ih x + b_ih;  h' = (1 - σ(z)) ⊙ h + σ(z) ⊙ h~
 *   minLSTM: f, i, h~ chunks;  f = σ(f), i = σ(i);  h' = f/(f+i) ⊙ h + i/(f+i) ⊙ h~
 *   (Feng et al. 2024; no W_hh, so a whole sequence is one GEMM and a linear scan)
 */
import type { Tensor } from '../../tensor/tensor.js';
import { add, div, mul, sub } from '../../ops/arith.js';
import { relu, sigmoid, tanh } from '../../ops/unary.js';
import { linear } from '../../ops/linear.js';
import { chunk } from '../../ops/shape.js';
import type { CellKind, Nonlinearity } from './kinds.js';

export type { Nonlinearity } from './kinds.js';

// the fused op (a lower layer) takes the same weights, so the types live there
import type { CellWeights, LstmExtras, Peepholes } from '../../ops/recurrent.js';
export type { CellWeights, Peepholes };

/** W_hh of a step kind (the scan kinds have none, and never reach these steps). */
function whh(w: CellWeights): Tensor {
  if (!w.weightHh) throw new Error('this recurrent step needs hidden-to-hidden weights (weight_hh), and the layer has none');
  return w.weightHh;
}

const act = (name: Nonlinearity, x: Tensor): Tensor => (name === 'tanh' ? tanh(x) : name === 'relu' ? relu(x) : sigmoid(x));

/** One Elman RNN step: h' = act(W_ih x + b_ih + W_hh h + b_hh), for x [batch, input] and h [batch, hidden]. */
export function rnnStep(x: Tensor, h: Tensor, w: CellWeights, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  return act(nonlinearity, add(linear(x, w.weightIh, w.biasIh), linear(h, whh(w), w.biasHh)));
}

/**
 * One LSTM step (gates i, f, g, o), optionally with peepholes and with a
 * constant `forgetGateOffset` added to the forget gate's pre-activation
 * (TensorFlow's forget_bias); returns the new h and c.
 */
export function lstmStep(
  x: Tensor,
  h: Tensor,
  c: Tensor,
  w: CellWeights,
  peep?: Peepholes | null,
  forgetGateOffset = 0,
): {
  /** The new hidden state (the output). */
  h: Tensor;
  /** The new cell state. */
  c: Tensor;
} {
  const gates = add(linear(x, w.weightIh, w.biasIh), linear(h, whh(w), w.biasHh));
  let [i, f, g, o] = chunk(gates, 4, 1);
  if (forgetGateOffset !== 0) f = add(f, forgetGateOffset);
  if (peep) {
    i = add(i, mul(peep.weightCi, c));
    f = add(f, mul(peep.weightCf, c));
  }
  const c2 = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
  if (peep) o = add(o, mul(peep.weightCo, c2));
  return { h: mul(sigmoid(o), tanh(c2)), c: c2 };
}

/** One GRU step (gates r, z, n as PyTorch defines them); returns the new h. */
export function gruStep(x: Tensor, h: Tensor, w: CellWeights): Tensor {
  const [xr, xz, xn] = chunk(linear(x, w.weightIh, w.biasIh), 3, 1);
  const [hr, hz, hn] = chunk(linear(h, whh(w), w.biasHh), 3, 1);
  const r = sigmoid(add(xr, hr));
  const z = sigmoid(add(xz, hz));
  const n = tanh(add(xn, mul(r, hn)));
  // (1 - z) n + z h  ==  n + z (h - n)
  return add(n, mul(z, sub(h, n)));
}

/** One minGRU step: h' = (1 - z) h + z h~ with z = σ(W_z x + b_z), h~ = W_h x + b_h. */
export function minGruStep(x: Tensor, h: Tensor, w: CellWeights): Tensor {
  const [z, hTilde] = chunk(linear(x, w.weightIh, w.biasIh), 2, 1);
  // (1 - z) h + z h~  ==  h + z (h~ - h)
  return add(h, mul(sigmoid(z), sub(hTilde, h)));
}

/** One minLSTM step, the paper's equations as written: h' = f/(f+i) h + i/(f+i) h~. */
export function minLstmStep(x: Tensor, h: Tensor, w: CellWeights): Tensor {
  const [pf, pi, hTilde] = chunk(linear(x, w.weightIh, w.biasIh), 3, 1);
  const f = sigmoid(pf),
    i = sigmoid(pi);
  const s = add(f, i);
  return add(mul(div(f, s), h), mul(div(i, s), hTilde));
}

/** One step of any kind on its state list ([h], or [h, c] for a kind with a cell state). */
export type ComposedStep = (x: Tensor, state: Tensor[], w: CellWeights, o: { nonlinearity: Nonlinearity } & LstmExtras) => Tensor[];

/** The reference step of each registered kind (nn/rnn/kinds.ts); a kind without one does not compile. */
export const COMPOSED_STEPS: { readonly [K in CellKind]: ComposedStep } = {
  lstm: (x, [h, c], w, o) => {
    const s = lstmStep(x, h, c, w, o.peepholes, o.forgetGateOffset);
    return [s.h, s.c];
  },
  gru: (x, [h], w) => [gruStep(x, h, w)],
  rnn: (x, [h], w, o) => [rnnStep(x, h, w, o.nonlinearity)],
  mingru: (x, [h], w) => [minGruStep(x, h, w)],
  minlstm: (x, [h], w) => [minLstmStep(x, h, w)],
};
