/**
 * A recurrent cell written from tensor ops, run by the same sequence
 * machinery as the built-in layers (`unroll`, with lengths and reverse).
 * The cell is a "minimal gated unit" (Zhou et al. 2016): one forget gate.
 * Task: for sequences of 1..12 random numbers, predict at each step whether
 * the running sum is positive.
 *   npx tsx examples/custom-cell.ts
 */
import * as r from '../src/index.js';
import { Adam, Linear, Module, Rng, parameter, unroll, type RecurrentCell, type Tensor } from '../src/index.js';

class MinimalGatedUnit extends Module implements RecurrentCell {
  wf: Tensor;
  bf: Tensor;
  wh: Tensor;
  bh: Tensor;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    rng: Rng,
  ) {
    super();
    const k = 1 / Math.sqrt(hiddenSize);
    const w = (shape: number[]): Tensor => parameter(r.uniform(shape, -k, k, { rng }));
    this.wf = w([hiddenSize, inputSize + hiddenSize]);
    this.bf = w([hiddenSize]);
    this.wh = w([hiddenSize, inputSize + hiddenSize]);
    this.bh = w([hiddenSize]);
  }
  initialState(batch: number): Tensor[] {
    return [r.zeros([batch, this.hiddenSize])];
  }
  step(x: Tensor, [h]: Tensor[]): Tensor[] {
    const f = r.sigmoid(r.linear(r.concat([x, h], 1), this.wf, this.bf));
    const candidate = r.tanh(r.linear(r.concat([x, r.mul(f, h)], 1), this.wh, this.bh));
    return [r.add(r.mul(r.sub(1, f), h), r.mul(f, candidate))];
  }
  forward(x: Tensor, lengths?: number[]): Tensor {
    return unroll(this, x, { lengths }).output;
  }
}

const rng = new Rng(0);
const cell = new MinimalGatedUnit(1, 16, rng);
const head = new Linear(16, 1, { rng });
const opt = new Adam([...cell.parameters(), ...head.parameters()], { lr: 0.02 });
const B = 32,
  T = 12;

for (let step = 1; step <= 300; step++) {
  const { loss, acc } = r.tidy(() => {
    const lengths = Array.from({ length: B }, () => 1 + rng.int(T));
    const xs = Array.from({ length: B * T }, () => rng.uniform(-1, 1));
    const ys: number[] = [];
    const mask: number[] = [];
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let t = 0; t < T; t++) {
        s += xs[b * T + t];
        ys.push(s > 0 ? 1 : 0);
        mask.push(t < lengths[b] ? 1 : 0);
      }
    }
    const logits = head.forward(cell.forward(r.tensor(xs, [B, T, 1]), lengths)).reshape(B * T);
    // two-class cross-entropy on [-logit, logit]; padded steps are ignored
    const pair = r.stack([r.neg(logits), logits], 1);
    const targets = ys.map((y, i) => (mask[i] ? y : -100));
    const l = r.crossEntropy(pair, targets);
    opt.zeroGrad();
    l.backward();
    opt.step();
    let right = 0,
      n = 0;
    logits.data.forEach((v, i) => {
      if (mask[i]) {
        n++;
        if ((v > 0 ? 1 : 0) === ys[i]) right++;
      }
    });
    return { loss: l.item(), acc: right / n };
  });
  if (step % 50 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}, accuracy ${(acc * 100).toFixed(1)}%`);
}
