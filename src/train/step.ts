/**
 * One truncated-BPTT training step of a char LM: forward from the carried
 * state, cross-entropy, backward, clipping, optimizer update. The training
 * loop, the benchmark and the playground all call this, so what is measured
 * is what is trained.
 */
import { tidy } from '../tensor/scope.js';
import { crossEntropy } from '../ops/loss.js';
import { mul } from '../ops/arith.js';
import { clipGradNorm, clipGradValue } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LanguageModel } from '../models/charlm.js';
import type { RecurrentState } from '../nn/rnn/layers.js';

/** How a step turns its loss into an update: the objective and the clipping. */
export interface StepClip {
  /** Clip gradients to this global norm (0: off). */
  clip: number;
  /** Clip each gradient element to [-clipValue, clipValue] (0: off). */
  clipValue: number;
  /** Descend the loss summed over the window's time steps rather than its mean (TrainOptions.lossSum; default false). */
  lossSum?: boolean;
}

/**
 * Returns the loss and the final state, detached and kept (the caller owns it
 * and disposes `prev`). A non-finite loss skips the update, so the weights
 * stay as they were.
 */
export function trainStep(
  model: LanguageModel,
  opt: Optimizer,
  x: Int32Array,
  y: Int32Array,
  batch: number,
  seq: number,
  prev: RecurrentState,
  clip: StepClip,
): { loss: number; state: RecurrentState } {
  return tidy(() => {
    const out = model.forward(x, batch, seq, prev);
    const loss = crossEntropy(out.logits, y);
    opt.zeroGrad();
    // the sum over time is seq times the mean (the mean over the batch stays), so only the gradients' scale differs
    (clip.lossSum ? mul(loss, seq) : loss).backward();
    if (clip.clipValue > 0) clipGradValue(model.parameters(), clip.clipValue);
    if (clip.clip > 0) clipGradNorm(model.parameters(), clip.clip);
    const value = loss.item();
    if (Number.isFinite(value)) opt.step();
    const state: RecurrentState = { h: out.state.h.detach().keep() };
    if (out.state.c) state.c = out.state.c.detach().keep();
    return { loss: value, state };
  });
}
