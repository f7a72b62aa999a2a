// The most one core can do with 128-bit WebAssembly SIMD: ten independent
// multiply-add chains on registers, no memory traffic. GEMM figures are
// printed as a fraction of this (bench/fma-peak.ts compiles it at bench time).
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

export function fmaLoop(n: i32, x: f32): f32 {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0);
  let c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0), c8 = f32x4.splat(0), c9 = f32x4.splat(0);
  const a = f32x4.splat(x), b = f32x4.splat(0.999);
  for (let i = 0; i < n; i++) {
    c0 = fma(a, b, c0); c1 = fma(a, b, c1); c2 = fma(a, b, c2); c3 = fma(a, b, c3); c4 = fma(a, b, c4);
    c5 = fma(a, b, c5); c6 = fma(a, b, c6); c7 = fma(a, b, c7); c8 = fma(a, b, c8); c9 = fma(a, b, c9);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)), f32x4.add(c8, c9)));
  return f32x4.extract_lane(s, 0);
}
