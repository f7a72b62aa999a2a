/**
 * The backend conformance suite: every kernel of the Backend interface against
 * naive float64 loops written here, or (recurrent steps, optimizer updates)
 * against the js backend in float64, on seeded random inputs. A new backend
 * (WebAssembly, later WebGPU) is done when `runBackendConformance` passes for it.
 * Tolerance: |got - want| <= 1e-6 + 1e-5 |want|.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, BinaryOp, RecurrentKind, Storage, UnaryGradOp, UnaryOp } from '../src/backend/backend.js';
import { recurrentLayout } from '../src/backend/recurrent-loop.js';
import { Rng } from '../src/random/rng.js';
import { createJsBackend } from '../src/backend/js/index.js';
import { NORM_PARALLEL_MIN, SCAN_PARALLEL_MIN } from '../src/backend/wasm/index.js';
import { stridesOf, broadcastStrides, broadcastShapes, sizeOf } from '../src/tensor/shape.js';

export function runBackendConformance(name: string, make: () => Backend): void {
  describe(`backend conformance: ${name}`, () => {
    const b = make();
    const rng = new Rng(99);
    const rand = (n: number, lo = -1, hi = 1): number[] => Array.from({ length: n }, () => rng.uniform(lo, hi));
    const up = (v: ArrayLike<number>): Storage => b.fromValues(v);
    const down = (s: Storage, n = s.size): number[] => Array.from(b.read(s).subarray(0, n));
    const close = (got: number[], want: number[], what: string): void => {
      assert.equal(got.length, want.length, `${what}: length`);
      for (let i = 0; i < got.length; i++) {
        const ok = Math.abs(got[i] - want[i]) <= 1e-6 + 1e-5 * Math.abs(want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
        assert.ok(ok, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
      }
    };
    const round = (v: number[]): number[] => (b.precision === 'f32' ? v.map(Math.fround) : v);

    it('memory: alloc is zeroed (also when reused), read/write/fill with offsets', () => {
      const s = b.alloc(5);
      assert.deepEqual(down(s), [0, 0, 0, 0, 0]);
      b.write(s, [7, 8], 2);
      b.fill(s, 3, 0, 1);
      assert.deepEqual(down(s), [3, 0, 7, 8, 0]);
      b.free(s);
      b.free(s); // twice is harmless
      assert.deepEqual(down(b.alloc(5)), [0, 0, 0, 0, 0]);
      assert.deepEqual(down(up([1.5, -2])), [1.5, -2]);
    });

    const unaryRef: Record<UnaryOp, (x: number) => number> = {
      neg: (x) => -x,
      exp: Math.exp,
      log: Math.log,
      sqrt: Math.sqrt,
      tanh: Math.tanh,
      sigmoid: (x) => 1 / (1 + Math.exp(-x)),
      relu: (x) => Math.max(0, x),
      abs: Math.abs,
      square: (x) => x * x,
    };
    const gradRef: Record<UnaryGradOp, (x: number, y: number) => number> = {
      exp: (_x, y) => y,
      log: (x) => 1 / x,
      sqrt: (_x, y) => 0.5 / y,
      tanh: (_x, y) => 1 - y * y,
      sigmoid: (_x, y) => y * (1 - y),
      relu: (x) => (x > 0 ? 1 : 0),
      abs: (x) => Math.sign(x),
      square: (x) => 2 * x,
    };
    it('unary and unaryGrad, every op', () => {
      const n = 37;
      for (const op of Object.keys(unaryRef) as UnaryOp[]) {
        const positive = op === 'log' || op === 'sqrt';
        const x = round(rand(n, positive ? 0.1 : -3, 3));
        const out = b.alloc(n);
        b.unary(op, up(x), out, n);
        close(down(out), x.map(unaryRef[op]), op);
        if (op === 'neg') continue;
        const y = down(out);
        const gy = round(rand(n));
        const gx = b.alloc(n);
        b.unaryGrad(op as UnaryGradOp, up(x), up(y), up(gy), gx, n);
        close(
          down(gx),
          x.map((v, i) => gy[i] * gradRef[op as UnaryGradOp](v, y[i])),
          `${op}'`,
        );
      }
    });
    it('affine, powScalar, powScalarGrad, clamp', () => {
      const n = 19;
      const x = round(rand(n, 0.2, 2));
      const gy = round(rand(n));
      const out = b.alloc(n);
      b.affine(up(x), out, n, 2.5, -1);
      close(
        down(out),
        x.map((v) => v * 2.5 - 1),
        'affine',
      );
      b.powScalar(up(x), out, n, -1.5);
      close(
        down(out),
        x.map((v) => v ** -1.5),
        'pow',
      );
      b.powScalarGrad(up(x), up(gy), out, n, 3);
      close(
        down(out),
        x.map((v, i) => gy[i] * 3 * v * v),
        'powGrad',
      );
      b.clamp(up(x), out, n, 0.5, 1.5);
      close(
        down(out),
        x.map((v) => Math.min(1.5, Math.max(0.5, v))),
        'clamp',
      );
    });

    const binRef: Record<BinaryOp, (a: number, c: number) => number> = {
      add: (a, c) => a + c,
      sub: (a, c) => a - c,
      mul: (a, c) => a * c,
      div: (a, c) => a / c,
      max: Math.max,
      min: Math.min,
      eq: (a, c) => +(a === c),
      gt: (a, c) => +(a > c),
      lt: (a, c) => +(a < c),
    };
    /** Read x (shape xs) at a multi-index of the broadcast shape. */
    const at = (x: number[], xs: number[], shape: number[], flat: number): number => {
      const st = broadcastStrides(xs, shape);
      let off = 0,
        rem = flat;
      const os = stridesOf(shape);
      for (let d = 0; d < shape.length; d++) {
        const i = Math.floor(rem / os[d]);
        rem -= i * os[d];
        off += i * st[d];
      }
      return x[off];
    };
    it('binary and where with broadcasting (rank 0 to 4, size-1 and zero-size dims)', () => {
      const pairs: [number[], number[]][] = [
        [[], [3]],
        [
          [4, 1],
          [1, 5],
        ],
        [[2, 3, 4], [4]],
        [
          [2, 1, 3, 2],
          [1, 4, 1, 2],
        ],
        [[0, 3], [3]],
        [[6], [6]],
      ];
      for (const [sa, sc] of pairs) {
        const shape = broadcastShapes('test', sa, sc);
        const n = sizeOf(shape);
        const a = round(rand(sizeOf(sa)));
        const c = round(rand(sizeOf(sc), 0.3, 1));
        for (const op of Object.keys(binRef) as BinaryOp[]) {
          const out = b.alloc(n);
          b.binary(op, up(a), broadcastStrides(sa, shape), up(c), broadcastStrides(sc, shape), out, shape);
          const want = Array.from({ length: n }, (_, i) => binRef[op](at(a, sa, shape, i), at(c, sc, shape, i)));
          close(down(out, n), round(want), `${op} ${sa} ${sc}`);
        }
        const cond = a.map((v) => (v > 0 ? 1 : 0));
        const out = b.alloc(n);
        b.where(up(cond), broadcastStrides(sa, shape), up(a), broadcastStrides(sa, shape), up(c), broadcastStrides(sc, shape), out, shape);
        const want = Array.from({ length: n }, (_, i) => (at(cond, sa, shape, i) ? at(a, sa, shape, i) : at(c, sc, shape, i)));
        close(down(out, n), want, `where ${sa} ${sc}`);
      }
    });

    it('stridedCopy: permute, strided slice into a region, accumulate', () => {
      const x = round(rand(24));
      const out = b.alloc(24);
      // [2,3,4] permuted to [4,2,3]
      b.stridedCopy(up(x), 0, [1, 12, 4], out, 0, stridesOf([4, 2, 3]), [4, 2, 3], false);
      const want: number[] = [];
      for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) want.push(x[i * 12 + j * 4 + k]);
      close(down(out), want, 'permute');
      // columns 1 and 3 of a [6,4] matrix, added into rows 1..6 of a [8,2] buffer
      const dst = up(new Array(16).fill(1));
      b.stridedCopy(up(x), 1, [4, 2], dst, 2, [2, 1], [6, 2], true);
      const want2 = new Array(16).fill(1);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 2; j++) want2[2 + i * 2 + j] += x[i * 4 + 1 + j * 2];
      close(down(dst), round(want2), 'slice+accumulate');
    });

    it('reduce sum and max with argmax (first wins on ties), reduceMaxGrad, sumSquares', () => {
      const [outer, n, inner] = [3, 5, 2];
      const x = round(rand(outer * n * inner)).map((v) => Math.round(v * 4) / 4); // ties likely
      const sum = b.alloc(outer * inner),
        mx = b.alloc(outer * inner);
      const arg = new Int32Array(outer * inner);
      b.reduce('sum', up(x), sum, outer, n, inner);
      b.reduce('max', up(x), mx, outer, n, inner, arg);
      const ws: number[] = [],
        wm: number[] = [],
        wa: number[] = [];
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let s = 0,
            m = -Infinity,
            a = 0;
          for (let j = 0; j < n; j++) {
            const v = x[(o * n + j) * inner + i];
            s += v;
            if (v > m) {
              m = v;
              a = j;
            }
          }
          ws.push(s);
          wm.push(m);
          wa.push(a);
        }
      close(down(sum), ws, 'sum');
      close(down(mx), wm, 'max');
      assert.deepEqual(Array.from(arg), wa);
      const gy = round(rand(outer * inner));
      const gx = b.alloc(x.length);
      b.reduceMaxGrad(up(gy), arg, gx, outer, n, inner);
      const wg = new Array(x.length).fill(0);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) wg[(o * n + wa[o * inner + i]) * inner + i] = gy[o * inner + i];
      close(down(gx), wg, 'maxGrad');
      close([b.sumSquares(up(x), x.length)], [x.reduce((s, v) => s + v * v, 0)], 'sumSquares');
    });

    it('matmul: four layouts, batches with strides, broadcast batch, accumulate, odd sizes', () => {
      for (const [m, n, k] of [
        [1, 1, 1],
        [3, 5, 7],
        [17, 33, 9],
        [2, 4, 64],
      ]) {
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            for (const [batch, bcastB, accumulate] of [
              [1, false, false],
              [3, false, true],
              [2, true, false],
            ] as const) {
              const A = round(rand(batch * m * k));
              const B = round(rand((bcastB ? 1 : batch) * k * n));
              const C0 = round(rand(batch * m * n));
              const c = up(C0);
              b.matmul(up(A), up(B), c, { batch, m, n, k, transA, transB, strideA: m * k, strideB: bcastB ? 0 : k * n, strideC: m * n, accumulate });
              const want: number[] = [];
              for (let t = 0; t < batch; t++)
                for (let i = 0; i < m; i++)
                  for (let j = 0; j < n; j++) {
                    let s = accumulate ? C0[t * m * n + i * n + j] : 0;
                    for (let p = 0; p < k; p++) {
                      const av = A[t * m * k + (transA ? p * m + i : i * k + p)];
                      const bv = B[(bcastB ? 0 : t * k * n) + (transB ? j * k + p : p * n + j)];
                      s += av * bv;
                    }
                    want.push(s);
                  }
              close(down(c), want, `matmul ${m}x${n}x${k} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} batch ${batch}`);
            }
          }
      }
    });

    it('matmul: shapes big enough to cross every cache block (k > 256, n > 512, m > 128), with offsets', () => {
      for (const [m, n, k] of [
        [130, 520, 300],
        [33, 517, 261],
        [301, 20, 210],
      ]) {
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            const accumulate = transA !== transB;
            const A = round(rand(m * k + 3)),
              B = round(rand(k * n + 5)),
              C0 = round(rand(m * n + 2));
            const c = up(C0);
            b.matmul(up(A), up(B), c, {
              batch: 1,
              m,
              n,
              k,
              transA,
              transB,
              strideA: 0,
              strideB: 0,
              strideC: 0,
              accumulate,
              offsetA: 3,
              offsetB: 5,
              offsetC: 2,
            });
            const got = down(c);
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = accumulate ? C0[2 + i * n + j] : 0,
                  abs = 0;
                for (let p = 0; p < k; p++) {
                  const t = A[3 + (transA ? p * m + i : i * k + p)] * B[5 + (transB ? j * k + p : p * n + j)];
                  s += t;
                  abs += Math.abs(t);
                }
                // float32 GEMM error grows with the sum of |terms| (the usual bound), not with the result
                const err = Math.abs(got[2 + i * n + j] - s);
                assert.ok(
                  err <= 1e-6 + 1e-5 * Math.abs(s) + 2e-7 * abs,
                  `matmul ${m}x${n}x${k} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} [${i},${j}]: got ${got[2 + i * n + j]}, want ${s}`,
                );
              }
            assert.deepEqual(got.slice(0, 2), C0.slice(0, 2), 'nothing before the offset is touched');
          }
      }
    });

    it('recurrentStep and recurrentStepGrad agree with the float64 reference (every kind, H with and without a SIMD tail, a masked row)', () => {
      const ref = createJsBackend('f64');
      for (const kind of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'rnn_sigmoid'] as const) {
        for (const H of [5, 8]) {
          const B = 3;
          const G = kind === 'lstm' ? 4 * H : kind === 'gru' ? 3 * H : H;
          const A = kind === 'lstm' || kind === 'gru' ? 4 * H : 1;
          const lstm = kind === 'lstm';
          const valid = Uint8Array.from([1, 0, 1]);
          const data = {
            gx: round(rand(B * G, -2, 2)),
            gh: round(rand(B * G, -2, 2)),
            hPrev: round(rand(B * H)),
            cPrev: round(rand(B * H)),
            dh: round(rand(B * H)),
            dc: round(rand(B * H)),
          };
          const run = (bk: Backend): Record<string, number[]> => {
            const u = (v: number[]): Storage => bk.fromValues(v);
            const dn = (s: Storage): number[] => Array.from(bk.read(s));
            const hOut = bk.alloc(B * H),
              cOut = bk.alloc(B * H),
              act = bk.alloc(B * A);
            const hPrev = u(data.hPrev),
              cPrev = u(data.cPrev);
            bk.recurrentStep(kind, {
              B,
              H,
              gx: { s: u(data.gx), off: 0 },
              gh: { s: u(data.gh), off: 0 },
              hPrev: { s: hPrev, off: 0 },
              cPrev: lstm ? { s: cPrev, off: 0 } : null,
              hOut: { s: hOut, off: 0 },
              cOut: lstm ? { s: cOut, off: 0 } : null,
              act: { s: act, off: 0 },
              valid,
            });
            const dGx = bk.alloc(B * G),
              dGh = kind === 'gru' ? bk.alloc(B * G) : dGx,
              dhPrev = bk.alloc(B * H),
              dcPrev = bk.alloc(B * H);
            bk.recurrentStepGrad(kind, {
              B,
              H,
              act: { s: act, off: 0 },
              hPrev: { s: hPrev, off: 0 },
              hOut: { s: hOut, off: 0 },
              cPrev: lstm ? { s: cPrev, off: 0 } : null,
              cOut: lstm ? { s: cOut, off: 0 } : null,
              dh: { s: u(data.dh), off: 0 },
              dc: lstm ? { s: u(data.dc), off: 0 } : null,
              dGx: { s: dGx, off: 0 },
              dGh: { s: dGh, off: 0 },
              dhPrev: { s: dhPrev, off: 0 },
              dcPrev: lstm ? { s: dcPrev, off: 0 } : null,
              valid,
            });
            return {
              hOut: dn(hOut),
              cOut: lstm ? dn(cOut) : [],
              act: A > 1 ? dn(act) : [],
              dGx: dn(dGx),
              dGh: dn(dGh),
              dhPrev: dn(dhPrev),
              dcPrev: lstm ? dn(dcPrev) : [],
            };
          };
          const got = run(b),
            want = run(ref);
          for (const key of Object.keys(want)) close(got[key], want[key], `${kind} H=${H} ${key}`);
          if (kind !== 'gru') {
            // gh = null: the recurrent GEMM has already been added into gx
            const hOut = b.alloc(B * H),
              cOut = b.alloc(B * H),
              act = b.alloc(B * A);
            b.recurrentStep(kind, {
              B,
              H,
              gx: { s: up(data.gx.map((x, i) => x + data.gh[i])), off: 0 },
              gh: null,
              hPrev: { s: up(data.hPrev), off: 0 },
              cPrev: lstm ? { s: up(data.cPrev), off: 0 } : null,
              hOut: { s: hOut, off: 0 },
              cOut: lstm ? { s: cOut, off: 0 } : null,
              act: { s: act, off: 0 },
              valid,
            });
            close(down(hOut), want.hOut, `${kind} H=${H} hOut with gh folded into gx`);
          }
        }
      }
    });

    it('LSTM recurrentStep and recurrentStepGrad with peepholes and a forget-gate offset agree with the float64 reference (H with and without a SIMD tail, a masked row, gh folded in or not, peephole gradients added to what is there)', () => {
      const ref = createJsBackend('f64');
      for (const H of [5, 8]) {
        for (const folded of [false, true]) {
          const B = 3,
            G = 4 * H;
          const valid = Uint8Array.from([1, 0, 1]);
          const data = {
            gx: round(rand(B * G, -2, 2)),
            gh: round(rand(B * G, -2, 2)),
            hPrev: round(rand(B * H)),
            cPrev: round(rand(B * H, -2, 2)),
            dh: round(rand(B * H)),
            dc: round(rand(B * H)),
            peep: [0, 1, 2].map(() => round(rand(H, -1.5, 1.5))),
            dPeep: [0, 1, 2].map(() => round(rand(H))),
          };
          const run = (bk: Backend): Record<string, number[]> => {
            const u = (v: number[]): Storage => bk.fromValues(v);
            const dn = (s: Storage): number[] => Array.from(bk.read(s));
            const v = (s: Storage) => ({ s, off: 0 });
            const hOut = bk.alloc(B * H),
              cOut = bk.alloc(B * H),
              act = bk.alloc(B * 4 * H);
            const hPrev = u(data.hPrev),
              cPrev = u(data.cPrev);
            const peepholes = { i: u(data.peep[0]), f: u(data.peep[1]), o: u(data.peep[2]) };
            bk.recurrentStep('lstm', {
              B,
              H,
              gx: v(u(folded ? data.gx.map((x, i) => x + data.gh[i]) : data.gx)),
              gh: folded ? null : v(u(data.gh)),
              hPrev: v(hPrev),
              cPrev: v(cPrev),
              hOut: v(hOut),
              cOut: v(cOut),
              act: v(act),
              valid,
              peepholes,
              forgetGateOffset: 0.75,
            });
            const dGx = bk.alloc(B * G),
              dhPrev = bk.alloc(B * H),
              dcPrev = bk.alloc(B * H);
            const dPeepholes = { i: u(data.dPeep[0]), f: u(data.dPeep[1]), o: u(data.dPeep[2]) };
            bk.recurrentStepGrad('lstm', {
              B,
              H,
              act: v(act),
              hPrev: v(hPrev),
              hOut: v(hOut),
              cPrev: v(cPrev),
              cOut: v(cOut),
              dh: v(u(data.dh)),
              dc: v(u(data.dc)),
              dGx: v(dGx),
              dGh: v(dGx),
              dhPrev: v(dhPrev),
              dcPrev: v(dcPrev),
              valid,
              peepholes,
              dPeepholes,
            });
            return {
              hOut: dn(hOut),
              cOut: dn(cOut),
              act: dn(act),
              dGx: dn(dGx),
              dhPrev: dn(dhPrev),
              dcPrev: dn(dcPrev),
              dPeepI: dn(dPeepholes.i),
              dPeepF: dn(dPeepholes.f),
              dPeepO: dn(dPeepholes.o),
            };
          };
          const got = run(b),
            want = run(ref);
          for (const key of Object.keys(want)) close(got[key], want[key], `lstm with peepholes H=${H}${folded ? ' gh folded' : ''} ${key}`);
        }
      }
    });

    it("recurrentSequence and recurrentSequenceGrad (a layer's whole time loop) agree with the float64 reference: every kind, 1, 6 and 13 rows (threads split them, one run ragged), rows ending early, forward and reversed, GRU's b_hh, LSTM peepholes and a forget-gate offset", () => {
      const ref = createJsBackend('f64');
      const T = 5;
      const cases: { kind: RecurrentKind; B: number; H: number; reverse: boolean; lengths: boolean; extras: boolean }[] = [];
      for (const kind of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'rnn_sigmoid'] as const) {
        for (const [B, H] of [
          [1, 5],
          [6, 8],
          [13, 7],
        ]) {
          cases.push({ kind, B, H, reverse: B === 6, lengths: B > 1, extras: false });
        }
      }
      cases.push(
        { kind: 'lstm', B: 13, H: 8, reverse: true, lengths: true, extras: true },
        { kind: 'lstm', B: 6, H: 5, reverse: false, lengths: false, extras: true },
      );
      for (const c of cases) {
        const { kind, B, H } = c;
        const L = recurrentLayout(kind);
        const G = L.gates * H,
          A = L.actBlocks * H,
          S = L.cellState ? 2 : 1;
        const lens = Array.from({ length: B }, (_, b) => (c.lengths ? 1 + ((b * 3) % T) : T));
        const valid = c.lengths ? Uint8Array.from({ length: T * B }, (_, i) => (Math.floor(i / B) < lens[i % B] ? 1 : 0)) : null;
        const data = {
          gx: round(rand(T * B * G, -2, 2)),
          whh: round(rand(G * H, -0.5, 0.5)),
          biasHh: round(rand(G)),
          h0: round(rand(B * H)),
          c0: round(rand(B * H)),
          gP: round(rand(B * (T + S) * H)),
          peep: [round(rand(H)), round(rand(H)), round(rand(H))],
        };
        const run = (bk: Backend): Record<string, number[]> => {
          const u = (v: number[]): Storage => bk.fromValues(v);
          const dn = (s: Storage): number[] => Array.from(bk.read(s));
          const hs = bk.alloc((T + 1) * B * H),
            cs = L.cellState ? bk.alloc((T + 1) * B * H) : null;
          bk.write(hs, data.h0);
          if (cs) bk.write(cs, data.c0);
          const gx = u(data.gx),
            whh = u(data.whh),
            act = bk.alloc(Math.max(1, T * B * A));
          const peepholes = c.extras ? { i: u(data.peep[0]), f: u(data.peep[1]), o: u(data.peep[2]) } : null;
          bk.recurrentSequence(kind, {
            T,
            B,
            H,
            gx,
            whh,
            biasHh: L.separateGh ? u(data.biasHh) : null,
            hs,
            cs,
            act,
            valid,
            peepholes,
            forgetGateOffset: c.extras ? 0.75 : 0,
          });
          const dGx = bk.alloc(T * B * G),
            dGh = L.separateGh ? bk.alloc(T * B * G) : dGx,
            dh0 = bk.alloc(B * H),
            dc0 = L.cellState ? bk.alloc(B * H) : null;
          const dPeepholes = c.extras ? { i: u(data.peep[2]), f: u(data.peep[0]), o: u(data.peep[1]) } : null;
          bk.recurrentSequenceGrad(kind, { T, B, H, whh, hs, cs, act, valid, gP: u(data.gP), reverse: c.reverse, dGx, dGh, dh0, dc0, peepholes, dPeepholes });
          return {
            gx: dn(gx),
            hs: dn(hs),
            cs: cs ? dn(cs) : [],
            act: A > 0 ? dn(act) : [],
            dGx: dn(dGx),
            dGh: dn(dGh),
            dh0: dn(dh0),
            dc0: dc0 ? dn(dc0) : [],
            dPeepholes: dPeepholes ? [...dn(dPeepholes.i), ...dn(dPeepholes.f), ...dn(dPeepholes.o)] : [],
          };
        };
        const got = run(b),
          want = run(ref);
        for (const key of Object.keys(want))
          close(got[key], want[key], `${kind} B=${B} H=${H}${c.reverse ? ' reversed' : ''}${c.extras ? ' peepholes' : ''} ${key}`);
      }
    });

    it('scan and scanGrad agree with the float64 reference (both kinds, lengths, reverse, H with a SIMD tail, B = T = 1, a scan the wasm backend splits over its threads)', () => {
      const ref = createJsBackend('f64');
      // the last cases have B*T*H >= SCAN_PARALLEL_MIN: a threaded wasm backend cuts their rows into column chunks
      const big = { B: 3, T: Math.ceil(SCAN_PARALLEL_MIN / 3 / 550), H: 550 };
      const cases = [
        { B: 3, T: 5, H: 6, lengths: [5, 2, 1], reverse: false },
        { B: 3, T: 5, H: 6, lengths: [3, 5, 1], reverse: true },
        { B: 2, T: 4, H: 8, lengths: null, reverse: false },
        { B: 2, T: 4, H: 7, lengths: null, reverse: true },
        { B: 1, T: 1, H: 3, lengths: null, reverse: false },
        { B: 1, T: 1, H: 4, lengths: [1], reverse: true },
        { ...big, lengths: [big.T, Math.ceil(big.T / 2), 1], reverse: false },
        { ...big, lengths: null, reverse: true },
      ];
      for (const kind of ['mingru', 'minlstm'] as const) {
        const G = kind === 'mingru' ? 2 : 3; // gate blocks of H in a row of gx
        for (const { B, T, H, lengths, reverse } of cases) {
          const what = `${kind} B=${B} T=${T} H=${H}${lengths ? ` lengths ${lengths}` : ''}${reverse ? ' reverse' : ''}`;
          const lens = lengths ? Int32Array.from(lengths) : null;
          const data = {
            gx: round(rand(B * T * G * H, -3, 3)),
            h0: round(rand(B * H)),
            dOut: round(rand(B * T * H)),
            dhT: round(rand(B * H)),
            // outputs start as junk: the kernels must write every entry, zeros past each row's end included
            junkOut: round(rand(B * T * H)),
            junkGx: round(rand(B * T * G * H)),
          };
          const run = (bk: Backend): Record<string, number[]> => {
            const u = (v: number[]): Storage => bk.fromValues(v);
            const dn = (s: Storage): number[] => Array.from(bk.read(s));
            const gx = u(data.gx),
              h0 = u(data.h0),
              out = u(data.junkOut),
              hT = u(data.h0.map((v) => v + 1));
            bk.scan(kind, { B, T, H, gx: { s: gx, off: 0 }, h0: { s: h0, off: 0 }, out: { s: out, off: 0 }, hT: { s: hT, off: 0 }, lengths: lens, reverse });
            const dGx = u(data.junkGx),
              dh0 = u(data.dhT.map((v) => v - 1));
            bk.scanGrad(kind, {
              B,
              T,
              H,
              gx: { s: gx, off: 0 },
              h0: { s: h0, off: 0 },
              out: { s: out, off: 0 },
              dOut: { s: u(data.dOut), off: 0 },
              dhT: { s: u(data.dhT), off: 0 },
              dGx: { s: dGx, off: 0 },
              dh0: { s: dh0, off: 0 },
              lengths: lens,
              reverse,
            });
            return { out: dn(out), hT: dn(hT), dGx: dn(dGx), dh0: dn(dh0) };
          };
          const got = run(b),
            want = run(ref);
          for (const key of Object.keys(want)) close(got[key], want[key], `${what} ${key}`);
        }
      }
      // saturated minLSTM gates (f and i both below 1e-40): u = i / (f + i) is still their ratio, σ(-1) here; then i >> f
      // two units: f blocks -100, -60; i blocks -101, 50; h~ 2, 3
      const gx = b.fromValues([-100, -60, -101, 50, 2, 3]),
        out = b.alloc(2),
        hT = b.alloc(2);
      b.scan('minlstm', {
        B: 1,
        T: 1,
        H: 2,
        gx: { s: gx, off: 0 },
        h0: { s: up([1, 1]), off: 0 },
        out: { s: out, off: 0 },
        hT: { s: hT, off: 0 },
        lengths: null,
        reverse: false,
      });
      const u = 1 / (1 + Math.exp(1));
      close(down(hT), [1 + u * (2 - 1), 1 + 1 * (3 - 1)], 'minlstm with saturated gates');
    });

    it('rmsNorm and rmsNormGrad agree with the float64 reference (with and without weight, either gradient alone, d with a SIMD tail, one row, rows the wasm backend splits over its threads)', () => {
      const ref = createJsBackend('f64');
      // the last cases have rows * d >= NORM_PARALLEL_MIN: a threaded wasm backend splits their rows, and sums gw per thread
      const dBig = 4 * Math.ceil(NORM_PARALLEL_MIN / 37 / 4) + 3;
      const shapes = [
        [1, 1],
        [1, 7],
        [3, 8],
        [5, 13],
        [4, 64],
        [37, dBig],
        [2 * Math.ceil(NORM_PARALLEL_MIN / 192), 192],
      ];
      for (const [rows, d] of shapes) {
        for (const withWeight of [true, false]) {
          for (const grads of withWeight ? (['both', 'gx', 'gw'] as const) : (['gx'] as const)) {
            const what = `rmsNorm rows=${rows} d=${d}${withWeight ? ' weight' : ''} ${grads}`;
            const data = {
              x: round(rand(rows * d, -2, 2)),
              w: round(rand(d, -1.5, 1.5)),
              gy: round(rand(rows * d)),
              // outputs start as junk: the kernels must write every entry, gw overwritten rather than added to
              junk: round(rand(rows * d)),
            };
            const eps = rows === 1 ? 0.5 : 1e-5;
            const run = (bk: Backend): Record<string, number[]> => {
              const u = (v: number[]): Storage => bk.fromValues(v);
              const dn = (s: Storage | null): number[] => (s ? Array.from(bk.read(s)) : []);
              const x = u(data.x),
                weight = withWeight ? u(data.w) : null,
                y = u(data.junk),
                r = u(data.junk.slice(0, rows));
              bk.rmsNorm({ rows, d, x, weight, y, r, eps });
              const gx = grads !== 'gw' ? u(data.junk) : null,
                gw = withWeight && grads !== 'gx' ? u(data.junk.slice(0, d)) : null;
              bk.rmsNormGrad({ rows, d, x, weight, r, gy: u(data.gy), gx, gw });
              return { y: dn(y), r: dn(r), gx: dn(gx), gw: dn(gw) };
            };
            const got = run(b),
              want = run(ref);
            for (const key of ['y', 'r', 'gx'] as const) close(got[key], want[key], `${what} ${key}`);
            // gw sums rows * d terms: float32's error grows with the sum of their sizes (as in the GEMM test)
            const X = data.x,
              GY = data.gy;
            want.gw.forEach((v, j) => {
              let abs = 0;
              for (let i = 0; i < rows; i++) abs += Math.abs(GY[i * d + j] * X[i * d + j] * want.r[i]);
              assert.ok(Math.abs(got.gw[j] - v) <= 1e-6 + 1e-5 * Math.abs(v) + 2e-7 * abs, `${what} gw[${j}]: got ${got.gw[j]}, want ${v}`);
            });
          }
        }
      }
      // the definition itself, not only agreement with the js backend: y = x / RMS(x) * w, gx from the formula
      const x = [3, -4, 1, 0.5],
        w = [2, 1, -1, 0.5],
        y = b.alloc(4),
        r = b.alloc(1);
      b.rmsNorm({ rows: 1, d: 4, x: up(x), weight: up(w), y, r, eps: 0.01 });
      const rr = 1 / Math.sqrt((9 + 16 + 1 + 0.25) / 4 + 0.01);
      close(down(r), [rr], 'rmsNorm r');
      close(
        down(y),
        x.map((v, j) => v * rr * w[j]),
        'rmsNorm y',
      );
    });

    it('gelu and geluGrad agree with the float64 reference and the formula (both tails, 0, n with a SIMD tail, n the wasm backend splits over its threads)', () => {
      const ref = createJsBackend('f64');
      const special = [0, -0.5, 0.5, -3, 3, -8, 8, -30, 30, 1e-4, -1e-4];
      for (const n of [1, 3, 11, 64, 4 * Math.ceil(NORM_PARALLEL_MIN / 4) + 5]) {
        const x = round(rand(n, -6, 6));
        special.slice(0, n).forEach((v, i) => (x[i] = v));
        const gy = round(rand(n));
        const run = (bk: Backend, gxIsGy: boolean): Record<string, number[]> => {
          const u = (v: number[]): Storage => bk.fromValues(v);
          const xs = u(x),
            y = u(gy),
            th = u(gy);
          bk.gelu({ n, x: xs, y, th });
          const g = u(gy),
            gx = gxIsGy ? g : bk.alloc(n);
          bk.geluGrad({ n, x: xs, th, gy: g, gx });
          return { y: Array.from(bk.read(y)), th: Array.from(bk.read(th)), gx: Array.from(bk.read(gx)) };
        };
        const c = Math.sqrt(2 / Math.PI);
        const want = run(ref, false);
        for (const gxIsGy of [false, true]) {
          const got = run(b, gxIsGy);
          const what = `gelu n=${n}${gxIsGy ? ' gx = gy' : ''}`;
          close(got.y, want.y, `${what} y`);
          close(got.th, want.th, `${what} th`);
          // th is float32, so where it nears ±1 (x below -4 or so) 1 ± th keeps a bit or two; its
          // rounding (up to 6e-8 there) reaches gx scaled by ∂gx/∂th = gy (0.5 - x th c (1 + 3 · 0.044715 x²))
          want.gx.forEach((v, i) => {
            const slack = 1.2e-7 * Math.abs(gy[i]) * (0.5 + Math.abs(x[i]) * c * (1 + 3 * 0.044715 * x[i] * x[i]));
            assert.ok(Math.abs(got.gx[i] - v) <= 1e-6 + 1e-5 * Math.abs(v) + slack, `${what} gx[${i}] (x = ${x[i]}): got ${got.gx[i]}, want ${v}`);
          });
        }
        close(
          want.y,
          x.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))),
          `gelu n=${n} against the formula`,
        );
      }
    });

    it('gather and scatterAdd (repeated indices accumulate)', () => {
      const [outer, n, inner] = [2, 4, 3];
      const x = round(rand(outer * n * inner));
      const idx = Int32Array.from([3, 0, 3, 1, 3]);
      const out = b.alloc(outer * idx.length * inner);
      b.gather(up(x), idx, out, outer, n, inner);
      const want: number[] = [];
      for (let o = 0; o < outer; o++) for (const r of idx) for (let i = 0; i < inner; i++) want.push(x[(o * n + r) * inner + i]);
      close(down(out), want, 'gather');
      const gy = round(rand(outer * idx.length * inner));
      const gx = up(new Array(x.length).fill(0.5));
      b.scatterAdd(up(gy), idx, gx, outer, n, inner);
      const wg = new Array(x.length).fill(0.5);
      for (let o = 0; o < outer; o++)
        idx.forEach((r, j) => {
          for (let i = 0; i < inner; i++) wg[(o * n + r) * inner + i] += gy[(o * idx.length + j) * inner + i];
        });
      close(down(gx), wg, 'scatterAdd');
    });

    it('softmax / logSoftmax (stable for logits of 1000), their grads, crossEntropy and its grad', () => {
      const [rows, cols] = [4, 6];
      const x = round(rand(rows * cols, -3, 3));
      x[0] = 1000;
      x[1] = 999;
      const ref = (r: number): number[] => {
        const row = x.slice(r * cols, (r + 1) * cols);
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, c) => a + c, 0);
        return e.map((v) => v / s);
      };
      const P = Array.from({ length: rows }, (_, r) => ref(r)).flat();
      const sm = b.alloc(rows * cols),
        lsm = b.alloc(rows * cols);
      b.softmax(up(x), sm, rows, cols, false);
      b.softmax(up(x), lsm, rows, cols, true);
      close(down(sm), P, 'softmax');
      close(down(lsm), P.map(Math.log), 'logSoftmax');
      const gy = round(rand(rows * cols));
      const gx = b.alloc(rows * cols);
      b.softmaxGrad(sm, up(gy), gx, rows, cols, false);
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const dot = Array.from({ length: cols }, (_, j) => gy[r * cols + j] * P[r * cols + j]).reduce((a, c) => a + c, 0);
        for (let j = 0; j < cols; j++) want.push(P[r * cols + j] * (gy[r * cols + j] - dot));
      }
      close(down(gx), want, 'softmaxGrad');
      b.softmaxGrad(lsm, up(gy), gx, rows, cols, true);
      const want2: number[] = [];
      for (let r = 0; r < rows; r++) {
        const s = gy.slice(r * cols, (r + 1) * cols).reduce((a, c) => a + c, 0);
        for (let j = 0; j < cols; j++) want2.push(gy[r * cols + j] - P[r * cols + j] * s);
      }
      close(down(gx), want2, 'logSoftmaxGrad');
      const t = Int32Array.from([0, 5, -1, 2]);
      const loss = b.alloc(rows),
        probs = b.alloc(rows * cols);
      b.crossEntropy(up(x), t, loss, probs, rows, cols, -1);
      close(
        down(loss),
        Array.from(t, (c, r) => (c === -1 ? 0 : -Math.log(P[r * cols + c]))),
        'crossEntropy',
      );
      close(down(probs), P, 'crossEntropy probs');
      const gRow = round(rand(rows));
      b.crossEntropyGrad(probs, t, up(gRow), gx, rows, cols, -1);
      const want3: number[] = [];
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) want3.push(t[r] === -1 ? 0 : gRow[r] * (P[r * cols + j] - (j === t[r] ? 1 : 0)));
      close(down(gx), want3, 'crossEntropyGrad');
    });

    // The update rules live once per backend; the js backend's is the reference (optim-steps.test.ts
    // pins it to hand-worked PyTorch values, trajectory.test.ts to PyTorch itself), so the kernels
    // are compared with it here in float64, from the same state, for each optimizer's options.
    it('optimizer kernels agree with the float64 reference from the same state (every option, n with a SIMD tail)', () => {
      const ref = createJsBackend('f64');
      const n = 11;
      const rows = { p: round(rand(n)), g: round(rand(n)), pos: round(rand(n, 0.1, 1)), small: round(rand(n, -0.1, 0.1)), big: round(rand(n, 1, 2)) };
      /** Start both backends from `state` (null: no buffer), run `step`, compare every buffer afterwards. */
      const agree = (what: string, state: (number[] | null)[], step: (bk: Backend, s: (Storage | null)[]) => void): void => {
        const run = (bk: Backend): (number[] | null)[] => {
          const s = state.map((v) => (v ? bk.fromValues(v) : null));
          step(bk, s);
          return s.map((x) => (x ? Array.from(bk.read(x)) : null));
        };
        const want = run(ref),
          got = run(b);
        want.forEach((w, i) => (w ? close(got[i]!, w, `${what}, buffer ${i}`) : assert.equal(got[i], null)));
      };
      const { p, g, pos, small, big } = rows;
      for (const [momentum, dampening, nesterov, weightDecay, firstStep] of [
        [0, 0, false, 0, false],
        [0.9, 0, false, 0, true],
        [0.9, 0.3, false, 0.01, false],
        [0.9, 0, true, 0.01, false],
      ] as const) {
        const args = { lr: 0.1, momentum, dampening, nesterov, weightDecay, firstStep };
        agree(`sgd ${JSON.stringify(args)}`, [p, g, momentum ? small : null], (bk, [ps, gs, buf]) => bk.sgdStep(ps!, gs!, buf, n, args));
      }
      for (const weightDecay of [0, 0.1]) {
        const args = { lr: 0.1, eps: 1e-10, weightDecay };
        agree(`adagrad ${JSON.stringify(args)}`, [p, g, pos], (bk, [ps, gs, sum]) => bk.adagradStep(ps!, gs!, sum!, n, args));
      }
      for (const [centered, momentum, weightDecay] of [
        [false, 0, 0],
        [true, 0.5, 0],
        [false, 0.5, 0.1],
      ] as const) {
        const args = { lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay, momentum, centered };
        agree(`rmsprop ${JSON.stringify(args)}`, [p, g, pos, centered ? small : null, momentum ? small : null], (bk, [ps, gs, sq, avg, buf]) =>
          bk.rmspropStep(ps!, gs!, sq!, avg, buf, n, args),
        );
      }
      for (const [weightDecay, decoupled, amsgrad, step] of [
        [0, false, false, 1],
        [0.1, false, false, 5],
        [0.1, true, true, 3],
        [0.01, true, false, 2],
      ] as const) {
        const args = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay, decoupled, amsgrad, step };
        agree(`adam ${JSON.stringify(args)}`, [p, g, small, pos, amsgrad ? big : null], (bk, [ps, gs, m, v, vmax]) =>
          bk.adamStep(ps!, gs!, m!, v!, vmax, n, args),
        );
      }
    });
  });
}
