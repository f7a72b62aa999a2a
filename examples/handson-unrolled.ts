/**
 * Hands-On Machine Learning (Géron, 1st edition), chapter 14, "Basic RNNs":
 * a layer of 5 tanh recurrent neurons over 3 inputs, unrolled by hand for 2
 * time steps on a mini-batch of 4 instances,
 *
 *   Y0 = tanh(X0 · Wx + b)
 *   Y1 = tanh(Y0 · Wy + X1 · Wx + b)
 *
 * next to recur's RNN layer on the same batch with the same weights (read
 * from the layer); then the book's dynamic_rnn with sequence_length
 * [2, 1, 2, 2]: instance 1 has one step, so its second output is zero and
 * its final state is its first output.
 *
 *   npx tsx examples/handson-unrolled.ts [--seed 42]
 */
import { pathToFileURL } from 'node:url';
import * as r from '../src/index.js';
import { RNN, Rng, type NestedArray, type Tensor } from '../src/index.js';
import { exampleArgs } from './example-args.js';

/** The book's mini-batch: 4 instances of 3 inputs at t = 0 and at t = 1. */
export const X0 = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [9, 0, 1],
];
export const X1 = [
  [9, 8, 7],
  [0, 0, 0],
  [6, 5, 4],
  [3, 2, 1],
];
/** The book's sequence_length: instance 1 is one step long (its X1 row is padding). */
export const SEQ_LENGTH = [2, 1, 2, 2];

type Matrix = number[][];

export interface UnrolledResult {
  /** Y0 and Y1 from the two formulas, [4][5] each. */
  byHand: { y0: Matrix; y1: Matrix };
  /** The layer's outputs at t = 0 and t = 1. */
  layer: { y0: Matrix; y1: Matrix };
  /** The largest |by hand - layer| over both steps. */
  maxDifference: number;
  /** The layer with lengths [2, 1, 2, 2]: outputs [4][2][5] and final states [4][5]. */
  withLengths: { outputs: Matrix[]; states: Matrix };
}

const rows = (t: Tensor): Matrix => t.toArray() as Matrix;

/** The two steps written out, with Wx, Wy and b taken from the layer's PyTorch-layout weights. */
function unrollByHand(rnn: RNN, x0: Tensor, x1: Tensor): { y0: Tensor; y1: Tensor } {
  const w = rnn.weights(0, 0);
  const Wx = w.weightIh.T; // [3, 5]: PyTorch stores [out, in], the book [in, out]
  const Wy = w.weightHh!.T; // [5, 5]
  const b = w.biasIh!.add(w.biasHh!); // the book's one bias is PyTorch's two added
  const y0 = r.tanh(x0.matmul(Wx).add(b));
  const y1 = r.tanh(y0.matmul(Wy).add(x1.matmul(Wx)).add(b));
  return { y0, y1 };
}

export function handsonUnrolled(o: { seed?: number } = {}): UnrolledResult {
  const rnn = new RNN({ inputSize: 3, hiddenSize: 5, rng: new Rng(o.seed ?? 42) });
  return r.noGrad(() =>
    r.tidy(() => {
      const x0 = r.tensor(X0);
      const x1 = r.tensor(X1);
      const byHand = unrollByHand(rnn, x0, x1);
      const x = r.stack([x0, x1], 1); // [batch 4, time 2, inputs 3]
      const { output } = rnn.forward(x);
      const layerY0 = r.squeeze(r.narrow(output, 1, 0, 1), 1);
      const layerY1 = r.squeeze(r.narrow(output, 1, 1, 1), 1);
      const maxDifference = Math.max(maxAbsDiff(byHand.y0, layerY0), maxAbsDiff(byHand.y1, layerY1));
      const masked = rnn.forward(x, { lengths: SEQ_LENGTH });
      return {
        byHand: { y0: rows(byHand.y0), y1: rows(byHand.y1) },
        layer: { y0: rows(layerY0), y1: rows(layerY1) },
        maxDifference,
        withLengths: { outputs: masked.output.toArray() as Matrix[], states: rows(r.squeeze(masked.state.h, 0)) },
      };
    }),
  );
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return r.max(r.abs(a.sub(b))).item();
}

/** What the book's figures show for sequence_length [2, 1, 2, 2], checked on ours; an empty list when all hold. */
export function lengthProblems(res: UnrolledResult): string[] {
  const problems: string[] = [];
  const { outputs, states } = res.withLengths;
  SEQ_LENGTH.forEach((len, i) => {
    for (let t = len; t < 2; t++) {
      if (outputs[i][t].some((v) => v !== 0)) problems.push(`instance ${i}'s output at t = ${t} is past its length ${len} but not zero`);
    }
    if (!sameRow(states[i], outputs[i][len - 1])) problems.push(`instance ${i}'s final state is not its output at its last valid step t = ${len - 1}`);
    const unmasked = [res.layer.y0, res.layer.y1];
    for (let t = 0; t < len; t++) {
      if (!sameRow(outputs[i][t], unmasked[t][i])) problems.push(`instance ${i}'s output at t = ${t} changed when lengths were given`);
    }
  });
  return problems;
}

const sameRow = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, j) => v === b[j]);

/** NumPy's layout, so the arrays read like the book's printouts. */
export function formatArray(a: NestedArray, depth = 0): string {
  if (!Array.isArray(a)) return (a < 0 ? '' : ' ') + a.toFixed(7);
  const rank = rankOf(a);
  // rows of a matrix on their own lines, matrices of a 3-D array apart by a blank line
  const sep = rank === 1 ? ' ' : '\n'.repeat(rank - 1) + ' '.repeat(depth + 1);
  return '[' + a.map((v) => formatArray(v, depth + 1)).join(sep) + ']';
}

const rankOf = (a: NestedArray): number => (Array.isArray(a) ? 1 + rankOf(a[0]) : 0);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = exampleArgs('handson-unrolled', { numbers: { seed: ['number', 42] } });
  const res = handsonUnrolled({ seed: values.seed });
  console.log('Hands-On ML ch. 14: 5 tanh neurons, 3 inputs, 2 steps, a batch of 4 (our weights: recur RNN init, seed ' + values.seed + ')\n');
  console.log('Y0 = tanh(X0·Wx + b), by hand:\n' + formatArray(res.byHand.y0));
  console.log('Y0 from the RNN layer:\n' + formatArray(res.layer.y0));
  console.log('\nY1 = tanh(Y0·Wy + X1·Wx + b), by hand:\n' + formatArray(res.byHand.y1));
  console.log('Y1 from the RNN layer:\n' + formatArray(res.layer.y1));
  console.log(
    `\nlargest difference, by hand vs layer: ${res.maxDifference.toExponential(2)} (float32 rounding; the book's values differ from ours only because its weights are other random draws)`,
  );
  if (!(res.maxDifference <= 1e-6)) throw new Error(`the unrolled computation and the layer disagree by ${res.maxDifference}`);

  console.log(`\nwith sequence lengths [${SEQ_LENGTH.join(', ')}] (the book's dynamic_rnn with sequence_length):`);
  console.log('outputs:\n' + formatArray(res.withLengths.outputs));
  console.log('final states:\n' + formatArray(res.withLengths.states));
  const problems = lengthProblems(res);
  if (problems.length > 0) throw new Error(problems.join('; '));
  console.log(
    "\nbook: instance 1's output at t = 1 is [0. 0. 0. 0. 0.] and its state is its output at t = 0; the others' states are their outputs at t = 1." +
      '\nours: the same, exactly (checked); the valid steps equal the run without lengths.',
  );
}
