// i8-gemv-4x16-simd — exact int8 GEMV: 4 output rows per pass, 16 k per step, int32 accumulators
// initialised from the packed bias. Two entry families over the SAME packed layout:
//   i8_gemv_4x16__x{s8,u8}      one sequential weight stream (best while the matrix is in cache)
//   i8_gemv_4x16_2s__x{s8,u8}   two streams: panel p and panel p + P/2 in one pass (best from DRAM)
//
// CONTRACT (docs/quantization.md eq. 10–13)
//   out[n] = bias'[n] − wz·Σ_{k<K} x[k] + Σ_{k<Kp} P[n,k]·x[k]          for n < N
//   every operation wraps modulo 2^32 (i32 adds), which is exactly ONNX MatMulInteger's int32
//   arithmetic, so the result equals eq. (10) mod 2^32 on every CPU.
//   P  = packed int8 weights; uint8 weights are stored as w − 128 (eq. 12),
//   wz = the weight zero point in that int8 domain (z_w, or z_w − 128 for uint8 weights);
//        0 for symmetric weights, which skips the Σx pass,
//   x  = activations exactly as stored: int8 (`__xs8`, v128.load8x8_s) or uint8 (`__xu8`,
//        v128.load8x8_u) — no conversion pass over x,
//   bias' = b[n] − z_x·Σ_k P[n,k] + K·wz·z_x, folded at pack time (eq. 13).
//
// PACKED LAYOUT (Kp = K rounded up to 16, Np = N rounded up to 4, panels = Np/4)
//   panel p, k-block b (b < Kp/16) is the 64-byte block at  p·4·Kp + b·64:
//     byte +0  .. +15   P[4p+0, 16b+0 .. 16b+15]
//     byte +16 .. +31   P[4p+1, 16b+0 .. 16b+15]
//     byte +32 .. +47   P[4p+2, 16b+0 .. 16b+15]
//     byte +48 .. +63   P[4p+3, 16b+0 .. 16b+15]
//   bias' follows the panels at byte Np·Kp: Np int32 little-endian (rows ≥ N hold 0).
//   Pad rows (n ≥ N) and pad columns (k ≥ K) are 0, so bytes read from x past K are multiplied
//   by 0. Total Np·Kp + 4·Np bytes. Each block is one cache line; one panel is one stream.
//
// ALIGNMENT  packed: 64 B (allocator; the kernel does not rely on it); x, out: any.
// OVER-READ  x is read up to Kp − K ≤ 15 bytes past its end (inside the allocator's 16 B tail
//            pad); packed is never read past its end; only out[0 .. N−1] is written.
// ACCUMULATOR int32, wrapping. One i32x4.dot_i16x8_s lane adds 2 products of |P·x| ≤ 128·255,
//            far inside i32. Largest K whose true sum cannot wrap (bias 0):
//            int8×int8 131071 (|w·x| ≤ 2^14), int8×uint8 65793, with zero points (|w−z_w|,
//            |x−z_x| ≤ 255) 33025. Beyond, results are the exact sum modulo 2^32.
//
// SPEED (AMD EPYC Zen 3, 2 cores, AVX2 no VNNI, Node 20.20; docs/kernels.md has the table)
//   Tried: 4×16 (this), 4×32 unrolled, 8×8, 8×16, 4 rows × K split in 2 streams, 2 panel
//   streams (this, `_2s`), 2 panel streams × 2 K halves. 4×16 is best in cache (~17–20 GMAC/s);
//   two panel streams win 15–30% once the matrix comes from DRAM (~9–11 GMAC/s); wider variants
//   lose to register spills (V8 hoists the loads). Replacing dot_i16x8_s by i16x8.add did not
//   change the in-cache time: the bound is the widening loads, not the multiplies.

import { panel4x16, storeRows, sumX, hsum4 } from './common';

// @ts-ignore: decorator
@inline function gemv1<X>(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  const panels = (N + 3) >> 2;
  const panelBytes = <usize>Kp << 2;
  let bias = packed + <usize>panels * panelBytes;
  const corr = i32x4.splat(wz != 0 ? -wz * sumX<X>(x, K) : 0);
  let w = packed;
  for (let p = 0; p < panels; p++) {
    const acc = i32x4.add(i32x4.add(panel4x16<X>(w, x, Kp), v128.load(bias)), corr);
    storeRows(out, acc, N - (p << 2));
    w += panelBytes;
    bias += 16;
    out += 16;
  }
}

// @ts-ignore: decorator
@inline function gemv2<X>(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  const panels = (N + 3) >> 2;
  const half = panels >> 1;
  const panelBytes = <usize>Kp << 2;
  const biasA = packed + <usize>panels * panelBytes;
  const corr = i32x4.splat(wz != 0 ? -wz * sumX<X>(x, K) : 0);
  const end = x + <usize>Kp;
  for (let p = 0; p < half; p++) {
    const q = p + half;
    let w = packed + <usize>p * panelBytes;
    let v = packed + <usize>q * panelBytes;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
    let xp = x;
    while (xp < end) {
      let xl: v128, xh: v128;
      if (isSigned<X>()) { xl = v128.load8x8_s(xp); xh = v128.load8x8_s(xp, 8); }
      else { xl = v128.load8x8_u(xp); xh = v128.load8x8_u(xp, 8); }
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w), xl));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), xl));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w, 32), xl));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w, 48), xl));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(v128.load8x8_s(v), xl));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(v128.load8x8_s(v, 16), xl));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(v128.load8x8_s(v, 32), xl));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(v128.load8x8_s(v, 48), xl));
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), xh));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), xh));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w, 40), xh));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w, 56), xh));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(v128.load8x8_s(v, 8), xh));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(v128.load8x8_s(v, 24), xh));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(v128.load8x8_s(v, 40), xh));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(v128.load8x8_s(v, 56), xh));
      w += 64; v += 64; xp += 16;
    }
    const ra = i32x4.add(i32x4.add(hsum4(a0, a1, a2, a3), v128.load(biasA + (<usize>p << 4))), corr);
    const rb = i32x4.add(i32x4.add(hsum4(b0, b1, b2, b3), v128.load(biasA + (<usize>q << 4))), corr);
    storeRows(out + (<usize>p << 4), ra, N - (p << 2));
    storeRows(out + (<usize>q << 4), rb, N - (q << 2));
  }
  if (panels & 1) {
    const p = panels - 1;
    const acc = i32x4.add(i32x4.add(panel4x16<X>(packed + <usize>p * panelBytes, x, Kp), v128.load(biasA + (<usize>p << 4))), corr);
    storeRows(out + (<usize>p << 4), acc, N - (p << 2));
  }
}

/** int8 activations, one weight stream. */
export function i8_gemv_4x16__xs8(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv1<i8>(packed, x, out, N, K, Kp, wz);
}
/** uint8 activations, one weight stream. */
export function i8_gemv_4x16__xu8(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv1<u8>(packed, x, out, N, K, Kp, wz);
}
/** int8 activations, two weight streams. */
export function i8_gemv_4x16_2s__xs8(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv2<i8>(packed, x, out, N, K, Kp, wz);
}
/** uint8 activations, two weight streams. */
export function i8_gemv_4x16_2s__xu8(packed: usize, x: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv2<u8>(packed, x, out, N, K, Kp, wz);
}
