/**
 * The reference backend: plain TypeScript loops over typed arrays. It is the
 * ground truth other backends are tested against, so every loop here is the
 * obvious one; sums accumulate in double precision.
 *
 * `createJsBackend('f64')` gives the same kernels on Float64Array, which
 * gradcheck uses so finite differences are not drowned in float32 rounding.
 */
import { adamBiasCorrection } from '../backend.js';
import { recurrentLayout, recurrentSequenceGradLoop, recurrentSequenceLoop } from '../recurrent-loop.js';
import { GELU_TANH } from '../kernel-constants.js';
import type {
  RecurrentKind,
  RecurrentStepArgs,
  RecurrentStepGradArgs,
  RecurrentSequenceArgs,
  RecurrentSequenceGradArgs,
  ScanArgs,
  ScanGradArgs,
  ScanKind,
  AdagradArgs,
  AdamArgs,
  Backend,
  BinaryOp,
  FloatArray,
  GeluArgs,
  GeluGradArgs,
  HostView,
  MatmulArgs,
  ReduceOp,
  RmspropArgs,
  RmsNormArgs,
  RmsNormGradArgs,
  SgdArgs,
  Storage,
  UnaryGradOp,
  UnaryOp,
} from '../backend.js';

class JsStorage implements HostView {
  freed = false;
  constructor(readonly data: FloatArray) {}
  get size(): number {
    return this.data.length;
  }
}

/**
 * The floats of a storage. Kernels reach storages only through this, as
 * HostViews: the wasm backend runs these kernels on its own storages for the
 * methods in its JS_FALLBACKS list.
 */
const st = (s: Storage): FloatArray => {
  const h = s as HostView;
  if (h.freed) throw new Error('js backend: storage used after it was freed');
  return h.data;
};

/** Iterate an N-d index space, calling `inner(offsets..., count)` for each run of the last dimension. */
function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  fn: (offsets: number[], len: number, innerStrides: number[]) => void,
): void {
  const rank = shape.length;
  const k = strides.length;
  if (rank === 0) {
    fn(new Array(k).fill(0), 1, new Array(k).fill(0));
    return;
  }
  for (const d of shape) if (d === 0) return;
  const last = rank - 1;
  const len = shape[last];
  const innerStrides = strides.map((s) => s[last]);
  const idx = new Array<number>(rank).fill(0);
  const offsets = new Array<number>(k).fill(0);
  for (;;) {
    fn(offsets, len, innerStrides);
    // increment the multi-index over dims [0, last)
    let d = last - 1;
    while (d >= 0) {
      idx[d]++;
      for (let j = 0; j < k; j++) offsets[j] += strides[j][d];
      if (idx[d] < shape[d]) break;
      for (let j = 0; j < k; j++) offsets[j] -= strides[j][d] * shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  min: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
};

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

/**
 * A scan cell's mixing weight u_t, with h_t = h_{t-1} + u_t (h~_t - h_{t-1}):
 * minGRU's z, minLSTM's i' = i / (f + i) = σ(logσ(p_i) - logσ(p_f)). Gate
 * blocks of a row of gx: minGRU z, h~; minLSTM f, i, h~.
 */
/** Gate blocks of gx per kind (minGRU z, h~; minLSTM f, i, h~): the kernels' own layout. */
const SCAN_BLOCKS: Record<ScanKind, number> = { mingru: 2, minlstm: 3 };

function scanMix(kind: ScanKind, GX: FloatArray, g: number, H: number): number {
  return kind === 'mingru' ? sigmoid(GX[g]) : sigmoid(logSigmoid(GX[g + H]) - logSigmoid(GX[g]));
}

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : 0),
  abs: Math.abs,
  square: (x) => x * x,
};

/** d/dx of each unary op given input x and output y. */
const unaryDerivs: Record<UnaryGradOp, (x: number, y: number) => number> = {
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  sqrt: (_x, y) => 0.5 / y,
  tanh: (_x, y) => 1 - y * y,
  sigmoid: (_x, y) => y * (1 - y),
  relu: (x) => (x > 0 ? 1 : 0),
  abs: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  square: (x) => 2 * x,
};

/**
 * C (m x n, row-major at co) = or += A·B for strided A and B. A 2x4 tile of
 * C is kept in locals (doubles) across the whole k loop: four times faster
 * than the naive loop in V8, and the sums are exact to double precision.
 */
function gemmTile(
  A: FloatArray,
  ao: number,
  ars: number,
  acs: number,
  B: FloatArray,
  bo: number,
  brs: number,
  bcs: number,
  C: FloatArray,
  co: number,
  m: number,
  n: number,
  k: number,
  accumulate: boolean,
): void {
  const b1 = bcs,
    b2 = 2 * bcs,
    b3 = 3 * bcs;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = ao + i * ars,
      a1 = a0 + ars,
      c0 = co + i * n,
      c1 = c0 + n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      for (let p = 0, pa = 0, pb = bo + j * bcs; p < k; p++, pa += acs, pb += brs) {
        const x0 = A[a0 + pa],
          x1 = A[a1 + pa];
        const y0 = B[pb],
          y1 = B[pb + b1],
          y2 = B[pb + b2],
          y3 = B[pb + b3];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      if (accumulate) {
        C[c0 + j] += s00;
        C[c0 + j + 1] += s01;
        C[c0 + j + 2] += s02;
        C[c0 + j + 3] += s03;
        C[c1 + j] += s10;
        C[c1 + j + 1] += s11;
        C[c1 + j + 2] += s12;
        C[c1 + j + 3] += s13;
      } else {
        C[c0 + j] = s00;
        C[c0 + j + 1] = s01;
        C[c0 + j + 2] = s02;
        C[c0 + j + 3] = s03;
        C[c1 + j] = s10;
        C[c1 + j + 1] = s11;
        C[c1 + j + 2] = s12;
        C[c1 + j + 3] = s13;
      }
    }
    for (; j < n; j++) {
      let s0 = 0,
        s1 = 0;
      for (let p = 0, pa = 0, pb = bo + j * bcs; p < k; p++, pa += acs, pb += brs) {
        const y = B[pb];
        s0 += A[a0 + pa] * y;
        s1 += A[a1 + pa] * y;
      }
      if (accumulate) {
        C[c0 + j] += s0;
        C[c1 + j] += s1;
      } else {
        C[c0 + j] = s0;
        C[c1 + j] = s1;
      }
    }
  }
  for (; i < m; i++) {
    const a0 = ao + i * ars,
      c0 = co + i * n;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0, pa = a0, pb = bo + j * bcs; p < k; p++, pa += acs, pb += brs) s += A[pa] * B[pb];
      if (accumulate) C[c0 + j] += s;
      else C[c0 + j] = s;
    }
  }
}

export function createJsBackend(precision: 'f32' | 'f64' = 'f32'): Backend {
  const Arr = precision === 'f32' ? Float32Array : Float64Array;
  // Freed arrays are kept by size and handed out again: allocation dominates
  // small kernels, and training loops allocate the same sizes every step.
  const pool = new Map<number, FloatArray[]>();
  let pooledFloats = 0;
  const maxPooledFloats = 64 * 1024 * 1024;
  const maxPerSize = 64;

  const take = (size: number): FloatArray => {
    const list = pool.get(size);
    if (list && list.length > 0) {
      pooledFloats -= size;
      const a = list.pop()!;
      a.fill(0);
      return a;
    }
    return new Arr(size);
  };

  const backend: Backend = {
    name: precision === 'f32' ? 'js' : 'js-f64',
    precision,

    alloc: (size) => new JsStorage(take(size)),
    fromValues(values) {
      const a = take(values.length);
      a.set(values as ArrayLike<number>);
      return new JsStorage(a);
    },
    read: (s) => st(s),
    write(s, values, offset = 0) {
      st(s).set(values as ArrayLike<number>, offset);
    },
    free(s) {
      const js = s as JsStorage;
      if (js.freed) return;
      js.freed = true;
      const size = js.data.length;
      if (size === 0 || pooledFloats + size > maxPooledFloats) return;
      let list = pool.get(size);
      if (!list) pool.set(size, (list = []));
      if (list.length >= maxPerSize) return;
      list.push(js.data);
      pooledFloats += size;
    },
    flush() {
      pool.clear();
      pooledFloats = 0;
    },
    fill(s, value, offset = 0, length) {
      const a = st(s);
      a.fill(value, offset, length === undefined ? a.length : offset + length);
    },

    unary(op, x, out, n) {
      const a = st(x),
        o = st(out);
      switch (op) {
        case 'neg':
          for (let i = 0; i < n; i++) o[i] = -a[i];
          return;
        case 'exp':
          for (let i = 0; i < n; i++) o[i] = Math.exp(a[i]);
          return;
        case 'tanh':
          for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]);
          return;
        case 'sigmoid':
          for (let i = 0; i < n; i++) o[i] = sigmoid(a[i]);
          return;
        case 'relu':
          for (let i = 0; i < n; i++) o[i] = a[i] > 0 ? a[i] : 0;
          return;
        default: {
          const f = unaryFns[op];
          for (let i = 0; i < n; i++) o[i] = f(a[i]);
        }
      }
    },
    unaryGrad(op, x, y, gy, gx, n) {
      const xa = st(x),
        ya = st(y),
        g = st(gy),
        o = st(gx);
      const f = unaryDerivs[op];
      for (let i = 0; i < n; i++) o[i] = g[i] * f(xa[i], ya[i]);
    },
    affine(x, out, n, scale, shift) {
      const a = st(x),
        o = st(out);
      for (let i = 0; i < n; i++) o[i] = a[i] * scale + shift;
    },
    powScalar(x, out, n, p) {
      const a = st(x),
        o = st(out);
      for (let i = 0; i < n; i++) o[i] = Math.pow(a[i], p);
    },
    powScalarGrad(x, gy, gx, n, p) {
      const a = st(x),
        g = st(gy),
        o = st(gx);
      for (let i = 0; i < n; i++) o[i] = p === 0 ? 0 : g[i] * p * Math.pow(a[i], p - 1);
    },
    clamp(x, out, n, lo, hi) {
      const a = st(x),
        o = st(out);
      for (let i = 0; i < n; i++) o[i] = a[i] < lo ? lo : a[i] > hi ? hi : a[i];
    },
    binary(op, a, aStrides, b, bStrides, out, shape) {
      const A = st(a),
        B = st(b),
        O = st(out);
      const f = binaryFns[op];
      let o = 0;
      forEachRow(shape, [aStrides, bStrides], (off, len, [sa, sb]) => {
        let ia = off[0],
          ib = off[1];
        if (op === 'add') for (let i = 0; i < len; i++, ia += sa, ib += sb) O[o++] = A[ia] + B[ib];
        else if (op === 'mul') for (let i = 0; i < len; i++, ia += sa, ib += sb) O[o++] = A[ia] * B[ib];
        else if (op === 'sub') for (let i = 0; i < len; i++, ia += sa, ib += sb) O[o++] = A[ia] - B[ib];
        else for (let i = 0; i < len; i++, ia += sa, ib += sb) O[o++] = f(A[ia], B[ib]);
      });
    },
    where(cond, cStrides, a, aStrides, b, bStrides, out, shape) {
      const C = st(cond),
        A = st(a),
        B = st(b),
        O = st(out);
      let o = 0;
      forEachRow(shape, [cStrides, aStrides, bStrides], (off, len, [sc, sa, sb]) => {
        let ic = off[0],
          ia = off[1],
          ib = off[2];
        for (let i = 0; i < len; i++, ic += sc, ia += sa, ib += sb) O[o++] = C[ic] !== 0 ? A[ia] : B[ib];
      });
    },

    stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape, accumulate) {
      const S = st(src),
        D = st(dst);
      forEachRow(shape, [srcStrides, dstStrides], (off, len, [ss, ds]) => {
        let is = srcOffset + off[0],
          id = dstOffset + off[1];
        if (accumulate) for (let i = 0; i < len; i++, is += ss, id += ds) D[id] += S[is];
        else for (let i = 0; i < len; i++, is += ss, id += ds) D[id] = S[is];
      });
    },

    reduce(op: ReduceOp, x, out, outer, n, inner, argOut) {
      const X = st(x),
        O = st(out);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          if (op === 'sum') {
            let s = 0;
            for (let j = 0; j < n; j++) s += X[base + j * inner];
            O[o * inner + i] = s;
          } else {
            let best = -Infinity,
              arg = 0;
            for (let j = 0; j < n; j++) {
              const v = X[base + j * inner];
              // NaN propagates, as in PyTorch's max
              if (v > best || Number.isNaN(v)) {
                best = v;
                arg = j;
                if (Number.isNaN(v)) break;
              }
            }
            O[o * inner + i] = best;
            if (argOut) argOut[o * inner + i] = arg;
          }
        }
      }
    },
    reduceMaxGrad(gy, arg, gx, outer, n, inner) {
      const G = st(gy),
        O = st(gx);
      O.fill(0, 0, outer * n * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) O[(o * n + arg[o * inner + i]) * inner + i] = G[o * inner + i];
      }
    },
    sumSquares(x, n) {
      const X = st(x);
      let s = 0;
      for (let i = 0; i < n; i++) s += X[i] * X[i];
      return s;
    },

    matmul(a, b, c, args: MatmulArgs) {
      const A = st(a),
        B = st(b),
        C = st(c);
      const { batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate, offsetA = 0, offsetB = 0, offsetC = 0 } = args;
      // element (i, p) of A is A[i*ars + p*acs]; (p, j) of B is B[p*brs + j*bcs]
      const ars = transA ? 1 : k,
        acs = transA ? m : 1;
      const brs = transB ? 1 : n,
        bcs = transB ? k : 1;
      for (let t = 0; t < batch; t++) {
        gemmTile(A, offsetA + t * strideA, ars, acs, B, offsetB + t * strideB, brs, bcs, C, offsetC + t * strideC, m, n, k, accumulate);
      }
    },

    gather(x, idx, out, outer, n, inner) {
      const X = st(x),
        O = st(out);
      const m = idx.length;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const r = idx[j];
          if (r < 0 || r >= n) throw new Error(`gather: index ${r} is out of range for a dimension of size ${n}`);
          const src = (o * n + r) * inner,
            dst = (o * m + j) * inner;
          for (let i = 0; i < inner; i++) O[dst + i] = X[src + i];
        }
      }
    },
    scatterAdd(gy, idx, gx, outer, n, inner) {
      const G = st(gy),
        O = st(gx);
      const m = idx.length;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const src = (o * m + j) * inner,
            dst = (o * n + idx[j]) * inner;
          for (let i = 0; i < inner; i++) O[dst + i] += G[src + i];
        }
      }
    },

    softmax(x, out, rows, cols, log) {
      const X = st(x),
        O = st(out);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let mx = -Infinity;
        for (let j = 0; j < cols; j++) if (X[o + j] > mx) mx = X[o + j];
        let s = 0;
        for (let j = 0; j < cols; j++) s += Math.exp(X[o + j] - mx);
        if (log) {
          const lse = mx + Math.log(s);
          for (let j = 0; j < cols; j++) O[o + j] = X[o + j] - lse;
        } else {
          for (let j = 0; j < cols; j++) O[o + j] = Math.exp(X[o + j] - mx) / s;
        }
      }
    },
    softmaxGrad(y, gy, gx, rows, cols, log) {
      const Y = st(y),
        G = st(gy),
        O = st(gx);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        if (log) {
          // y = log p: gx = gy - p * sum(gy)
          let s = 0;
          for (let j = 0; j < cols; j++) s += G[o + j];
          for (let j = 0; j < cols; j++) O[o + j] = G[o + j] - Math.exp(Y[o + j]) * s;
        } else {
          // y = p: gx = p * (gy - sum(gy * p))
          let s = 0;
          for (let j = 0; j < cols; j++) s += G[o + j] * Y[o + j];
          for (let j = 0; j < cols; j++) O[o + j] = Y[o + j] * (G[o + j] - s);
        }
      }
    },
    crossEntropy(logits, targets, loss, probs, rows, cols, ignoreIndex) {
      const X = st(logits),
        L = st(loss),
        P = st(probs);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        const t = targets[r];
        let mx = -Infinity;
        for (let j = 0; j < cols; j++) if (X[o + j] > mx) mx = X[o + j];
        let s = 0;
        for (let j = 0; j < cols; j++) s += Math.exp(X[o + j] - mx);
        for (let j = 0; j < cols; j++) P[o + j] = Math.exp(X[o + j] - mx) / s;
        if (t === ignoreIndex) {
          L[r] = 0;
          continue;
        }
        if (t < 0 || t >= cols || !Number.isInteger(t)) {
          throw new Error(`crossEntropy: target ${t} is out of range for ${cols} classes`);
        }
        L[r] = mx + Math.log(s) - X[o + t];
      }
    },
    crossEntropyGrad(probs, targets, gyRow, gx, rows, cols, ignoreIndex) {
      const P = st(probs),
        G = st(gyRow),
        O = st(gx);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        const t = targets[r];
        if (t === ignoreIndex) {
          O.fill(0, o, o + cols);
          continue;
        }
        const g = G[r];
        for (let j = 0; j < cols; j++) O[o + j] = g * P[o + j];
        O[o + t] -= g;
      }
    },

    recurrentStep(kind: RecurrentKind, a: RecurrentStepArgs) {
      const { B, H, valid } = a;
      const GX = st(a.gx.s),
        GH = a.gh ? st(a.gh.s) : null,
        HP = st(a.hPrev.s),
        HO = st(a.hOut.s),
        ACT = st(a.act.s);
      const CP = a.cPrev ? st(a.cPrev.s) : null,
        CO = a.cOut ? st(a.cOut.s) : null;
      const G = recurrentLayout(kind).gates * H;
      const A = kind === 'rnn_tanh' || kind === 'rnn_relu' || kind === 'rnn_sigmoid' ? 0 : 4 * H;
      const ghAt = (i: number): number => (GH ? GH[i] : 0);
      const PI = a.peepholes ? st(a.peepholes.i) : null,
        PF = a.peepholes ? st(a.peepholes.f) : null,
        PO = a.peepholes ? st(a.peepholes.o) : null;
      const fOffset = a.forgetGateOffset ?? 0;
      for (let b = 0; b < B; b++) {
        const gx = a.gx.off + b * G,
          gh = (a.gh ? a.gh.off : 0) + b * G,
          hp = a.hPrev.off + b * H,
          ho = a.hOut.off + b * H,
          ac = a.act.off + b * A;
        if (valid && !valid[b]) {
          for (let j = 0; j < H; j++) HO[ho + j] = HP[hp + j];
          if (CO && CP) for (let j = 0; j < H; j++) CO[a.cOut!.off + b * H + j] = CP[a.cPrev!.off + b * H + j];
          continue;
        }
        if (kind === 'lstm') {
          const cp = a.cPrev!.off + b * H,
            co = a.cOut!.off + b * H;
          for (let j = 0; j < H; j++) {
            const cPrev = CP![cp + j];
            const i = sigmoid(GX[gx + j] + ghAt(gh + j) + (PI ? PI[j] * cPrev : 0));
            const f = sigmoid(GX[gx + H + j] + ghAt(gh + H + j) + fOffset + (PF ? PF[j] * cPrev : 0));
            const g = Math.tanh(GX[gx + 2 * H + j] + ghAt(gh + 2 * H + j));
            const c = f * cPrev + i * g;
            const o = sigmoid(GX[gx + 3 * H + j] + ghAt(gh + 3 * H + j) + (PO ? PO[j] * c : 0));
            CO![co + j] = c;
            HO[ho + j] = o * Math.tanh(c);
            ACT[ac + j] = i;
            ACT[ac + H + j] = f;
            ACT[ac + 2 * H + j] = g;
            ACT[ac + 3 * H + j] = o;
          }
        } else if (kind === 'gru') {
          for (let j = 0; j < H; j++) {
            const r = sigmoid(GX[gx + j] + ghAt(gh + j));
            const z = sigmoid(GX[gx + H + j] + ghAt(gh + H + j));
            const hn = ghAt(gh + 2 * H + j);
            const n = Math.tanh(GX[gx + 2 * H + j] + r * hn);
            HO[ho + j] = n + z * (HP[hp + j] - n);
            ACT[ac + j] = r;
            ACT[ac + H + j] = z;
            ACT[ac + 2 * H + j] = n;
            ACT[ac + 3 * H + j] = hn;
          }
        } else {
          for (let j = 0; j < H; j++) {
            const v = GX[gx + j] + ghAt(gh + j);
            HO[ho + j] = kind === 'rnn_tanh' ? Math.tanh(v) : kind === 'rnn_relu' ? (v > 0 ? v : 0) : sigmoid(v);
          }
        }
      }
    },
    recurrentStepGrad(kind: RecurrentKind, a: RecurrentStepGradArgs) {
      const { B, H, valid } = a;
      const ACT = st(a.act.s),
        HP = st(a.hPrev.s),
        HO = st(a.hOut.s),
        DH = st(a.dh.s);
      const DGX = st(a.dGx.s),
        DGH = st(a.dGh.s),
        DHP = st(a.dhPrev.s);
      const CP = a.cPrev ? st(a.cPrev.s) : null,
        CO = a.cOut ? st(a.cOut.s) : null;
      const DC = a.dc ? st(a.dc.s) : null,
        DCP = a.dcPrev ? st(a.dcPrev.s) : null;
      const G = recurrentLayout(kind).gates * H;
      const A = kind === 'lstm' || kind === 'gru' ? 4 * H : 0;
      const PI = a.peepholes ? st(a.peepholes.i) : null,
        PF = a.peepholes ? st(a.peepholes.f) : null,
        PO = a.peepholes ? st(a.peepholes.o) : null;
      const DPI = PI && a.dPeepholes ? st(a.dPeepholes.i) : null,
        DPF = PI && a.dPeepholes ? st(a.dPeepholes.f) : null,
        DPO = PI && a.dPeepholes ? st(a.dPeepholes.o) : null;
      for (let b = 0; b < B; b++) {
        const dgx = a.dGx.off + b * G,
          dgh = a.dGh.off + b * G,
          dh = a.dh.off + b * H,
          dhp = a.dhPrev.off + b * H,
          ac = a.act.off + b * A;
        if (valid && !valid[b]) {
          // the state passed through unchanged: so do its gradients
          for (let j = 0; j < G; j++) {
            DGX[dgx + j] = 0;
            DGH[dgh + j] = 0;
          }
          for (let j = 0; j < H; j++) DHP[dhp + j] = DH[dh + j];
          if (DCP && DC) for (let j = 0; j < H; j++) DCP[a.dcPrev!.off + b * H + j] = DC[a.dc!.off + b * H + j];
          continue;
        }
        if (kind === 'lstm') {
          const cp = a.cPrev!.off + b * H,
            co = a.cOut!.off + b * H,
            dc = a.dc!.off + b * H,
            dcp = a.dcPrev!.off + b * H;
          for (let j = 0; j < H; j++) {
            const i = ACT[ac + j],
              f = ACT[ac + H + j],
              g = ACT[ac + 2 * H + j],
              o = ACT[ac + 3 * H + j];
            const c = CO![co + j],
              cPrev = CP![cp + j];
            const tc = Math.tanh(c);
            const dhv = DH[dh + j];
            const dO = dhv * tc * o * (1 - o);
            // with peepholes c_t also reaches h_t through o's pre-activation
            const dct = DC![dc + j] + dhv * o * (1 - tc * tc) + (PO ? dO * PO[j] : 0);
            const di = dct * g * i * (1 - i);
            const df = dct * cPrev * f * (1 - f);
            const dg = dct * i * (1 - g * g);
            if (DPI) {
              DPI[j] += di * cPrev;
              DPF![j] += df * cPrev;
              DPO![j] += dO * c;
            }
            DGX[dgx + j] = di;
            DGX[dgx + H + j] = df;
            DGX[dgx + 2 * H + j] = dg;
            DGX[dgx + 3 * H + j] = dO;
            DGH[dgh + j] = di;
            DGH[dgh + H + j] = df;
            DGH[dgh + 2 * H + j] = dg;
            DGH[dgh + 3 * H + j] = dO;
            DCP![dcp + j] = dct * f + (PI ? di * PI[j] + df * PF![j] : 0);
            DHP[dhp + j] = 0;
          }
        } else if (kind === 'gru') {
          const hp = a.hPrev.off + b * H;
          for (let j = 0; j < H; j++) {
            const r = ACT[ac + j],
              z = ACT[ac + H + j],
              n = ACT[ac + 2 * H + j],
              hn = ACT[ac + 3 * H + j];
            const dhv = DH[dh + j];
            const dnPre = dhv * (1 - z) * (1 - n * n);
            const dzPre = dhv * (HP[hp + j] - n) * z * (1 - z);
            const drPre = dnPre * hn * r * (1 - r);
            DGX[dgx + j] = drPre;
            DGX[dgx + H + j] = dzPre;
            DGX[dgx + 2 * H + j] = dnPre;
            DGH[dgh + j] = drPre;
            DGH[dgh + H + j] = dzPre;
            DGH[dgh + 2 * H + j] = dnPre * r;
            DHP[dhp + j] = dhv * z;
          }
        } else {
          const ho = a.hOut.off + b * H;
          for (let j = 0; j < H; j++) {
            const h = HO[ho + j];
            const d = kind === 'rnn_tanh' ? 1 - h * h : kind === 'rnn_relu' ? (h > 0 ? 1 : 0) : h * (1 - h);
            const v = DH[dh + j] * d;
            DGX[dgx + j] = v;
            DGH[dgh + j] = v;
            DHP[dhp + j] = 0;
          }
        }
      }
    },

    recurrentSequence(kind: RecurrentKind, a: RecurrentSequenceArgs) {
      recurrentSequenceLoop(backend, kind, a);
    },
    recurrentSequenceGrad(kind: RecurrentKind, a: RecurrentSequenceGradArgs) {
      recurrentSequenceGradLoop(backend, kind, a);
    },

    scan(kind: ScanKind, a: ScanArgs) {
      const { B, T, H } = a;
      const nb = SCAN_BLOCKS[kind];
      const G = nb * H;
      const GX = st(a.gx.s),
        H0 = st(a.h0.s),
        OUT = st(a.out.s),
        HT = st(a.hT.s);
      for (let b = 0; b < B; b++) {
        const len = a.lengths ? a.lengths[b] : T;
        OUT.fill(0, a.out.off + (b * T + len) * H, a.out.off + (b + 1) * T * H);
        for (let j = 0; j < H; j++) {
          let h = H0[a.h0.off + b * H + j];
          for (let k = 0; k < len; k++) {
            const t = a.reverse ? len - 1 - k : k;
            const g = a.gx.off + (b * T + t) * G + j;
            const u = scanMix(kind, GX, g, H);
            h += u * (GX[g + (nb - 1) * H] - h);
            OUT[a.out.off + (b * T + t) * H + j] = h;
          }
          HT[a.hT.off + b * H + j] = h;
        }
      }
    },
    scanGrad(kind: ScanKind, a: ScanGradArgs) {
      const { B, T, H } = a;
      const nb = SCAN_BLOCKS[kind];
      const G = nb * H;
      const GX = st(a.gx.s),
        H0 = st(a.h0.s),
        OUT = st(a.out.s),
        DOUT = st(a.dOut.s),
        DHT = st(a.dhT.s),
        DGX = st(a.dGx.s),
        DH0 = st(a.dh0.s);
      for (let b = 0; b < B; b++) {
        const len = a.lengths ? a.lengths[b] : T;
        DGX.fill(0, a.dGx.off + (b * T + len) * G, a.dGx.off + (b + 1) * T * G);
        for (let j = 0; j < H; j++) {
          let d = DHT[a.dhT.off + b * H + j];
          // processing order k runs t forwards (or backwards when reversed); walk it back
          for (let k = len - 1; k >= 0; k--) {
            const t = a.reverse ? len - 1 - k : k;
            const tPrev = a.reverse ? t + 1 : t - 1;
            const g = a.gx.off + (b * T + t) * G + j;
            const dg = a.dGx.off + (b * T + t) * G + j;
            d += DOUT[a.dOut.off + (b * T + t) * H + j];
            const hp = k === 0 ? H0[a.h0.off + b * H + j] : OUT[a.out.off + (b * T + tPrev) * H + j];
            const ht = GX[g + (nb - 1) * H];
            const u = scanMix(kind, GX, g, H);
            const du = d * (ht - hp) * u * (1 - u);
            if (kind === 'mingru') DGX[dg] = du;
            else {
              DGX[dg] = -du * (1 - sigmoid(GX[g]));
              DGX[dg + H] = du * (1 - sigmoid(GX[g + H]));
            }
            DGX[dg + (nb - 1) * H] = d * u;
            d *= 1 - u;
          }
          DH0[a.dh0.off + b * H + j] = d;
        }
      }
    },

    rmsNorm(a: RmsNormArgs) {
      const { rows, d, eps } = a;
      const X = st(a.x),
        W = a.weight ? st(a.weight) : null,
        Y = st(a.y),
        R = st(a.r);
      for (let i = 0; i < rows; i++) {
        const o = i * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += X[o + j] * X[o + j];
        const r = 1 / Math.sqrt(s / d + eps);
        R[i] = r;
        for (let j = 0; j < d; j++) Y[o + j] = X[o + j] * r * (W ? W[j] : 1);
      }
    },
    rmsNormGrad(a: RmsNormGradArgs) {
      const { rows, d } = a;
      const X = st(a.x),
        W = a.weight ? st(a.weight) : null,
        R = st(a.r),
        GY = st(a.gy),
        GX = a.gx ? st(a.gx) : null,
        GW = a.gw ? st(a.gw) : null;
      // the weight's gradient sums over every row: kept in doubles until the end
      const gw = new Float64Array(GW ? d : 0);
      for (let i = 0; i < rows; i++) {
        const o = i * d,
          r = R[i];
        if (GW) for (let j = 0; j < d; j++) gw[j] += GY[o + j] * X[o + j] * r;
        if (!GX) continue;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += GY[o + j] * (W ? W[j] : 1) * X[o + j];
        const coef = (-dot * r * r * r) / d;
        for (let j = 0; j < d; j++) GX[o + j] = GY[o + j] * (W ? W[j] : 1) * r + X[o + j] * coef;
      }
      if (GW) for (let j = 0; j < d; j++) GW[j] = gw[j];
    },
    gelu(a: GeluArgs) {
      const X = st(a.x),
        Y = st(a.y),
        TH = st(a.th);
      for (let i = 0; i < a.n; i++) {
        const x = X[i];
        const t = Math.tanh(GELU_TANH.C * (x + GELU_TANH.A * x * x * x));
        TH[i] = t;
        Y[i] = 0.5 * x * (1 + t);
      }
    },
    geluGrad(a: GeluGradArgs) {
      const X = st(a.x),
        TH = st(a.th),
        GY = st(a.gy),
        GX = st(a.gx);
      for (let i = 0; i < a.n; i++) {
        const x = X[i],
          t = TH[i];
        GX[i] = GY[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t) * (1 + t) * GELU_TANH.C * (1 + 3 * GELU_TANH.A * x * x));
      }
    },

    sgdStep(p, g, buf, n, a: SgdArgs) {
      const P = st(p),
        G = st(g),
        Bf = buf ? st(buf) : null;
      for (let i = 0; i < n; i++) {
        let d = G[i] + a.weightDecay * P[i];
        if (Bf && a.momentum !== 0) {
          Bf[i] = a.firstStep ? d : a.momentum * Bf[i] + (1 - a.dampening) * d;
          d = a.nesterov ? d + a.momentum * Bf[i] : Bf[i];
        }
        P[i] -= a.lr * d;
      }
    },
    adagradStep(p, g, sum, n, a: AdagradArgs) {
      const P = st(p),
        G = st(g),
        S = st(sum);
      for (let i = 0; i < n; i++) {
        const d = G[i] + a.weightDecay * P[i];
        S[i] += d * d;
        P[i] -= (a.lr * d) / (Math.sqrt(S[i]) + a.eps);
      }
    },
    rmspropStep(p, g, sq, avg, buf, n, a: RmspropArgs) {
      const P = st(p),
        G = st(g),
        Q = st(sq),
        M = avg ? st(avg) : null,
        Bf = buf ? st(buf) : null;
      for (let i = 0; i < n; i++) {
        const d = G[i] + a.weightDecay * P[i];
        Q[i] = a.alpha * Q[i] + (1 - a.alpha) * d * d;
        let denom: number;
        if (a.centered && M) {
          M[i] = a.alpha * M[i] + (1 - a.alpha) * d;
          denom = Math.sqrt(Q[i] - M[i] * M[i]) + a.eps;
        } else {
          denom = Math.sqrt(Q[i]) + a.eps;
        }
        if (Bf && a.momentum > 0) {
          Bf[i] = a.momentum * Bf[i] + d / denom;
          P[i] -= a.lr * Bf[i];
        } else {
          P[i] -= (a.lr * d) / denom;
        }
      }
    },
    adamStep(p, g, m, v, vmax, n, a: AdamArgs) {
      const P = st(p),
        G = st(g),
        M = st(m),
        V = st(v),
        VM = vmax ? st(vmax) : null;
      const { stepSize, sqrtBc2 } = adamBiasCorrection(a);
      for (let i = 0; i < n; i++) {
        let d = G[i];
        if (a.weightDecay !== 0) {
          if (a.decoupled) P[i] *= 1 - a.lr * a.weightDecay;
          else d += a.weightDecay * P[i];
        }
        M[i] = a.beta1 * M[i] + (1 - a.beta1) * d;
        V[i] = a.beta2 * V[i] + (1 - a.beta2) * d * d;
        let vv = V[i];
        if (VM) {
          if (vv > VM[i]) VM[i] = vv;
          vv = VM[i];
        }
        P[i] -= (stepSize * M[i]) / (Math.sqrt(vv) / sqrtBc2 + a.eps);
      }
    },
  };
  return backend;
}
