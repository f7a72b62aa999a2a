/** Training end to end: a 2-layer MLP must learn XOR (loss below 0.01). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../src/index.js';
import { Adam, Linear, Rng, Sequential, Tanh } from '../src/index.js';

it('a 2-layer MLP learns XOR to a loss below 0.01', () => {
  const rng = new Rng(0);
  const model = new Sequential(new Linear(2, 8, { rng }), new Tanh(), new Linear(8, 1, { rng }));
  const opt = new Adam(model.parameters(), { lr: 0.05 });
  const x = r.tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]);
  const y = r.tensor([[0], [1], [1], [0]]);
  let loss = Infinity;
  for (let step = 0; step < 400 && loss >= 0.01; step++) {
    loss = r.tidy(() => {
      opt.zeroGrad();
      const l = r.mseLoss(model.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    });
  }
  assert.ok(loss < 0.01, `final loss ${loss}`);
  const pred = r.noGrad(() => model.forward(x)).toArray() as number[][];
  assert.deepEqual(
    pred.map(([p]) => Math.round(p)),
    [0, 1, 1, 0],
  );
});
