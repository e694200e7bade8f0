// i8-gemv-4x4-dotadd — exact int8 GEMV on relaxed SIMD's fused dot-add, rows in lanes: each i32x4
// accumulator holds the four output rows of one panel, and one dot-add multiplies a panel's
// 4 rows × 4 k (16 weight bytes, as they are) by the broadcast 7-bit activation quad. Four panels
// per pass (four weight streams); each panel has a lo and a hi accumulator (eq. 45).
//
// CONTRACT (docs/quantization.md eq. 10–13, 45)
//   out[n] = bias'[n] − wz·Σ_{k<K} x[k] + Σ_{k<Kp} P[n,k]·x[k]          for n < N
//   wrapping modulo 2^32, exactly as i8-gemv-4x2-simd (same P, bias', wz; same results bit for
//   bit); x int8 (`__xs8`) or uint8 (`__xu8`), split first into 7-bit lo/hi quads in the caller's
//   scratch xs (dotadd-common.ts splitX7), so Σ P·x = Σ P·lo ∓ 128·Σ P·hi.
//
// PACKED LAYOUT (Kp = K rounded up to 16, Np = N rounded up to 4, panels = Np/4)
//   panel p (rows 4p..4p+3) is 4·Kp bytes at p·4·Kp; k-quad j (k = 4j .. 4j+3, j < Kp/4) is the
//   16 bytes at p·4·Kp + 16j, int32 lane r = row 4p + r:
//     +4r+0 P[4p+r,4j]  +4r+1 P[4p+r,4j+1]  +4r+2 P[4p+r,4j+2]  +4r+3 P[4p+r,4j+3]
//   bias' follows the panels at byte Np·Kp: Np int32 (rows ≥ N hold 0). Pad rows and columns 0.
//   Total Np·Kp + 4·Np bytes, as the simd128 layout; the GEMM (i8-gemm-4x4-dotadd) reads the same.
// SCRATCH    xs: 2·Kp bytes (splitX7, M = 1). ALIGNMENT packed 64 B (not relied on); x, out any.
// OVER-READ  none: x is read for exactly K bytes, xs for 2·Kp, packed never past its end; only
//            out[0 .. N−1] is written.
// ACCUMULATOR int32, wrapping; lo sums |P·lo| ≤ 128·127 per product, hi sums ≤ 128 per product;
//            the same no-wrap K limits as i8-gemv-4x2-simd (the join is exact mod 2^32).

import { storeRows, sumX } from './common';
import { dotAdd, joinX7, splitX7 } from './dotadd-common';

/**
 * 1 token × 4 consecutive panels over nq k-quads: writes out[o .. o + 12 + rows3) as int32, the
 * sums + bias' (4 vectors at bias) + corr.
 */
// @ts-ignore: decorator
@inline function tile4(signed: bool, w0: usize, pb: usize, x: usize, nq: i32, o: usize, bias: usize, corr: v128, rows3: i32): void {
  let l0 = i32x4.splat(0), l1 = l0, l2 = l0, l3 = l0;
  let h0 = l0, h1 = l0, h2 = l0, h3 = l0;
  const pb2 = pb << 1, pb3 = pb * 3;
  let w = w0;
  const end = w0 + (<usize>nq << 4);
  while (w < end) {
    const lo = v128.load32_splat(x), hi = v128.load32_splat(x, 4);
    let t = v128.load(w);
    l0 = dotAdd(t, lo, l0); h0 = dotAdd(t, hi, h0);
    t = v128.load(w + pb);
    l1 = dotAdd(t, lo, l1); h1 = dotAdd(t, hi, h1);
    t = v128.load(w + pb2);
    l2 = dotAdd(t, lo, l2); h2 = dotAdd(t, hi, h2);
    t = v128.load(w + pb3);
    l3 = dotAdd(t, lo, l3); h3 = dotAdd(t, hi, h3);
    w += 16;
    x += 8;
  }
  v128.store(o, i32x4.add(i32x4.add(joinX7(signed, l0, h0), v128.load(bias)), corr));
  v128.store(o, i32x4.add(i32x4.add(joinX7(signed, l1, h1), v128.load(bias, 16)), corr), 16);
  v128.store(o, i32x4.add(i32x4.add(joinX7(signed, l2, h2), v128.load(bias, 32)), corr), 32);
  storeRows(o + 48, i32x4.add(i32x4.add(joinX7(signed, l3, h3), v128.load(bias, 48)), corr), rows3);
}

/** 1 token × 1 panel (the last 1–3 panels), two k-quads per step into two accumulator pairs. */
// @ts-ignore: decorator
@inline function panel1(signed: bool, w: usize, x: usize, nq: i32): v128 {
  let l0 = i32x4.splat(0), l1 = l0, h0 = l0, h1 = l0;
  const end = w + (<usize>nq << 4);
  while (w < end) {
    const a = v128.load(w), b = v128.load(w, 16);
    l0 = dotAdd(a, v128.load32_splat(x), l0); h0 = dotAdd(a, v128.load32_splat(x, 4), h0);
    l1 = dotAdd(b, v128.load32_splat(x, 8), l1); h1 = dotAdd(b, v128.load32_splat(x, 12), h1);
    w += 32;
    x += 16;
  }
  return joinX7(signed, i32x4.add(l0, l1), i32x4.add(h0, h1));
}

// @ts-ignore: decorator
@inline function gemv<X>(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  const signed = isSigned<X>();
  splitX7(x, 1, K, Kp, xs);
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  const nq = Kp >> 2;
  let bias = packed + <usize>panels * pb;
  const corr = i32x4.splat(wz != 0 ? -wz * sumX<X>(x, K) : 0);
  let w0 = packed;
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    tile4(signed, w0, pb, xs, nq, out, bias, corr, N - (p << 2) - 12); // the first three panels are full
    w0 += pb << 2;
    bias += 64;
    out += 64;
  }
  for (; p < panels; p++) {
    storeRows(out, i32x4.add(i32x4.add(panel1(signed, w0, xs, nq), v128.load(bias)), corr), N - (p << 2));
    w0 += pb;
    bias += 16;
    out += 16;
  }
}

/** int8 activations. xs: 2·Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd__xs8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(packed, x, xs, out, N, K, Kp, wz);
}
/** uint8 activations. xs: 2·Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd__xu8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(packed, x, xs, out, N, K, Kp, wz);
}
