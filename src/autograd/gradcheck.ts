/**
 * Check an op's analytic gradients against central finite differences.
 * The function is re-run on the float64 reference backend, so the
 * differences are taken in double precision and the comparison can be tight.
 */
import { withBackend } from '../backend/registry.js';
import { Rng } from '../random/rng.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { noGrad } from './graph.js';
import { mul } from '../ops/arith.js';
import { sum } from '../ops/reduce.js';

/** Step and tolerances for `gradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Allowed |analytic - numeric| <= atol + rtol * |numeric| (defaults 1e-5 and 1e-4). */
  atol?: number;
  /** Relative tolerance (default 1e-4); see `atol`. */
  rtol?: number;
  /** Backend to run on (default 'js-f64'); pass 'js' to check a float32 backend with looser tolerances. */
  backend?: string;
}

/** What `gradcheck` compared when every gradient matched. */
export interface GradcheckResult {
  /** The largest |analytic - numeric| over all checked elements. */
  maxAbsError: number;
  /** How many input elements were checked. */
  checked: number;
}

/**
 * Check that a function's gradients are right, for a new op or a custom
 * layer: `fn` maps the inputs to one tensor. Inputs with requiresGrad set are checked
 * (all of them if none is set). The output is reduced with fixed random
 * weights, so every output element's gradient path is exercised. Throws with
 * the first mismatch; returns the largest error seen otherwise.
 *
 * @example
 * ```ts
 * const x = randn([3, 4]);
 * const w = randn([4, 2]);
 * gradcheck((x, w) => x.matmul(w).tanh(), [x, w]); // { maxAbsError: ~1e-10, checked: 20 }
 * ```
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-4, backend = 'js-f64' } = opts;
  return withBackend(backend, () => {
    const anyFlagged = inputs.some((t) => t.requiresGrad);
    const xs = inputs.map((t) => tensor(Array.from(t.data), t.shape, { requiresGrad: anyFlagged ? t.requiresGrad : true }));
    const out0 = fn(...xs);
    const rng = new Rng(1234);
    const w = tensor(
      Array.from({ length: out0.size }, () => rng.uniform(-1, 1)),
      out0.shape,
    );
    const objective = (): number =>
      noGrad(() => {
        const o = fn(...xs);
        const v = sum(mul(o, w)).item();
        o.dispose();
        return v;
      });
    sum(mul(out0, w)).backward();

    let maxAbsError = 0;
    let checked = 0;
    xs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const analytic = x.grad ? Array.from(x.grad.data) : new Array<number>(x.size).fill(0);
      for (let j = 0; j < x.size; j++) {
        const orig = x.data[j];
        x.backend.write(x.storage, [orig + eps], j);
        const fp = objective();
        x.backend.write(x.storage, [orig - eps], j);
        const fm = objective();
        x.backend.write(x.storage, [orig], j);
        const numeric = (fp - fm) / (2 * eps);
        const err = Math.abs(analytic[j] - numeric);
        maxAbsError = Math.max(maxAbsError, err);
        checked++;
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          throw new Error(
            `gradcheck: input ${i} ${formatShape(x.shape)} element ${j}: analytic gradient ${analytic[j]} ` +
              `but finite differences give ${numeric} (error ${err.toExponential(3)})`,
          );
        }
      }
    });
    return { maxAbsError, checked };
  });
}
