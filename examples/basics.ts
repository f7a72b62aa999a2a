/**
 * A tour of the engine: tensors, autograd, a module, an optimizer.
 * Run: npx tsx examples/basics.ts
 */
import * as r from '../src/index.js';
import { Adam, Linear, Sequential, Tanh, clipGradNorm } from '../src/index.js';

r.manualSeed(0);

// Tensors: float32, any rank, row-major, with NumPy broadcasting.
const a = r.tensor([
  [1, 2, 3],
  [4, 5, 6],
]);
console.log('a + [10, 20, 30] =', a.add(r.tensor([10, 20, 30])).toArray());
console.log('a · aᵀ =', a.matmul(a.T).toArray());

// Autograd: mark leaves with requiresGrad, call backward() on a scalar.
const x = r.tensor([0.5, -1, 2], undefined, { requiresGrad: true });
const y = x.mul(x).add(x.tanh()).sum(); // y = Σ x² + tanh x
y.backward();
console.log('dy/dx =', x.grad!.toArray(), '(2x + 1 - tanh²x)');

// A module and an optimizer: fit y = sin(3x) on [-1, 1].
const model = new Sequential(new Linear(1, 32), new Tanh(), new Linear(32, 1));
const opt = new Adam(model.parameters(), { lr: 0.01 });
const xs = r.arange(-1, 1, 0.02).reshape(-1, 1);
const ys = r.noGrad(() => xs.mul(3)).data.map(Math.sin);
const target = r.tensor(ys, xs.shape);
for (let step = 0; step <= 500; step++) {
  // tidy frees every temporary tensor of the step (what the WebAssembly backend needs)
  const loss = r.tidy(() => {
    opt.zeroGrad();
    const l = r.mseLoss(model.forward(xs), target);
    l.backward();
    clipGradNorm(model.parameters(), 5);
    opt.step();
    return l.item();
  });
  if (step % 100 === 0) console.log(`step ${step}: mse ${loss.toFixed(5)}`);
}
console.log('parameters:', model.numParameters(), 'names:', Object.keys(model.stateDict()).join(', '));
