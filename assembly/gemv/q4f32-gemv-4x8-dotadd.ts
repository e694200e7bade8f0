// q4f32-gemv-4x8-dotadd — weight-only int4 GEMV (packed int4 × float32 activations → float32)
// over the dot-add build's packed layout (q4-gemv-4x8-dotadd.ts), rows in lanes: each nibble
// position of a 16-byte chunk, shifted and masked, is one float32x4 of four rows' u for one k,
// multiplied by that k's broadcast activation. No horizontal sums.
//
// CONTRACT (docs/quantization.md eq. 44, 46)
//   out[n] = Σ_g ( ws[n,g]·4096 · ( Σ_{k∈g} u[n,k]·x[k] − xc[g] )  −  wz[n,g] · xs[g] )
//   u = q + 8 ∈ [0, 15] converted exactly to float32, x as given (q4f32_act_prepare of this build
//   copies it, zero-padded), xc[g] = 8·Σ_{k∈g} x[k], xs[g] = Σ_{k∈g} x[k]; ws, wz as
//   q4-gemv-4x8-dotadd. Float32 products and sums (the same error bound as q4f32-gemv-4x32-simd:
//   tests assert ≤ 1e-5 of Σ|w·x|), not bit-identical to the other builds' weight-only path.
// LAYOUT   packed: q4-gemv-4x8-dotadd. x': Kp float32; xc, xs: Kp/G float32.
// ALIGNMENT any. OVER-READ none. Writes only out[0 .. N−1].
import { storeRowsF32 } from './q4-common';

/** acc + the four rows' u at bit position `bit` of every lane, times the broadcast x. */
// @ts-ignore: decorator
@inline function nib(acc: v128, v: v128, bit: i32, x: usize, m: v128): v128 {
  const u = f32x4.convert_i32x4_s(v128.and(i32x4.shr_u(v, bit), m));
  return f32x4.add(acc, f32x4.mul(u, v128.load32_splat(x)));
}

// @ts-ignore: decorator
@inline function gemvQ4F32(asym: bool, packed: usize, xp0: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const groups = Kp / G;
  const B = G >> 5;
  const k4096 = f32x4.splat(4096);
  const m = i32x4.splat((Kp - 1) & 15); // 15 per lane, from a parameter: see nibbleMask
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    let acc = f32x4.splat(0);
    let xp = xp0;
    for (let g = 0; g < groups; g++) {
      let a = f32x4.splat(0), b = a;
      for (let i = 0; i < B * 4; i++) {      // 16-byte chunks: 8 k each
        const v = v128.load(w);
        a = nib(a, v, 0, xp, m);       b = nib(b, v, 4, xp + 16, m);
        a = nib(a, v, 8, xp + 4, m);   b = nib(b, v, 12, xp + 20, m);
        a = nib(a, v, 16, xp + 8, m);  b = nib(b, v, 20, xp + 24, m);
        a = nib(a, v, 24, xp + 12, m); b = nib(b, v, 28, xp + 28, m);
        w += 16;
        xp += 32;
      }
      let t = f32x4.mul(f32x4.sub(f32x4.add(a, b), f32x4.splat(load<f32>(xc + (<usize>g << 2)))), f32x4.mul(v128.load(w), k4096));
      w += 16;
      if (asym) {
        t = f32x4.sub(t, f32x4.mul(v128.load(w), f32x4.splat(load<f32>(xs + (<usize>g << 2)))));
        w += 16;
      }
      acc = f32x4.add(acc, t);
    }
    storeRowsF32(out, acc, N - row);
    out += 16;
  }
}

export function q4f32_gemv_4x8_dotadd__sym(packed: usize, xp: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4F32(false, packed, xp, xc, xs, out, N, Kp, G);
}

export function q4f32_gemv_4x8_dotadd__asym(packed: usize, xp: usize, xc: usize, xs: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4F32(true, packed, xp, xc, xs, out, N, Kp, G);
}
