/**
 * Forecasting baselines a model has to beat: the naive forecast (the last
 * value, repeated) and a linear fit (least-squares autoregression: each of
 * the next `horizon` values as a weighted sum of the last `lags` values plus
 * a constant, Hands-On ML's "linear model"). Plain float64 arithmetic, no
 * tensors. No Node imports.
 */

/** The last value of each history, repeated `horizon` times. */
export function naiveForecast(history: ArrayLike<number>, horizon: number): Float64Array {
  if (history.length === 0) throw new Error('naiveForecast: the history is empty');
  return new Float64Array(horizon).fill(history[history.length - 1]);
}

/** Solve the symmetric positive definite system A x = b (A n x n row-major) by Cholesky; A and b are overwritten. */
function solveSpd(A: Float64Array, b: Float64Array, n: number, cols: number): void {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= A[j * n + k] ** 2;
    if (!(d > 0)) throw new Error('LinearAR: the least-squares system is singular (is the series constant?)');
    d = Math.sqrt(d);
    A[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
  }
  for (let c = 0; c < cols; c++) {
    for (let i = 0; i < n; i++) {
      let s = b[i * cols + c];
      for (let k = 0; k < i; k++) s -= A[i * n + k] * b[k * cols + c];
      b[i * cols + c] = s / A[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = b[i * cols + c];
      for (let k = i + 1; k < n; k++) s -= A[k * n + i] * b[k * cols + c];
      b[i * cols + c] = s / A[i * n + i];
    }
  }
}

/** A least-squares linear autoregression predicting `horizon` values from the last `lags`. */
export class LinearAR {
  /** The fitted coefficients, `[(lags + 1) x horizon]`: weights of the lags (oldest first), then the constant. */
  readonly weights: Float64Array;

  private constructor(
    /** Past values each prediction reads. */
    readonly lags: number,
    /** Values predicted at once. */
    readonly horizon: number,
    weights: Float64Array,
  ) {
    this.weights = weights;
  }

  /**
   * Fit on windows of at least `lags + horizon` values: the first `lags`
   * are the inputs, the next `horizon` the targets. `ridge` (default 1e-6,
   * relative to the data's scale) keeps the system well-posed.
   */
  static fit(windows: readonly ArrayLike<number>[], lags: number, horizon: number, ridge = 1e-6): LinearAR {
    if (!(Number.isInteger(lags) && lags >= 1 && Number.isInteger(horizon) && horizon >= 1)) {
      throw new Error(`LinearAR: lags and horizon must be whole numbers of at least 1, got ${lags} and ${horizon}`);
    }
    if (windows.length === 0) throw new Error('LinearAR: no windows to fit');
    const n = lags + 1;
    const A = new Float64Array(n * n);
    const B = new Float64Array(n * horizon);
    const row = new Float64Array(n);
    for (const w of windows) {
      if (w.length < lags + horizon) throw new Error(`LinearAR: a window has ${w.length} values, fewer than lags + horizon = ${lags + horizon}`);
      for (let i = 0; i < lags; i++) row[i] = w[i];
      row[lags] = 1;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) A[i * n + j] += row[i] * row[j];
        for (let h = 0; h < horizon; h++) B[i * horizon + h] += row[i] * w[lags + h];
      }
    }
    let trace = 0;
    for (let i = 0; i < n; i++) trace += A[i * n + i];
    for (let i = 0; i < n; i++) A[i * n + i] += ridge * (trace / n);
    solveSpd(A, B, n, horizon);
    return new LinearAR(lags, horizon, B);
  }

  /** The next `horizon` values after a history (its last `lags` values are used). */
  predict(history: ArrayLike<number>): Float64Array {
    const { lags, horizon } = this;
    if (history.length < lags) throw new Error(`LinearAR: the history has ${history.length} values, fewer than the ${lags} lags`);
    const off = history.length - lags;
    const out = new Float64Array(horizon);
    for (let h = 0; h < horizon; h++) {
      let s = this.weights[lags * horizon + h];
      for (let i = 0; i < lags; i++) s += this.weights[i * horizon + h] * history[off + i];
      out[h] = s;
    }
    return out;
  }
}

/** Mean squared error between predictions and targets (equal lengths, or each pair of rows). */
export function meanSquaredError(pred: readonly ArrayLike<number>[], target: readonly ArrayLike<number>[]): number {
  if (pred.length !== target.length) throw new Error(`meanSquaredError: ${pred.length} predictions for ${target.length} targets`);
  let s = 0,
    n = 0;
  pred.forEach((p, i) => {
    const t = target[i];
    if (p.length !== t.length) throw new Error(`meanSquaredError: prediction ${i} has ${p.length} values, its target ${t.length}`);
    for (let j = 0; j < p.length; j++) {
      s += (p[j] - t[j]) ** 2;
      n++;
    }
  });
  return s / n;
}
