/**
 * recur's WebAssembly kernels (AssemblyScript, 128-bit SIMD).
 *
 * Everything here works on raw addresses into the one linear memory that the
 * JavaScript side owns and allocates from (src/backend/wasm): no allocation,
 * no runtime, no globals that differ between threads. Addresses are in bytes,
 * strides in elements unless a name ends in `B` (bytes).
 *
 * Built twice by scripts/build-wasm.mjs: with relaxed SIMD (fused multiply-add
 * where the CPU has it) and with plain SIMD as the fallback.
 */

import { UNARY, BINARY, RECURRENT, SCAN } from '../src/backend/opcodes';
import { GELU_TANH } from '../src/backend/kernel-constants';

// ---------------------------------------------------------------- helpers

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * e^x for four lanes: Cephes' expf (range reduction by ln 2, degree-5 polynomial), about 1 ulp.
 * Written with what x64 does in one instruction: pmin / pmax (minps / maxps; wasm's min / max
 * must order NaNs and zeros, about eight instructions each on x64, and pmin / pmax with x first
 * still pass a NaN through), and n = round(x log2 e) through the magic number 1.5 * 2^23, whose
 * float addition rounds to an integer (ties to even, as nearest does) and leaves n in the low
 * mantissa bits, where a shift makes 2^n's exponent field (in place of nearest and trunc_sat,
 * which x64 has to emulate). Same results as with those, bit for bit.
 */
@inline function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, splat(-87.3)), splat(88.3));
  const magic = splat(12582912); // 1.5 * 2^23
  const shifted = f32x4.add(f32x4.mul(x, splat(1.44269504088896341)), magic);
  const n = f32x4.sub(shifted, magic);
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  let y = splat(1.9875691500e-4);
  y = fma(y, r, splat(1.3981999507e-3));
  y = fma(y, r, splat(8.3334519073e-3));
  y = fma(y, r, splat(4.1665795894e-2));
  y = fma(y, r, splat(1.6666665459e-1));
  y = fma(y, r, splat(5.0000001201e-1));
  y = fma(y, f32x4.mul(r, r), f32x4.add(r, splat(1)));
  // n is in [-126, 127], so the shifted low bits plus the bias are 2^n's exponent field, n + 127
  return f32x4.mul(y, i32x4.add(i32x4.shl(shifted, 23), i32x4.splat(127 << 23)));
}

@inline function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1), f32x4.add(splat(1), vexp(f32x4.neg(x))));
}

/** tanh through e^{-2|x|}, which never overflows; the sign is put back at the end. */
@inline function vtanh(x: v128): v128 {
  const e = vexp(f32x4.mul(f32x4.abs(x), splat(-2)));
  const t = f32x4.div(f32x4.sub(splat(1), e), f32x4.add(splat(1), e));
  const sign = v128.and(x, i32x4.splat(0x80000000));
  return v128.or(t, sign);
}

@inline function ld(p: usize): v128 {
  return v128.load(p);
}
@inline function st(p: usize, v: v128): void {
  v128.store(p, v);
}
/** One float at p, as four lanes: tails of rows go through the same vector math. */
@inline function ld1(p: usize): v128 {
  return v128.load32_zero(p);
}
@inline function st1(p: usize, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
}
/** Four floats at p, or (tail) one float in lane 0: a row's ragged end goes through the same vector math. */
@inline function ldt(p: usize, tail: bool): v128 {
  return tail ? ld1(p) : ld(p);
}
@inline function stt(p: usize, v: v128, tail: bool): void {
  if (tail) st1(p, v);
  else st(p, v);
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// ---------------------------------------------------------------- GEMM

const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 512;

/** Floats of scratch the GEMM needs for packing B (KC x NC) and A (MC x KC), plus a 4x8 edge tile. */
export function gemmScratchFloats(): i32 {
  return KC * NC + KC * MC + 32;
}
/** Rows of the register tile: threads split a product by rows in multiples of it. */
export function gemmRowQuantum(): i32 {
  return 4;
}

/**
 * C[0:mr, 0:nr] (+)= A[0:mr, 0:kc] · B[0:kc, 0:8], a 4x8 tile held in eight
 * registers over the whole k loop. A is a packed panel (4 floats per k), B a
 * packed panel (8 floats per k). Larger tiles (6x8) and unrolling k were
 * slower: V8's scheduler hoists every load of the body above the
 * multiply-adds, and the extra live registers spill.
 */
@inline function micro(
  kc: i32, a: usize, b: usize,
  c: usize, ldcB: usize, mr: i32, nr: i32, acc: bool, tmp: usize,
): void {
  let c00 = splat(0), c01 = splat(0), c10 = splat(0), c11 = splat(0);
  let c20 = splat(0), c21 = splat(0), c30 = splat(0), c31 = splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = fma(x, b0, c00); c01 = fma(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = fma(x, b0, c10); c11 = fma(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = fma(x, b0, c20); c21 = fma(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = fma(x, b0, c30); c31 = fma(x, b1, c31);
    b += 32;
    a += 16;
  }
  if (mr == 4 && nr == 8) {
    if (acc) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldcB)); c11 = f32x4.add(c11, v128.load(c + ldcB, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldcB)); c21 = f32x4.add(c21, v128.load(c + 2 * ldcB, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldcB)); c31 = f32x4.add(c31, v128.load(c + 3 * ldcB, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c + ldcB, c10); v128.store(c + ldcB, c11, 16);
    v128.store(c + 2 * ldcB, c20); v128.store(c + 2 * ldcB, c21, 16);
    v128.store(c + 3 * ldcB, c30); v128.store(c + 3 * ldcB, c31, 16);
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const q = c + <usize>i * ldcB + (<usize>j << 2);
      const v = load<f32>(tmp + ((<usize>(i * 8 + j)) << 2));
      store<f32>(q, acc ? load<f32>(q) + v : v);
    }
  }
}

/** Copy B[0:kc, 0:nr] (element strides brs, bcs) into an 8-wide panel, zero-padding missing columns. */
function packPanel(b: usize, brs: usize, bcs: usize, kc: i32, nr: i32, dst: usize): void {
  if (bcs == 1 && nr == 8) {
    for (let p = 0; p < kc; p++) {
      const s = b + ((<usize>p * brs) << 2);
      v128.store(dst, v128.load(s));
      v128.store(dst, v128.load(s, 16), 16);
      dst += 32;
    }
    return;
  }
  if (nr < 8) memory.fill(dst, 0, <usize>kc * 32);
  for (let j = 0; j < nr; j++) {
    let s = b + ((<usize>j * bcs) << 2);
    let d = dst + (<usize>j << 2);
    for (let p = 0; p < kc; p++) {
      store<f32>(d, load<f32>(s));
      s += brs << 2;
      d += 32;
    }
  }
}

/** Copy A[0:mc, 0:kc] into panels of 4 rows, 4 floats per k (rows past mc are zeros). */
function packA(a: usize, ars: usize, acs: usize, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += 4) {
    const mr = min(4, mc - ir);
    const base = a + ((<usize>ir * ars) << 2);
    if (mr == 4 && ars == 1) {
      // A stored transposed: the 4 rows' values for one k are adjacent
      let s = base;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(s));
        s += acs << 2;
        dst += 16;
      }
      continue;
    }
    if (mr == 4 && acs == 1) {
      // rows contiguous: transpose 4x4 blocks through registers
      const r0 = base, r1 = base + (ars << 2), r2 = base + (ars << 3), r3 = base + 3 * (ars << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = (<usize>p) << 2;
        const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(dst, v128.shuffle<f64>(t0, t1, 0, 2));
        v128.store(dst, v128.shuffle<f64>(t0, t1, 1, 3), 16);
        v128.store(dst, v128.shuffle<f64>(t2, t3, 0, 2), 32);
        v128.store(dst, v128.shuffle<f64>(t2, t3, 1, 3), 48);
        dst += 64;
      }
      for (; p < kc; p++) {
        const o = (<usize>p) << 2;
        store<f32>(dst, load<f32>(r0 + o)); store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8); store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let i = 0; i < 4; i++) {
        store<f32>(dst + (<usize>i << 2), i < mr ? load<f32>(base + ((<usize>i * ars + <usize>p * acs) << 2)) : 0);
      }
      dst += 16;
    }
  }
}

/**
 * The multiply of one packed KC x NC block of B (panels at bp, 8 floats per
 * k each, panel jr at jr * kc) into rows [i0, i1) of C's columns
 * [jc, jc + nc): A's block is packed MC rows at a time into packedA, and the
 * 4x8 register tile walks over both.
 */
@inline function multiplyBlock(
  a: usize, ars: usize, acs: usize, pc: i32, kc: i32, jc: i32, nc: i32, bp: usize,
  c: usize, ldcB: usize, acc: bool, packedA: usize, tmp: usize, i0: i32, i1: i32,
): void {
  for (let ic = i0; ic < i1; ic += MC) {
    const mc = min(MC, i1 - ic);
    packA(a + ((<usize>ic * ars + <usize>pc * acs) << 2), ars, acs, mc, kc, packedA);
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const panel = bp + (<usize>(jr * kc) << 2);
      const cBase = c + <usize>ic * ldcB + (<usize>(jc + jr) << 2);
      for (let ir = 0; ir < mc; ir += 4) {
        micro(kc, packedA + (<usize>(ir * kc) << 2), panel,
          cBase + <usize>ir * ldcB, ldcB, min(4, mc - ir), nr, acc, tmp);
      }
    }
  }
}

/**
 * The blocked product both GEMMs run: for each KC x NC block of B, its
 * panels are either packed now into scratch (`prepacked` false: B is a
 * matrix with strides brs, bcs) or read where packB left them (`prepacked`
 * true: b is packB's output), then multiplied into rows [i0, i1) of C.
 */
@inline function gemmBlocks(
  n: i32, k: i32,
  a: usize, ars: usize, acs: usize,
  b: usize, brs: usize, bcs: usize, prepacked: bool,
  c: usize, ldc: usize, accumulate: bool, scratch: usize,
  i0: i32, i1: i32,
): void {
  const ldcB = ldc << 2;
  const packedA = scratch + (<usize>(KC * NC) << 2);
  const tmp = packedA + (<usize>(KC * MC) << 2);
  if (k == 0) {
    if (!accumulate) for (let i = i0; i < i1; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>n << 2);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    const ncp = ((nc + NR - 1) / NR) * NR;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      let bp = scratch;
      if (prepacked) bp = b + (<usize>(jc * k + pc * ncp) << 2);
      else {
        const bBlock = b + ((<usize>pc * brs + <usize>jc * bcs) << 2);
        // B is always packed, even when its rows are contiguous: reading it in
        // place strides by a row per k, and with power-of-two widths those rows
        // share a few L1 sets and evict each other (measured 10-30% slower)
        for (let jr = 0; jr < nc; jr += NR) {
          packPanel(bBlock + ((<usize>jr * bcs) << 2), brs, bcs, kc, min(NR, nc - jr), scratch + (<usize>(jr * kc) << 2));
        }
      }
      multiplyBlock(a, ars, acs, pc, kc, jc, nc, bp, c, ldcB, accumulate || pc > 0, packedA, tmp, i0, i1);
    }
  }
}

/**
 * C (m x n, rows ldc apart) = or += A·B, where A[i,p] = a[i*ars + p*acs] and
 * B[p,j] = b[p*brs + j*bcs]: every transpose layout is a choice of strides.
 * Goto-style blocking: B is cut into KC x NC blocks packed into 8-column
 * panels, A into MC x KC blocks packed into
 * 4-row panels, and a 4x8 register tile walks over them.
 * Rows [i0, i1) only, so threads can split one product by rows; `scratch`
 * must be private to the caller (gemmScratchFloats() floats).
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, ars: usize, acs: usize,
  b: usize, brs: usize, bcs: usize,
  c: usize, ldc: usize, accumulate: bool, scratch: usize,
  i0: i32, i1: i32,
): void {
  gemmBlocks(n, k, a, ars, acs, b, brs, bcs, false, c, ldc, accumulate, scratch, i0, i1);
}

/** Floats that packB writes for a k x n matrix: its columns rounded up to whole 8-wide panels, times k. */
export function packedBFloats(k: i32, n: i32): i32 {
  return k * (((n + NR - 1) / NR) * NR);
}

/**
 * All of B (k x n, element strides brs, bcs) packed once in the order
 * gemmPacked reads it: for each NC-wide block of columns, for each KC-deep
 * block of k, its 8-wide panels. Block (jc, pc) starts jc * k + pc * ncp
 * floats in (ncp: the block's width rounded up to a panel), as every block
 * before the last column block is NC (a whole number of panels) wide.
 */
export function packB(k: i32, n: i32, b: usize, brs: usize, bcs: usize, dst: usize): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    const ncp = ((nc + NR - 1) / NR) * NR;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const bBlock = b + ((<usize>pc * brs + <usize>jc * bcs) << 2);
      const d = dst + (<usize>(jc * k + pc * ncp) << 2);
      for (let jr = 0; jr < nc; jr += NR) packPanel(bBlock + ((<usize>jr * bcs) << 2), brs, bcs, kc, min(NR, nc - jr), d + (<usize>(jr * kc) << 2));
    }
  }
}

/**
 * gemm with B already packed by packB (k x n): a product that a layer
 * repeats with the same weights every time step packs them once per
 * sequence instead of once per step. Rows [i0, i1); scratch as gemm's (its
 * B part is unused).
 */
export function gemmPacked(
  m: i32, n: i32, k: i32,
  a: usize, ars: usize, acs: usize,
  bp: usize,
  c: usize, ldc: usize, accumulate: bool, scratch: usize,
  i0: i32, i1: i32,
): void {
  gemmBlocks(n, k, a, ars, acs, bp, 0, 0, true, c, ldc, accumulate, scratch, i0, i1);
}

/**
 * C (m x n) = or += A·Bᵀ for a few rows of A (m < 4, as when sampling at batch 1),
 * with A's rows and B's rows both contiguous in k: dot products, four columns
 * at a time, vectorised along k. No packing: each weight is read once.
 */
export function gemvRowsBt(m: i32, n: i32, k: i32, a: usize, lda: usize, b: usize, ldb: usize, c: usize, ldc: usize, accumulate: bool): void {
  for (let i = 0; i < m; i++) {
    const ar = a + ((<usize>i * lda) << 2);
    const cr = c + ((<usize>i * ldc) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = b + ((<usize>j * ldb) << 2), b1 = b0 + (ldb << 2), b2 = b1 + (ldb << 2), b3 = b2 + (ldb << 2);
      let s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
      let p = 0;
      for (; p + 4 <= k; p += 4) {
        const o = (<usize>p) << 2;
        const x = v128.load(ar + o);
        s0 = fma(x, v128.load(b0 + o), s0);
        s1 = fma(x, v128.load(b1 + o), s1);
        s2 = fma(x, v128.load(b2 + o), s2);
        s3 = fma(x, v128.load(b3 + o), s3);
      }
      // transpose-and-add the four partial sums into one vector of four results
      const t0 = v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(s2, s3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(s0, s1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(s2, s3, 2, 6, 3, 7);
      let r = f32x4.add(
        f32x4.add(v128.shuffle<f64>(t0, t1, 0, 2), v128.shuffle<f64>(t0, t1, 1, 3)),
        f32x4.add(v128.shuffle<f64>(t2, t3, 0, 2), v128.shuffle<f64>(t2, t3, 1, 3)),
      );
      for (; p < k; p++) {
        const o = (<usize>p) << 2;
        const x = load<f32>(ar + o);
        r = f32x4.add(r, f32x4.mul(splat(x), f32x4(load<f32>(b0 + o), load<f32>(b1 + o), load<f32>(b2 + o), load<f32>(b3 + o))));
      }
      const q = cr + ((<usize>j) << 2);
      v128.store(q, accumulate ? f32x4.add(r, v128.load(q)) : r);
    }
    for (; j < n; j++) {
      const br = b + ((<usize>j * ldb) << 2);
      let s: f32 = 0;
      for (let p = 0; p < k; p++) s += load<f32>(ar + ((<usize>p) << 2)) * load<f32>(br + ((<usize>p) << 2));
      const q = cr + ((<usize>j) << 2);
      store<f32>(q, accumulate ? load<f32>(q) + s : s);
    }
  }
}

/** C (m x n) = or += A·B for a few rows of A, B's rows contiguous: row i of C is a sum of B's rows scaled by A[i, p]. */
export function gemvRowsB(m: i32, n: i32, k: i32, a: usize, ars: usize, acs: usize, b: usize, ldb: usize, c: usize, ldc: usize, accumulate: bool): void {
  for (let i = 0; i < m; i++) {
    const cr = c + ((<usize>i * ldc) << 2);
    if (!accumulate) memory.fill(cr, 0, (<usize>n) << 2);
    for (let p = 0; p < k; p++) {
      const x = load<f32>(a + ((<usize>i * ars + <usize>p * acs) << 2));
      if (x == 0) continue;
      const xv = splat(x);
      const br = b + ((<usize>p * ldb) << 2);
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const o = (<usize>j) << 2;
        v128.store(cr + o, fma(xv, v128.load(br + o), v128.load(cr + o)));
      }
      for (; j < n; j++) {
        const o = (<usize>j) << 2;
        store<f32>(cr + o, load<f32>(cr + o) + x * load<f32>(br + o));
      }
    }
  }
}

// ---------------------------------------------------------------- elementwise

// op codes: src/backend/opcodes.ts, shared with src/backend/wasm/index.ts

@inline function unaryV(op: i32, x: v128): v128 {
  switch (op) {
    case UNARY.neg: return f32x4.neg(x);
    case UNARY.exp: return vexp(x);
    case UNARY.tanh: return vtanh(x);
    case UNARY.sigmoid: return vsigmoid(x);
    case UNARY.relu: return f32x4.max(x, splat(0));
    case UNARY.abs: return f32x4.abs(x);
    case UNARY.square: return f32x4.mul(x, x);
    default: return f32x4.sqrt(x); // UNARY.sqrt
  }
}

export function unary(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    st(out + o, unaryV(op, ld(x + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    st1(out + o, unaryV(op, ld1(x + o)));
  }
}

/** out = x * scale + shift */
export function affine(x: usize, out: usize, n: i32, scale: f32, shift: f32): void {
  const s = splat(scale), t = splat(shift);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    st(out + o, f32x4.add(f32x4.mul(ld(x + o), s), t));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(out + o, load<f32>(x + o) * scale + shift);
  }
}

/** Binary op on two same-length contiguous arrays (the common no-broadcast case). */
export function binarySame(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const x = ld(a + o), y = ld(b + o);
    st(out + o, op == BINARY.add ? f32x4.add(x, y) : op == BINARY.sub ? f32x4.sub(x, y) : op == BINARY.mul ? f32x4.mul(x, y) : f32x4.div(x, y));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const x = load<f32>(a + o), y = load<f32>(b + o);
    store<f32>(out + o, op == BINARY.add ? x + y : op == BINARY.sub ? x - y : op == BINARY.mul ? x * y : x / y);
  }
}

/**
 * dst[r*drs + j] = (or +=) src[r*srs + j] for r < rows, j < cols: the strided
 * copies of permutes, slices, concats and bias broadcasts (srs = 0) whose last
 * dimension is contiguous on both sides.
 */
export function copyRows(src: usize, srs: usize, dst: usize, drs: usize, rows: i32, cols: i32, accumulate: bool): void {
  const rowB = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const s = src + ((<usize>r * srs) << 2), d = dst + ((<usize>r * drs) << 2);
    if (!accumulate) {
      memory.copy(d, s, rowB);
      continue;
    }
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      st(d + o, f32x4.add(ld(d + o), ld(s + o)));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
    }
  }
}

/** out[o, i] = sum over j < n of x[o, j, i]: x viewed as [outer, n, inner] (bias gradients, means). */
export function reduceSum(x: usize, out: usize, outer: i32, n: i32, inner: i32): void {
  const innerB = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>n * innerB, oo = out + <usize>o * innerB;
    if (inner == 1) {
      let sv = splat(0);
      let j = 0;
      for (; j + 4 <= n; j += 4) sv = f32x4.add(sv, ld(xo + ((<usize>j) << 2)));
      let sum = hsum(sv);
      for (; j < n; j++) sum += load<f32>(xo + ((<usize>j) << 2));
      store<f32>(oo, sum);
      continue;
    }
    memory.fill(oo, 0, innerB);
    for (let j = 0; j < n; j++) {
      const row = xo + <usize>j * innerB;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const q = (<usize>i) << 2;
        st(oo + q, f32x4.add(ld(oo + q), ld(row + q)));
      }
      for (; i < inner; i++) {
        const q = (<usize>i) << 2;
        store<f32>(oo + q, load<f32>(oo + q) + load<f32>(row + q));
      }
    }
  }
}

/** Sum of squares of n floats, accumulated in double precision. */
export function sumSquares(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = ld(x + ((<usize>i) << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo, lo));
    s1 = f64x2.add(s1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + ((<usize>i) << 2));
    total += v * v;
  }
  return total;
}

// ---------------------------------------------------------------- indexing

/** out[o, j, :] = x[o, idx[j], :] over x viewed as [outer, n, inner]. */
export function gather(x: usize, idx: usize, nIdx: i32, out: usize, outer: i32, n: i32, inner: i32): void {
  const rowB = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>n * rowB;
    const oo = out + <usize>o * <usize>nIdx * rowB;
    for (let j = 0; j < nIdx; j++) {
      memory.copy(oo + <usize>j * rowB, xo + <usize>load<i32>(idx + ((<usize>j) << 2)) * rowB, rowB);
    }
  }
}

/** gx[o, idx[j], :] += gy[o, j, :] */
export function scatterAdd(gy: usize, idx: usize, nIdx: i32, gx: usize, outer: i32, n: i32, inner: i32): void {
  const rowB = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    const go = gy + <usize>o * <usize>nIdx * rowB;
    const xo = gx + <usize>o * <usize>n * rowB;
    for (let j = 0; j < nIdx; j++) {
      const src = go + <usize>j * rowB;
      const dst = xo + <usize>load<i32>(idx + ((<usize>j) << 2)) * rowB;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const q = (<usize>i) << 2;
        st(dst + q, f32x4.add(ld(dst + q), ld(src + q)));
      }
      for (; i < inner; i++) {
        const q = (<usize>i) << 2;
        store<f32>(dst + q, load<f32>(dst + q) + load<f32>(src + q));
      }
    }
  }
}

// ---------------------------------------------------------------- softmax and cross-entropy

@inline function rowMax(x: usize, cols: i32): f32 {
  let m = splat(-Infinity);
  let j = 0;
  for (; j + 4 <= cols; j += 4) m = f32x4.max(m, ld(x + ((<usize>j) << 2)));
  let mx = hmax(m);
  for (; j < cols; j++) mx = max(mx, load<f32>(x + ((<usize>j) << 2)));
  return mx;
}

/** out = exp(x - mx) over a row; returns the sum. */
@inline function rowExp(x: usize, out: usize, cols: i32, mx: f32): f32 {
  const m = splat(mx);
  let s = splat(0);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o = (<usize>j) << 2;
    const e = vexp(f32x4.sub(ld(x + o), m));
    st(out + o, e);
    s = f32x4.add(s, e);
  }
  let sum = hsum(s);
  for (; j < cols; j++) {
    const o = (<usize>j) << 2;
    const e = f32x4.extract_lane(vexp(splat(load<f32>(x + o) - mx)), 0);
    store<f32>(out + o, e);
    sum += e;
  }
  return sum;
}

@inline function rowScale(x: usize, cols: i32, k: f32): void {
  const kv = splat(k);
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const o = (<usize>j) << 2;
    st(x + o, f32x4.mul(ld(x + o), kv));
  }
  for (; j < cols; j++) {
    const o = (<usize>j) << 2;
    store<f32>(x + o, load<f32>(x + o) * k);
  }
}

export function softmax(x: usize, out: usize, rows: i32, cols: i32, log: bool): void {
  const rowB = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowB, orow = out + <usize>r * rowB;
    const mx = rowMax(xr, cols);
    const s = rowExp(xr, orow, cols, mx);
    if (!log) {
      rowScale(orow, cols, 1 / s);
    } else {
      // (x - max) - log(sum), never x - (max + log(sum)): with logits near 1000 the sum would round
      const ls = Mathf.log(s);
      const m = splat(mx), l = splat(ls);
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const o = (<usize>j) << 2;
        st(orow + o, f32x4.sub(f32x4.sub(ld(xr + o), m), l));
      }
      for (; j < cols; j++) {
        const o = (<usize>j) << 2;
        store<f32>(orow + o, (load<f32>(xr + o) - mx) - ls);
      }
    }
  }
}

/** Backward of softmax (log=false) or logSoftmax (log=true). */
export function softmaxGrad(y: usize, gy: usize, gx: usize, rows: i32, cols: i32, log: bool): void {
  const rowB = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const Y = y + <usize>r * rowB, G = gy + <usize>r * rowB, O = gx + <usize>r * rowB;
    let sv = splat(0);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      sv = f32x4.add(sv, log ? ld(G + o) : f32x4.mul(ld(G + o), ld(Y + o)));
    }
    let s = hsum(sv);
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      s += log ? load<f32>(G + o) : load<f32>(G + o) * load<f32>(Y + o);
    }
    const sb = splat(s);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      const yv = ld(Y + o), g = ld(G + o);
      st(O + o, log ? f32x4.sub(g, f32x4.mul(vexp(yv), sb)) : f32x4.mul(yv, f32x4.sub(g, sb)));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      const yv = load<f32>(Y + o), g = load<f32>(G + o);
      store<f32>(O + o, log ? g - f32x4.extract_lane(vexp(splat(yv)), 0) * s : yv * (g - s));
    }
  }
}

/**
 * loss[r] = logsumexp(x[r]) - x[r, t[r]] (0 where t is ignoreIndex), probabilities into probs.
 * Returns the first row whose target is out of range, or -1.
 */
export function crossEntropy(logits: usize, targets: usize, loss: usize, probs: usize, rows: i32, cols: i32, ignoreIndex: i32): i32 {
  const rowB = (<usize>cols) << 2;
  let bad = -1;
  for (let r = 0; r < rows; r++) {
    const X = logits + <usize>r * rowB, P = probs + <usize>r * rowB;
    const t = load<i32>(targets + ((<usize>r) << 2));
    const mx = rowMax(X, cols);
    const s = rowExp(X, P, cols, mx);
    rowScale(P, cols, 1 / s);
    const L = loss + ((<usize>r) << 2);
    if (t == ignoreIndex) {
      store<f32>(L, 0);
    } else if (t < 0 || t >= cols) {
      if (bad < 0) bad = r;
      store<f32>(L, 0);
    } else {
      store<f32>(L, (mx - load<f32>(X + ((<usize>t) << 2))) + Mathf.log(s));
    }
  }
  return bad;
}

/** gx[r] = gyRow[r] * (probs[r] - onehot(t[r])), 0 for ignored rows. */
export function crossEntropyGrad(probs: usize, targets: usize, gyRow: usize, gx: usize, rows: i32, cols: i32, ignoreIndex: i32): void {
  const rowB = (<usize>cols) << 2;
  for (let r = 0; r < rows; r++) {
    const P = probs + <usize>r * rowB, O = gx + <usize>r * rowB;
    const t = load<i32>(targets + ((<usize>r) << 2));
    if (t == ignoreIndex) {
      memory.fill(O, 0, rowB);
      continue;
    }
    const g = load<f32>(gyRow + ((<usize>r) << 2));
    const gv = splat(g);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = (<usize>j) << 2;
      st(O + o, f32x4.mul(ld(P + o), gv));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(O + o, load<f32>(P + o) * g);
    }
    const q = O + ((<usize>t) << 2);
    store<f32>(q, load<f32>(q) - g);
  }
}

// ---------------------------------------------------------------- fused recurrent steps

// kind: RECURRENT in src/backend/opcodes.ts (anything else is rnn_sigmoid)
@inline function rnnAct(kind: i32, v: v128): v128 {
  return kind == RECURRENT.rnn_tanh ? vtanh(v) : kind == RECURRENT.rnn_relu ? f32x4.max(v, splat(0)) : vsigmoid(v);
}

/**
 * The hidden units are walked four at a time, then one at a time for a ragged
 * end (H not a multiple of 4): step u covers the units at byte offset
 * unitOffset(u, H), and is a tail step when u >= H / 4.
 */
@inline function unitSteps(H: i32): i32 {
  return (H >> 2) + (H & 3);
}
@inline function unitOffset(u: i32, H: i32): usize {
  const full = H >> 2;
  return u < full ? (<usize>u) << 4 : ((<usize>(full << 2)) + <usize>(u - full)) << 2;
}

/**
 * One time step for the whole batch (see RecurrentStepArgs in src/backend/backend.ts).
 * gx and gh hold the pre-activations from the two GEMMs; rows whose valid byte is 0 copy the state.
 * gh may be 0 for LSTM/RNN when the recurrent GEMM already accumulated into gx.
 * LSTM only: peepholes pi, pf, po ([H] each, or all 0 for none) and the forget gate's constant offset.
 */
export function recurrentStep(
  kind: i32, B: i32, H: i32,
  gx: usize, gh: usize, hPrev: usize, cPrev: usize, hOut: usize, cOut: usize, act: usize, valid: usize,
  pi: usize, pf: usize, po: usize, forgetGateOffset: f32,
): void {
  const G = kind == RECURRENT.lstm ? 4 * H : kind == RECURRENT.gru ? 3 * H : H;
  const A = kind == RECURRENT.lstm || kind == RECURRENT.gru ? 4 * H : 0;
  const HB = (<usize>H) << 2;
  const full = H >> 2, steps = unitSteps(H);
  const fOffset = splat(forgetGateOffset);
  for (let b = 0; b < B; b++) {
    const gxr = gx + ((<usize>(b * G)) << 2);
    const ghr: usize = gh == 0 ? 0 : gh + ((<usize>(b * G)) << 2);
    const hp = hPrev + <usize>b * HB, ho = hOut + <usize>b * HB;
    const cp = cPrev + <usize>b * HB, co = cOut + <usize>b * HB;
    const ac = act + ((<usize>(b * A)) << 2);
    if (valid != 0 && load<u8>(valid + b) == 0) {
      memory.copy(ho, hp, HB);
      if (kind == RECURRENT.lstm) memory.copy(co, cp, HB);
      continue;
    }
    for (let u = 0; u < steps; u++) {
      const q = unitOffset(u, H);
      const tail = u >= full;
      if (kind == RECURRENT.lstm) {
        let ai = ldt(gxr + q, tail), af = ldt(gxr + HB + q, tail), ag = ldt(gxr + 2 * HB + q, tail), ao = ldt(gxr + 3 * HB + q, tail);
        if (ghr != 0) {
          ai = f32x4.add(ai, ldt(ghr + q, tail)); af = f32x4.add(af, ldt(ghr + HB + q, tail));
          ag = f32x4.add(ag, ldt(ghr + 2 * HB + q, tail)); ao = f32x4.add(ao, ldt(ghr + 3 * HB + q, tail));
        }
        af = f32x4.add(af, fOffset);
        const cPrevV = ldt(cp + q, tail);
        if (pi != 0) {
          ai = fma(ldt(pi + q, tail), cPrevV, ai);
          af = fma(ldt(pf + q, tail), cPrevV, af);
        }
        const i = vsigmoid(ai), f = vsigmoid(af), g = vtanh(ag);
        const c = fma(f, cPrevV, f32x4.mul(i, g));
        if (po != 0) ao = fma(ldt(po + q, tail), c, ao);
        const og = vsigmoid(ao);
        stt(co + q, c, tail);
        stt(ho + q, f32x4.mul(og, vtanh(c)), tail);
        stt(ac + q, i, tail); stt(ac + HB + q, f, tail); stt(ac + 2 * HB + q, g, tail); stt(ac + 3 * HB + q, og, tail);
      } else if (kind == RECURRENT.gru) {
        const r = vsigmoid(f32x4.add(ldt(gxr + q, tail), ldt(ghr + q, tail)));
        const z = vsigmoid(f32x4.add(ldt(gxr + HB + q, tail), ldt(ghr + HB + q, tail)));
        const hn = ldt(ghr + 2 * HB + q, tail);
        const n = vtanh(fma(r, hn, ldt(gxr + 2 * HB + q, tail)));
        stt(ho + q, fma(z, f32x4.sub(ldt(hp + q, tail), n), n), tail);
        stt(ac + q, r, tail); stt(ac + HB + q, z, tail); stt(ac + 2 * HB + q, n, tail); stt(ac + 3 * HB + q, hn, tail);
      } else {
        let v = ldt(gxr + q, tail);
        if (ghr != 0) v = f32x4.add(v, ldt(ghr + q, tail));
        stt(ho + q, rnnAct(kind, v), tail);
      }
    }
  }
}

/**
 * Backward of one step (see RecurrentStepGradArgs). dGh may equal dGx (LSTM/RNN).
 * LSTM only: the forward's peepholes pi, pf, po (all 0 for none), and dpi, dpf, dpo that their
 * gradients are added to (all 0: not wanted).
 */
export function recurrentStepGrad(
  kind: i32, B: i32, H: i32,
  act: usize, hPrev: usize, hOut: usize, cPrev: usize, cOut: usize,
  dh: usize, dc: usize, dGx: usize, dGh: usize, dhPrev: usize, dcPrev: usize, valid: usize,
  pi: usize, pf: usize, po: usize, dpi: usize, dpf: usize, dpo: usize,
): void {
  const G = kind == RECURRENT.lstm ? 4 * H : kind == RECURRENT.gru ? 3 * H : H;
  const A = kind == RECURRENT.lstm || kind == RECURRENT.gru ? 4 * H : 0;
  const HB = (<usize>H) << 2;
  const one = splat(1);
  const full = H >> 2, steps = unitSteps(H);
  for (let b = 0; b < B; b++) {
    const dgx = dGx + ((<usize>(b * G)) << 2), dgh = dGh + ((<usize>(b * G)) << 2);
    const dhr = dh + <usize>b * HB, dhp = dhPrev + <usize>b * HB;
    const dcr = dc + <usize>b * HB, dcp = dcPrev + <usize>b * HB;
    const hp = hPrev + <usize>b * HB, ho = hOut + <usize>b * HB;
    const cp = cPrev + <usize>b * HB, co = cOut + <usize>b * HB;
    const ac = act + ((<usize>(b * A)) << 2);
    const twoOutputs = dgh != dgx;
    if (valid != 0 && load<u8>(valid + b) == 0) {
      // the state passed through unchanged: so do its gradients
      memory.fill(dgx, 0, (<usize>G) << 2);
      if (twoOutputs) memory.fill(dgh, 0, (<usize>G) << 2);
      memory.copy(dhp, dhr, HB);
      if (kind == RECURRENT.lstm) memory.copy(dcp, dcr, HB);
      continue;
    }
    for (let u = 0; u < steps; u++) {
      const q = unitOffset(u, H);
      const tail = u >= full;
      const dhv = ldt(dhr + q, tail);
      if (kind == RECURRENT.lstm) {
        const i = ldt(ac + q, tail), f = ldt(ac + HB + q, tail), g = ldt(ac + 2 * HB + q, tail), og = ldt(ac + 3 * HB + q, tail);
        const c = ldt(co + q, tail), cPrevV = ldt(cp + q, tail);
        const tc = vtanh(c);
        const dO = f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og)));
        let dct = fma(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc)), ldt(dcr + q, tail));
        // with peepholes c_t also reaches h_t through o's pre-activation
        if (po != 0) dct = fma(dO, ldt(po + q, tail), dct);
        const di = f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i)));
        const df = f32x4.mul(f32x4.mul(dct, cPrevV), f32x4.mul(f, f32x4.sub(one, f)));
        const dg = f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g)));
        stt(dgx + q, di, tail); stt(dgx + HB + q, df, tail); stt(dgx + 2 * HB + q, dg, tail); stt(dgx + 3 * HB + q, dO, tail);
        if (twoOutputs) { stt(dgh + q, di, tail); stt(dgh + HB + q, df, tail); stt(dgh + 2 * HB + q, dg, tail); stt(dgh + 3 * HB + q, dO, tail); }
        let dcPrevV = f32x4.mul(dct, f);
        if (pi != 0) dcPrevV = fma(di, ldt(pi + q, tail), fma(df, ldt(pf + q, tail), dcPrevV));
        stt(dcp + q, dcPrevV, tail);
        if (pi != 0 && dpi != 0) {
          stt(dpi + q, fma(di, cPrevV, ldt(dpi + q, tail)), tail);
          stt(dpf + q, fma(df, cPrevV, ldt(dpf + q, tail)), tail);
          stt(dpo + q, fma(dO, c, ldt(dpo + q, tail)), tail);
        }
        stt(dhp + q, splat(0), tail);
      } else if (kind == RECURRENT.gru) {
        const r = ldt(ac + q, tail), z = ldt(ac + HB + q, tail), n = ldt(ac + 2 * HB + q, tail), hn = ldt(ac + 3 * HB + q, tail);
        const dnPre = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
        const dzPre = f32x4.mul(f32x4.mul(dhv, f32x4.sub(ldt(hp + q, tail), n)), f32x4.mul(z, f32x4.sub(one, z)));
        const drPre = f32x4.mul(f32x4.mul(dnPre, hn), f32x4.mul(r, f32x4.sub(one, r)));
        stt(dgx + q, drPre, tail); stt(dgx + HB + q, dzPre, tail); stt(dgx + 2 * HB + q, dnPre, tail);
        stt(dgh + q, drPre, tail); stt(dgh + HB + q, dzPre, tail); stt(dgh + 2 * HB + q, f32x4.mul(dnPre, r), tail);
        stt(dhp + q, f32x4.mul(dhv, z), tail);
      } else {
        const h = ldt(ho + q, tail);
        let d: v128;
        if (kind == RECURRENT.rnn_tanh) d = f32x4.sub(one, f32x4.mul(h, h));
        else if (kind == RECURRENT.rnn_relu) d = v128.and(f32x4.gt(h, splat(0)), one);
        else d = f32x4.mul(h, f32x4.sub(one, h));
        const v = f32x4.mul(dhv, d);
        stt(dgx + q, v, tail);
        if (twoOutputs) stt(dgh + q, v, tail);
        stt(dhp + q, splat(0), tail);
      }
    }
  }
}

// ---------------------------------------------------------------- a recurrent layer's whole time loop

@inline function gateBlocks(kind: i32): i32 {
  return kind == RECURRENT.lstm ? 4 : kind == RECURRENT.gru ? 3 : 1;
}
@inline function actBlocks(kind: i32): i32 {
  return kind == RECURRENT.lstm || kind == RECURRENT.gru ? 4 : 0;
}

/**
 * A recurrent layer's time loop after its input GEMM (RecurrentSequenceArgs
 * in src/backend/backend.ts), for batch rows [b0, b1): a row's recurrence
 * never reads another row, so threads that own disjoint rows run all T steps
 * with no synchronisation. Buffers are in processing order: gx [T, B, G]
 * (gets W_hh h added in, unless gh != 0), hs and cs [T + 1, B, H] with the
 * initial state at step 0, act [T, B, A], valid a byte per (step, row) or 0.
 * whhP is W_hhᵀ (H x G) packed by packB. GRU keeps W_hh h + b_hh apart in gh
 * ([B, G], rows b0..b1 reused every step; biasHh 0 for none).
 * The forget-gate offset comes as its float's bits, as a thread job's
 * arguments are integers.
 */
export function recurrentSeq(
  kind: i32, T: i32, B: i32, H: i32,
  gx: usize, gh: usize, biasHh: usize, whhP: usize,
  hs: usize, cs: usize, act: usize, valid: usize,
  pi: usize, pf: usize, po: usize, forgetGateOffsetBits: i32,
  scratch: usize, b0: i32, b1: i32,
): void {
  if (b1 <= b0) return;
  const G = gateBlocks(kind) * H, A = actBlocks(kind) * H;
  const HB = (<usize>H) << 2, GB = (<usize>G) << 2;
  const offset = reinterpret<f32>(forgetGateOffsetBits);
  for (let k = 0; k < T; k++) {
    const hPrev = hs + <usize>(k * B) * HB;
    const gxk = gx + <usize>(k * B) * GB;
    if (gh != 0) {
      for (let b = b0; b < b1; b++) {
        const row = gh + <usize>b * GB;
        if (biasHh != 0) memory.copy(row, biasHh, GB);
        else memory.fill(row, 0, GB);
      }
      gemmPacked(B, G, H, hPrev, H, 1, whhP, gh, G, true, scratch, b0, b1);
    } else gemmPacked(B, G, H, hPrev, H, 1, whhP, gxk, G, true, scratch, b0, b1);
    const rowState = <usize>(k * B + b0) * HB, nextState = <usize>((k + 1) * B + b0) * HB;
    recurrentStep(
      kind, b1 - b0, H,
      gxk + <usize>b0 * GB, gh == 0 ? 0 : gh + <usize>b0 * GB,
      hs + rowState, cs == 0 ? 0 : cs + rowState, hs + nextState, cs == 0 ? 0 : cs + nextState,
      act + ((<usize>((k * B + b0) * A)) << 2), valid == 0 ? 0 : valid + <usize>(k * B + b0),
      pi, pf, po, offset,
    );
  }
}

/**
 * The backward of recurrentSeq for rows [b0, b1) (RecurrentSequenceGradArgs):
 * from the gradient of the layer's packed output gP ([B, T + S, H] rows
 * gpStride floats apart: y at step t, then final h, then final c), back
 * through time. Each step adds dL/dy_t into dh on valid rows, runs the step's
 * backward into dGx and dGh ([T, B, G], which may be one buffer) and adds
 * dGh · W_hh into the next dh; whhP is W_hh (G x H) packed by packB. dh and
 * dc ping-pong between dhA / dhB and dcA / dcB ([B, H] each), so after T
 * steps dL/dh_0 is in dhA when T is even, dhB when odd. dpi, dpf, dpo
 * accumulate every row's share: with peepholes only one call may run at a
 * time.
 */
export function recurrentSeqGrad(
  kind: i32, T: i32, B: i32, H: i32,
  whhP: usize, act: usize, hs: usize, cs: usize,
  gP: usize, gpStride: i32, reverse: bool,
  dGx: usize, dGh: usize, dhA: usize, dhB: usize, dcA: usize, dcB: usize, valid: usize,
  pi: usize, pf: usize, po: usize, dpi: usize, dpf: usize, dpo: usize,
  scratch: usize, b0: i32, b1: i32,
): void {
  if (b1 <= b0) return;
  const G = gateBlocks(kind) * H, A = actBlocks(kind) * H;
  const HB = (<usize>H) << 2, GB = (<usize>G) << 2, PB = (<usize>gpStride) << 2;
  for (let b = b0; b < b1; b++) {
    const src = gP + <usize>b * PB + <usize>T * HB;
    memory.copy(dhA + <usize>b * HB, src, HB);
    if (cs != 0) memory.copy(dcA + <usize>b * HB, src + HB, HB);
  }
  let dh = dhA, dhNext = dhB, dc = dcA, dcNext = dcB;
  for (let k = T - 1; k >= 0; k--) {
    const t = reverse ? T - 1 - k : k;
    for (let b = b0; b < b1; b++) {
      if (valid != 0 && load<u8>(valid + <usize>(k * B + b)) == 0) continue;
      // the output y_t is h_t on a valid row (a constant zero elsewhere)
      const d = dh + <usize>b * HB;
      binarySame(BINARY.add, d, gP + <usize>b * PB + <usize>t * HB, d, H);
    }
    const rowState = <usize>(k * B + b0) * HB, nextState = <usize>((k + 1) * B + b0) * HB;
    const rowGates = <usize>(k * B + b0) * GB;
    recurrentStepGrad(
      kind, b1 - b0, H,
      act + ((<usize>((k * B + b0) * A)) << 2),
      hs + rowState, hs + nextState, cs == 0 ? 0 : cs + rowState, cs == 0 ? 0 : cs + nextState,
      dh + <usize>b0 * HB, cs == 0 ? 0 : dc + <usize>b0 * HB,
      dGx + rowGates, dGh + rowGates,
      dhNext + <usize>b0 * HB, cs == 0 ? 0 : dcNext + <usize>b0 * HB,
      valid == 0 ? 0 : valid + <usize>(k * B + b0),
      pi, pf, po, dpi, dpf, dpo,
    );
    // dL/dh_{k-1} += dGh_k · W_hh
    gemmPacked(B, H, G, dGh + <usize>(k * B) * GB, G, 1, whhP, dhNext, H, true, scratch, b0, b1);
    const th = dh;
    dh = dhNext;
    dhNext = th;
    const tc = dc;
    dc = dcNext;
    dcNext = tc;
  }
}

// ---------------------------------------------------------------- fused linear scans (minGRU, minLSTM)

// kind: SCAN in src/backend/opcodes.ts (anything else is minlstm). Semantics: ScanArgs in
// src/backend/backend.ts; the js backend's scan and scanGrad are the reference.

/**
 * minLSTM's mixing weight u = i / (f + i) from the pre-activations p_f, p_i:
 * with i = σ(p_i), f = σ(p_f), a = -p_i, c = -p_f it is
 * (1 + e^c) / (2 + e^a + e^c), and every term is scaled by e^{-M},
 * M = max(0, a, c), so no exponent is positive (nothing overflows when both
 * gates saturate; one term is 1, so the sum is in [1, 4]) and nothing is
 * subtracted (u keeps its relative accuracy). The same number as the js
 * kernel's σ(logσ(p_i) - logσ(p_f)), for a division and two exponentials:
 * of the exponents -M, a - M, c - M one is 0, the largest of the others is
 * -|max(a, c)|, and the smallest min(a, c) - M. scanGradStep spells this
 * out again, as it needs the terms themselves.
 */
@inline function minlstmMix(pf: v128, pi: v128): v128 {
  const a = f32x4.neg(pi), c = f32x4.neg(pf), one = splat(1);
  const hi = f32x4.max(a, c), pos = f32x4.gt(hi, splat(0)), aHi = f32x4.ge(a, c);
  const y = vexp(f32x4.neg(f32x4.abs(hi))), x = vexp(f32x4.sub(f32x4.pmin(a, c), f32x4.pmax(hi, splat(0))));
  const e0 = v128.bitselect(y, one, pos), eHi = v128.bitselect(one, y, pos);
  const ea = v128.bitselect(eHi, x, aHi), ec = v128.bitselect(x, eHi, aHi);
  const den = f32x4.add(e0, ec);
  return f32x4.div(den, f32x4.add(f32x4.add(den, e0), ea));
}

/** One step of four hidden units (one in lane 0 when tail) at byte offset q: h_t = h_{t-1} + u (h~_t - h_{t-1}). */
@inline function scanStep(kind: i32, g: usize, HB: usize, prev: usize, o: usize, q: usize, tail: bool): void {
  const hp = ldt(prev + q, tail);
  let u: v128, ht: v128;
  if (kind == SCAN.mingru) {
    u = vsigmoid(ldt(g + q, tail));
    ht = ldt(g + HB + q, tail);
  } else {
    u = minlstmMix(ldt(g + q, tail), ldt(g + HB + q, tail));
    ht = ldt(g + 2 * HB + q, tail);
  }
  stt(o + q, fma(u, f32x4.sub(ht, hp), hp), tail);
}

/**
 * Row b's hidden units at byte offsets [q0, q1) over its `len` valid steps
 * (gx, h0, out, hT point at the row). Time is the outer loop: each step
 * streams one row of gx and reads h_{t-1} back from the output row it wrote
 * last (still in L1), and the units of a step are independent, so the loop
 * is not held to the latency of the recurrence.
 */
@inline function scanRow(
  kind: i32, T: i32, HB: usize, GB: usize,
  gx: usize, h0: usize, out: usize, hT: usize, len: i32, reverse: bool, q0: usize, q1: usize,
): void {
  const qFull = q0 + (((q1 - q0) >> 4) << 4);
  for (let k = 0; k < len; k++) {
    const t = reverse ? len - 1 - k : k;
    const prev = k == 0 ? h0 : out + <usize>(reverse ? t + 1 : t - 1) * HB;
    const g = gx + <usize>t * GB, o = out + <usize>t * HB;
    let q = q0;
    for (; q < qFull; q += 16) scanStep(kind, g, HB, prev, o, q, false);
    for (; q < q1; q += 4) scanStep(kind, g, HB, prev, o, q, true);
  }
  for (let t = len; t < T; t++) memory.fill(out + <usize>t * HB + q0, 0, q1 - q0);
  memory.copy(hT + q0, (len == 0 ? h0 : out + <usize>(reverse ? 0 : len - 1) * HB) + q0, q1 - q0);
}

/** Row b's valid length (see ScanArgs), kept within [0, T] so a bad length cannot reach outside the row. */
@inline function scanLength(lengths: usize, b: i32, T: i32): i32 {
  return lengths == 0 ? T : min(T, max(0, load<i32>(lengths + ((<usize>b) << 2))));
}

/**
 * A scan over [B, T, H] (see ScanArgs), cut into items so threads can share
 * it: item p is row p / n, hidden units [c * chunk, (c + 1) * chunk) with
 * c = p % n and n = ceil(H / chunk); chunk is a multiple of 4. A call runs
 * items [p0, p1); chunk = H, p0 = 0, p1 = B is the whole scan. lengths: an
 * Int32 per row, or 0 for all T.
 */
export function scan(
  kind: i32, B: i32, T: i32, H: i32,
  gx: usize, h0: usize, out: usize, hT: usize, lengths: usize, reverse: bool,
  chunk: i32, p0: i32, p1: i32,
): void {
  const HB = (<usize>H) << 2, GB = HB * (kind == SCAN.mingru ? 2 : 3);
  const n = (H + chunk - 1) / chunk;
  for (let p = p0; p < p1; p++) {
    const b = p / n, j0 = (p % n) * chunk;
    const q0 = (<usize>j0) << 2, q1 = (<usize>min(H, j0 + chunk)) << 2;
    const len = scanLength(lengths, b, T);
    const rowG = gx + <usize>b * <usize>T * GB, rowH = h0 + <usize>b * HB, rowO = out + <usize>b * <usize>T * HB, rowT = hT + <usize>b * HB;
    // a constant kind per call, so each copy of the inlined loop is compiled for its own kind
    if (kind == SCAN.mingru) scanRow(SCAN.mingru, T, HB, GB, rowG, rowH, rowO, rowT, len, reverse, q0, q1);
    else scanRow(SCAN.minlstm, T, HB, GB, rowG, rowH, rowO, rowT, len, reverse, q0, q1);
  }
}

/**
 * One step back for four hidden units (one when tail): d, the gradient
 * reaching h_t from later steps, is carried in dh0's row (dc), dOut's entry
 * at t is added to it, and it leaves as d (1 - u) for h_{t-1}.
 */
@inline function scanGradStep(kind: i32, g: usize, dg: usize, HB: usize, prev: usize, dout: usize, dc: usize, q: usize, tail: bool): void {
  const d = f32x4.add(ldt(dc + q, tail), ldt(dout + q, tail));
  const hp = ldt(prev + q, tail);
  if (kind == SCAN.mingru) {
    // u = 1 / (1 + e), 1 - u = e / (1 + e): no cancellation in 1 - u when z saturates
    const e = vexp(f32x4.neg(ldt(g + q, tail)));
    const inv = f32x4.div(splat(1), f32x4.add(splat(1), e));
    const v = f32x4.mul(e, inv);
    const dv = f32x4.mul(d, f32x4.sub(ldt(g + HB + q, tail), hp));
    stt(dg + q, f32x4.mul(dv, f32x4.mul(inv, v)), tail);
    stt(dg + HB + q, f32x4.mul(d, inv), tail);
    stt(dc + q, f32x4.mul(d, v), tail);
  } else {
    // minlstmMix's terms: u = den / S, 1 - u = num / S, 1 - σ(p_i) = ea / num, 1 - σ(p_f) = ec / den, so
    // du/dp_i = u (1 - u)(1 - σ(p_i)) = den ea / S², du/dp_f = -u (1 - u)(1 - σ(p_f)) = -num ec / S²
    const a = f32x4.neg(ldt(g + HB + q, tail)), c = f32x4.neg(ldt(g + q, tail)), one = splat(1);
    const hi = f32x4.max(a, c), pos = f32x4.gt(hi, splat(0)), aHi = f32x4.ge(a, c);
    const y = vexp(f32x4.neg(f32x4.abs(hi))), x = vexp(f32x4.sub(f32x4.pmin(a, c), f32x4.pmax(hi, splat(0))));
    const e0 = v128.bitselect(y, one, pos), eHi = v128.bitselect(one, y, pos);
    const ea = v128.bitselect(eHi, x, aHi), ec = v128.bitselect(x, eHi, aHi);
    const den = f32x4.add(e0, ec), num = f32x4.add(e0, ea);
    const inv = f32x4.div(one, f32x4.add(den, num));
    const r = f32x4.mul(f32x4.mul(d, f32x4.sub(ldt(g + 2 * HB + q, tail), hp)), f32x4.mul(inv, inv));
    stt(dg + q, f32x4.neg(f32x4.mul(r, f32x4.mul(num, ec))), tail);
    stt(dg + HB + q, f32x4.mul(r, f32x4.mul(den, ea)), tail);
    stt(dg + 2 * HB + q, f32x4.mul(d, f32x4.mul(den, inv)), tail);
    stt(dc + q, f32x4.mul(d, f32x4.mul(num, inv)), tail);
  }
}

/** Row b's units [q0, q1) back through its valid steps, in the reverse of the forward's order. */
@inline function scanGradRow(
  kind: i32, T: i32, HB: usize, GB: usize, blocks: i32,
  gx: usize, h0: usize, out: usize, dOut: usize, dhT: usize, dGx: usize, dh0: usize, len: i32, reverse: bool, q0: usize, q1: usize,
): void {
  const qFull = q0 + (((q1 - q0) >> 4) << 4);
  memory.copy(dh0 + q0, dhT + q0, q1 - q0);
  for (let k = len - 1; k >= 0; k--) {
    const t = reverse ? len - 1 - k : k;
    const prev = k == 0 ? h0 : out + <usize>(reverse ? t + 1 : t - 1) * HB;
    const g = gx + <usize>t * GB, dg = dGx + <usize>t * GB, dout = dOut + <usize>t * HB;
    let q = q0;
    for (; q < qFull; q += 16) scanGradStep(kind, g, dg, HB, prev, dout, dh0, q, false);
    for (; q < q1; q += 4) scanGradStep(kind, g, dg, HB, prev, dout, dh0, q, true);
  }
  for (let t = len; t < T; t++) {
    for (let i = 0; i < blocks; i++) memory.fill(dGx + <usize>t * GB + <usize>i * HB + q0, 0, q1 - q0);
  }
}

/** The backward of scan (see ScanGradArgs), cut into the same items as scan. */
export function scanGrad(
  kind: i32, B: i32, T: i32, H: i32,
  gx: usize, h0: usize, out: usize, dOut: usize, dhT: usize, dGx: usize, dh0: usize, lengths: usize, reverse: bool,
  chunk: i32, p0: i32, p1: i32,
): void {
  const blocks = kind == SCAN.mingru ? 2 : 3;
  const HB = (<usize>H) << 2, GB = HB * blocks;
  const n = (H + chunk - 1) / chunk;
  for (let p = p0; p < p1; p++) {
    const b = p / n, j0 = (p % n) * chunk;
    const q0 = (<usize>j0) << 2, q1 = (<usize>min(H, j0 + chunk)) << 2;
    const len = scanLength(lengths, b, T);
    const rowG = gx + <usize>b * <usize>T * GB, rowDG = dGx + <usize>b * <usize>T * GB;
    const rowO = out + <usize>b * <usize>T * HB, rowDO = dOut + <usize>b * <usize>T * HB;
    const rowH = h0 + <usize>b * HB, rowDT = dhT + <usize>b * HB, rowD0 = dh0 + <usize>b * HB;
    if (kind == SCAN.mingru) scanGradRow(SCAN.mingru, T, HB, GB, blocks, rowG, rowH, rowO, rowDO, rowDT, rowDG, rowD0, len, reverse, q0, q1);
    else scanGradRow(SCAN.minlstm, T, HB, GB, blocks, rowG, rowH, rowO, rowDO, rowDT, rowDG, rowD0, len, reverse, q0, q1);
  }
}

// ---------------------------------------------------------------- RMSNorm and GELU (the block language model's)

// Semantics: RmsNormArgs, GeluArgs and their grads in src/backend/backend.ts; the js backend's loops
// are the reference. Rows (RMSNorm) and elements (GELU) are independent, so a call covers a range
// [p0, p1) of them and threads split a big one. A row is walked four floats at a time, then one at a
// time in lane 0 (tail) for a ragged end; lanes a tail load leaves zero add nothing to a sum.

/** y = x r (⊙ w) at byte offset q of a row. */
@inline function rmsNormScaleAt(xr: usize, w: usize, yr: usize, q: usize, rv: v128, hasW: bool, tail: bool): void {
  const y = f32x4.mul(ldt(xr + q, tail), rv);
  stt(yr + q, hasW ? f32x4.mul(y, ldt(w + q, tail)) : y, tail);
}

/** One row of RMSNorm: the mean square in one pass, y in a second (the row is still in L1). */
@inline function rmsNormRow(d: i32, xr: usize, w: usize, yr: usize, r: usize, eps: f32, hasW: bool): void {
  const rowB = (<usize>d) << 2, fullB = (<usize>(d >> 2)) << 4;
  let s0 = splat(0), s1 = splat(0);
  let q: usize = 0;
  // two accumulators, so each add does not wait for the one before
  for (; q + 32 <= fullB; q += 32) {
    const a = ld(xr + q), b = ld(xr + q + 16);
    s0 = fma(a, a, s0);
    s1 = fma(b, b, s1);
  }
  for (; q < fullB; q += 16) { const a = ld(xr + q); s0 = fma(a, a, s0); }
  for (; q < rowB; q += 4) { const a = ld1(xr + q); s0 = fma(a, a, s0); }
  // the root in double, rounded once, as the js twin does
  const rr = <f32>(1 / Math.sqrt(<f64>hsum(f32x4.add(s0, s1)) / <f64>d + <f64>eps));
  store<f32>(r, rr);
  const rv = splat(rr);
  for (q = 0; q < fullB; q += 16) rmsNormScaleAt(xr, w, yr, q, rv, hasW, false);
  for (; q < rowB; q += 4) rmsNormScaleAt(xr, w, yr, q, rv, hasW, true);
}

/**
 * RMSNorm of rows [p0, p1) of d (see RmsNormArgs); w = 0 for no weight. eps
 * comes as its float32 bits: a thread's job passes integers only.
 */
export function rmsNorm(d: i32, x: usize, w: usize, y: usize, r: usize, epsBits: i32, p0: i32, p1: i32): void {
  const eps = reinterpret<f32>(epsBits);
  const rowB = (<usize>d) << 2;
  for (let i = p0; i < p1; i++) {
    const o = <usize>i * rowB, ri = r + ((<usize>i) << 2);
    // a constant hasW per copy of the inlined row, so neither copy tests it per element
    if (w != 0) rmsNormRow(d, x + o, w, y + o, ri, eps, true);
    else rmsNormRow(d, x + o, 0, y + o, ri, eps, false);
  }
}

/** The backward's first pass at byte offset q: gw += gy ⊙ x r; returns dot + g ⊙ x (g = gy ⊙ w). */
@inline function rmsNormGradSumAt(
  xr: usize, w: usize, gyr: usize, gw: usize, q: usize, rv: v128, dot: v128, hasW: bool, hasGx: bool, hasGw: bool, tail: bool,
): v128 {
  const gy = ldt(gyr + q, tail), x = ldt(xr + q, tail);
  if (hasGw) stt(gw + q, fma(f32x4.mul(gy, x), rv, ldt(gw + q, tail)), tail);
  return hasGx ? fma(hasW ? f32x4.mul(gy, ldt(w + q, tail)) : gy, x, dot) : dot;
}

/** The backward's second pass at byte offset q: gx = g r + x coef. */
@inline function rmsNormGradAt(xr: usize, w: usize, gyr: usize, gxr: usize, q: usize, rv: v128, coef: v128, hasW: bool, tail: bool): void {
  const gy = ldt(gyr + q, tail);
  const g = hasW ? f32x4.mul(gy, ldt(w + q, tail)) : gy;
  stt(gxr + q, fma(ldt(xr + q, tail), coef, f32x4.mul(g, rv)), tail);
}

/** One row back: gw and the dot Σ g x in one pass, gx = g r - x r³ dot / d in a second. */
@inline function rmsNormGradRow(
  d: i32, xr: usize, w: usize, rr: f32, gyr: usize, gxr: usize, gw: usize, hasW: bool, hasGx: bool, hasGw: bool,
): void {
  const rowB = (<usize>d) << 2, fullB = (<usize>(d >> 2)) << 4;
  const rv = splat(rr);
  let dot = splat(0);
  let q: usize = 0;
  for (; q < fullB; q += 16) dot = rmsNormGradSumAt(xr, w, gyr, gw, q, rv, dot, hasW, hasGx, hasGw, false);
  for (; q < rowB; q += 4) dot = rmsNormGradSumAt(xr, w, gyr, gw, q, rv, dot, hasW, hasGx, hasGw, true);
  if (!hasGx) return;
  const coef = splat(-hsum(dot) * rr * rr * rr / <f32>d);
  for (q = 0; q < fullB; q += 16) rmsNormGradAt(xr, w, gyr, gxr, q, rv, coef, hasW, false);
  for (; q < rowB; q += 4) rmsNormGradAt(xr, w, gyr, gxr, q, rv, coef, hasW, true);
}

/**
 * The backward of rows [p0, p1) (see RmsNormGradArgs); w, gx, gw = 0 for
 * none. gw is overwritten with the sum over these rows only: threads each
 * sum their own rows into their own gw, and the caller adds those up.
 */
export function rmsNormGrad(d: i32, x: usize, w: usize, r: usize, gy: usize, gx: usize, gw: usize, p0: i32, p1: i32): void {
  const rowB = (<usize>d) << 2;
  if (gw != 0) memory.fill(gw, 0, rowB);
  for (let i = p0; i < p1; i++) {
    const o = <usize>i * rowB, rr = load<f32>(r + ((<usize>i) << 2));
    if (w == 0) {
      if (gx != 0) rmsNormGradRow(d, x + o, 0, rr, gy + o, gx + o, 0, false, true, false);
    } else if (gx != 0 && gw != 0) rmsNormGradRow(d, x + o, w, rr, gy + o, gx + o, gw, true, true, true);
    else if (gx != 0) rmsNormGradRow(d, x + o, w, rr, gy + o, gx + o, 0, true, true, false);
    else if (gw != 0) rmsNormGradRow(d, x + o, w, rr, gy + o, 0, gw, true, false, true);
  }
}

// GELU's inner argument is x (C + CA x²), in f32 once here
const GELU_C: f32 = <f32>GELU_TANH.C;
const GELU_CA: f32 = <f32>(GELU_TANH.C * GELU_TANH.A);

@inline function geluAt(x: usize, y: usize, th: usize, o: usize, tail: bool): void {
  const xv = ldt(x + o, tail);
  const t = vtanh(f32x4.mul(xv, fma(f32x4.mul(xv, xv), splat(GELU_CA), splat(GELU_C))));
  stt(th + o, t, tail);
  const h = f32x4.mul(xv, splat(0.5));
  stt(y + o, fma(h, t, h), tail);
}

/** GELU (tanh approximation) of elements [p0, p1): y and the tanh th (see GeluArgs). */
export function gelu(x: usize, y: usize, th: usize, p0: i32, p1: i32): void {
  let i = p0;
  for (; i + 4 <= p1; i += 4) geluAt(x, y, th, (<usize>i) << 2, false);
  for (; i < p1; i++) geluAt(x, y, th, (<usize>i) << 2, true);
}

/** gx = gy · GELU'(x) at byte offset o, from the saved tanh t. */
@inline function geluGradAt(x: usize, th: usize, gy: usize, gx: usize, o: usize, tail: bool): void {
  const xv = ldt(x + o, tail), t = ldt(th + o, tail), half = splat(0.5), one = splat(1);
  // (1 - t)(1 + t), not 1 - t², keeps its relative accuracy where the tanh saturates
  const sech2 = f32x4.mul(f32x4.sub(one, t), f32x4.add(one, t));
  const inner = fma(f32x4.mul(xv, xv), splat(3 * GELU_CA), splat(GELU_C));
  const dy = fma(f32x4.mul(f32x4.mul(half, xv), sech2), inner, fma(half, t, half));
  stt(gx + o, f32x4.mul(ldt(gy + o, tail), dy), tail);
}

/** The backward of gelu over elements [p0, p1) (see GeluGradArgs); gx may be gy. */
export function geluGrad(x: usize, th: usize, gy: usize, gx: usize, p0: i32, p1: i32): void {
  let i = p0;
  for (; i + 4 <= p1; i += 4) geluGradAt(x, th, gy, gx, (<usize>i) << 2, false);
  for (; i < p1; i++) geluGradAt(x, th, gy, gx, (<usize>i) << 2, true);
}

// ---------------------------------------------------------------- optimizers (PyTorch's update rules)

// Each rule is written once, on four lanes: the kernels run it four elements at
// a time, then one at a time in lane 0 for the ragged end (tail = true).

@inline function sgdAt(
  o: usize, tail: bool, p: usize, g: usize, buf: usize, useBuf: bool,
  lrv: v128, mv: v128, undamped: v128, nesterov: bool, wdv: v128, firstStep: bool,
): void {
  const pv = ldt(p + o, tail);
  let d = fma(wdv, pv, ldt(g + o, tail));
  if (useBuf) {
    const bv = firstStep ? d : fma(mv, ldt(buf + o, tail), f32x4.mul(undamped, d));
    stt(buf + o, bv, tail);
    d = nesterov ? fma(mv, bv, d) : bv;
  }
  stt(p + o, f32x4.sub(pv, f32x4.mul(lrv, d)), tail);
}

export function sgdStep(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, dampening: f32, nesterov: bool, wd: f32, firstStep: bool): void {
  const useBuf = buf != 0 && momentum != 0;
  const lrv = splat(lr), mv = splat(momentum), undamped = splat(1 - dampening), wdv = splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) sgdAt((<usize>i) << 2, false, p, g, buf, useBuf, lrv, mv, undamped, nesterov, wdv, firstStep);
  for (; i < n; i++) sgdAt((<usize>i) << 2, true, p, g, buf, useBuf, lrv, mv, undamped, nesterov, wdv, firstStep);
}

@inline function adagradAt(o: usize, tail: bool, p: usize, g: usize, sum: usize, lrv: v128, epsv: v128, wdv: v128): void {
  const pv = ldt(p + o, tail);
  const d = fma(wdv, pv, ldt(g + o, tail));
  const s = fma(d, d, ldt(sum + o, tail));
  stt(sum + o, s, tail);
  stt(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(lrv, d), f32x4.add(f32x4.sqrt(s), epsv))), tail);
}

export function adagradStep(p: usize, g: usize, sum: usize, n: i32, lr: f32, eps: f32, wd: f32): void {
  const lrv = splat(lr), epsv = splat(eps), wdv = splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) adagradAt((<usize>i) << 2, false, p, g, sum, lrv, epsv, wdv);
  for (; i < n; i++) adagradAt((<usize>i) << 2, true, p, g, sum, lrv, epsv, wdv);
}

@inline function adamAt(
  o: usize, tail: bool, p: usize, g: usize, m: usize, v: usize, vmax: usize,
  b1: v128, b2: v128, c1: v128, c2: v128, ss: v128, inv: v128, epsv: v128, wdv: v128, decay: v128, wd: f32, decoupled: bool,
): void {
  let pv = ldt(p + o, tail);
  let d = ldt(g + o, tail);
  if (wd != 0) {
    if (decoupled) pv = f32x4.mul(pv, decay);
    else d = fma(wdv, pv, d);
  }
  const mv = fma(b1, ldt(m + o, tail), f32x4.mul(c1, d));
  let vv = fma(b2, ldt(v + o, tail), f32x4.mul(c2, f32x4.mul(d, d)));
  stt(m + o, mv, tail);
  stt(v + o, vv, tail);
  if (vmax != 0) {
    vv = f32x4.max(vv, ldt(vmax + o, tail));
    stt(vmax + o, vv, tail);
  }
  const denom = fma(f32x4.sqrt(vv), inv, epsv);
  stt(p + o, f32x4.sub(pv, f32x4.div(f32x4.mul(ss, mv), denom)), tail);
}

/** Adam / AdamW; stepSize = lr / (1 - beta1^t), sqrtBc2 = sqrt(1 - beta2^t). vmax = 0 without amsgrad. */
export function adamStep(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, decoupled: bool, stepSize: f32, sqrtBc2: f32,
): void {
  const b1 = splat(beta1), b2 = splat(beta2), c1 = splat(1 - beta1), c2 = splat(1 - beta2);
  const ss = splat(stepSize), inv = splat(1 / sqrtBc2), epsv = splat(eps);
  const wdv = splat(wd), decay = splat(1 - lr * wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) adamAt((<usize>i) << 2, false, p, g, m, v, vmax, b1, b2, c1, c2, ss, inv, epsv, wdv, decay, wd, decoupled);
  for (; i < n; i++) adamAt((<usize>i) << 2, true, p, g, m, v, vmax, b1, b2, c1, c2, ss, inv, epsv, wdv, decay, wd, decoupled);
}
