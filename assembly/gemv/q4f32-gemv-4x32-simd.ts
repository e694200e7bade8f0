// q4f32-gemv-4x32-simd — weight-only int4 GEMV: packed int4 weights × float32 activations →
// float32, 4 output rows per pass, 32 k per step. Same packed layout as q4-gemv-4x32-simd.
//
// CONTRACT (docs/quantization.md eq. 44)
//   out[n] = Σ_g ( ws[n,g] · Σ_{k∈g} v[n,k]·x'[k]  −  wsc[n,g] · xc[g]  −  wz[n,g] · xs[g] )
//   v[n,k]: the nibble as the int16 lane value the mask leaves (u for k-offsets 0–7, 16·u for
//   8–15, 256·u for 16–23, with u = q + 8, and 4096·q for 24–31), converted exactly to float32
//   (the relaxed build's lanes XOR 0x8000 first: its top nibble is offset-binary too);
//   x'[k] = x[k] / m'(k mod 32) with m' = 1, 16, 256, 4096 (exact: powers of two), prepared by
//   q4f32_act_prepare; xc[g] = 8·Σ_{k mod 32 ∈ 0..23} x[k]; xs[g] = Σ_{k∈g} x[k].
//   ws[n,g] is the packed weight scale (·4096, i.e. the true scale: this kernel multiplies by
//   4096·ws); wz as in q4-gemv-4x32-simd (asymmetric only).
//   Float32 products and sums: within ~1e-6 relative of the double-precision product of the
//   dequantized weights and x (tests assert ≤ 1e-5 of Σ|w·x|).
// LAYOUT   packed: see q4-gemv-4x32-simd. x': Kp float32 (zero-padded); xc, xs: Kp/G float32.
// ALIGNMENT any. OVER-READ none.
import { storeRowsF32 } from './q4-common';

// @ts-ignore: decorator
@inline function hsum4f(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}

/** Σ over 8 k of one int16 weight vector × two float32 activation vectors. */
// @ts-ignore: decorator
@inline function fma8(acc: v128, v: v128, xlo: v128, xhi: v128): v128 {
  const lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v));
  const hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v));
  return f32x4.add(acc, f32x4.add(f32x4.mul(lo, xlo), f32x4.mul(hi, xhi)));
}

// @ts-ignore: decorator
@inline function row32(acc: v128, w: v128, xp: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) w = v128.xor(w, i16x8.splat(<i16>0x8000)); // the simd128 layout
  acc = fma8(acc, v128.and(w, i16x8.splat(0x000F)), v128.load(xp), v128.load(xp, 16));
  acc = fma8(acc, v128.and(w, i16x8.splat(0x00F0)), v128.load(xp, 32), v128.load(xp, 48));
  acc = fma8(acc, v128.and(w, i16x8.splat(0x0F00)), v128.load(xp, 64), v128.load(xp, 80));
  return fma8(acc, v128.and(w, i16x8.splat(<i16>0xF000)), v128.load(xp, 96), v128.load(xp, 112));
}

// @ts-ignore: decorator
@inline function gemvQ4F32(asym: bool, packed: usize, xp0: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const subs = G >> 5;
  const groups = Kp / G;
  const k4096 = f32x4.splat(4096);
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    let acc = f32x4.splat(0);
    let xp = xp0;
    for (let g: usize = 0; g < <usize>groups; g++) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let b = 0; b < subs; b++) {
        a0 = row32(a0, v128.load(w), xp);
        a1 = row32(a1, v128.load(w, 16), xp);
        a2 = row32(a2, v128.load(w, 32), xp);
        a3 = row32(a3, v128.load(w, 48), xp);
        w += 64;
        xp += 128;
      }
      const scale = f32x4.mul(v128.load(w), k4096);
      w += 16;
      let t = f32x4.mul(f32x4.sub(hsum4f(a0, a1, a2, a3), f32x4.splat(load<f32>(xc + (g << 2)))), scale);
      if (asym) {
        t = f32x4.sub(t, f32x4.mul(v128.load(w), f32x4.splat(load<f32>(xs + (g << 2)))));
        w += 16;
      }
      acc = f32x4.add(acc, t);
    }
    storeRowsF32(out, acc, N - row);
    out += 16;
  }
}

export function q4f32_gemv_4x32__sym(packed: usize, xp: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4F32(false, packed, xp, xc, xs, out, N, Kp, G);
}

export function q4f32_gemv_4x32__asym(packed: usize, xp: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4F32(true, packed, xp, xc, xs, out, N, Kp, G);
}

/**
 * Prepare float activations for q4f32_gemv: x' (Kp floats, scaled per position, zero-padded),
 * xc[g] = 8·Σ x over k-offsets 0–23, xs[g] = Σ x over the group. The dot-add build's
 * (q4f32-gemv-4x8-dotadd): x' = x and xc[g] = 8·Σ x over the whole group. Returns the first NaN index or −1.
 */
export function q4f32_act_prepare(x: usize, K: i32, G: i32, xp: usize, xc: usize, xs: usize): i32 {
  const Kp = ((K + G - 1) / G) * G;
  let c: f32 = 0, s: f32 = 0;
  for (let k = 0; k < Kp; k++) {
    const v: f32 = k < K ? load<f32>(x + (<usize>k << 2)) : 0;
    if (v != v) return k;
    const j = k & 31;
    // the dot-add layout's nibbles are all u = q + 8 at weight 1 (q4f32-gemv-4x8-dotadd)
    const inv: f32 = RELAXED_DOT_ADD != 0 || j < 8 ? 1 : j < 16 ? 1.0 / 16 : j < 24 ? 1.0 / 256 : 1.0 / 4096;
    store<f32>(xp + (<usize>k << 2), v * inv);
    s += v;
    if (RELAXED_DOT_ADD != 0 || j < 24) c += v;
    if ((k + 1) % G == 0) {
      const g = <usize>(k / G);
      store<f32>(xc + (g << 2), 8 * c);
      store<f32>(xs + (g << 2), s);
      c = 0; s = 0;
    }
  }
  return -1;
}
