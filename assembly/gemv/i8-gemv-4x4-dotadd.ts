// i8-gemv-4x4-dotadd — exact int8 GEMV on relaxed SIMD's fused dot-add, rows in lanes: each i32x4
// accumulator holds the four output rows of one panel, and one dot-add multiplies a panel's
// 4 rows × 4 k (16 weight bytes, as they are) by a broadcast quad of activation operands. Four
// panels per pass (four weight streams). Two forms (docs/quantization.md eq. 45):
//   split    (`__xs8`, `__xu8`): the activations split into 7-bit lo and hi quads, two dot-adds
//            and two accumulators per panel; exact on every engine (the operand stays in 0..127);
//   unsigned (`_u8__xs8`, `_u8__xu8`): the activations as uint8 operands (x + 128 for int8), one
//            dot-add per quad; exact only where the engine computes the second operand as
//            unsigned 8-bit (vpdpbusd) — the host uses it only after the start-up self-test
//            shows that (src/runtime/selftest.ts).
//
// CONTRACT (docs/quantization.md eq. 10–13, 45)
//   out[n] = bias'[n] − wz·Σ_{k<K} x[k] + Σ_{k<Kp} P[n,k]·x[k]          for n < N
//   wrapping modulo 2^32, exactly as i8-gemv-4x2-simd (same P, bias', wz; same results bit for
//   bit); x int8 (`xs8`) or uint8 (`xu8`). The unsigned form with int8 x computes
//   Σ P·(x + 128) + bias8[n], bias8 = bias' − 128·Σ_k P[n,k] (stored after bias'), the same value.
//
// PACKED LAYOUT (Kp = K rounded up to 16, Np = N rounded up to 4, panels = Np/4)
//   panel p (rows 4p..4p+3) is 4·Kp bytes at p·4·Kp; k-quad j (k = 4j .. 4j+3, j < Kp/4) is the
//   16 bytes at p·4·Kp + 16j, int32 lane r = row 4p + r:
//     +4r+0 P[4p+r,4j]  +4r+1 P[4p+r,4j+1]  +4r+2 P[4p+r,4j+2]  +4r+3 P[4p+r,4j+3]
//   then bias' (Np int32 at byte Np·Kp) and bias8 (Np int32 at Np·Kp + 4·Np); rows ≥ N hold 0.
//   Pad rows and columns 0. Total Np·Kp + 8·Np bytes; the GEMM (i8-gemm-4x4-dotadd) reads the same.
// SCRATCH    xs: 2·Kp bytes (split: splitX7; unsigned: offsetX8 uses Kp). ALIGNMENT packed 64 B
//            (not relied on); x, out any.
// OVER-READ  none: x is read for exactly K bytes, xs for 2·Kp, packed never past its end; only
//            out[0 .. N−1] is written.
// ACCUMULATOR int32, wrapping; the same no-wrap K limits as i8-gemv-4x2-simd (the joins are exact
//            mod 2^32).

import { storeRows, sumX } from './common';
import { dotAdd, joinX7, offsetX8, splitX7 } from './dotadd-common';

/** The sums of one panel from its lo (unsigned form: only) and hi accumulators. */
// @ts-ignore: decorator
@inline function join(u8: bool, signed: bool, l: v128, h: v128): v128 {
  return u8 ? l : joinX7(signed, l, h);
}

/**
 * 1 token × 4 consecutive panels over nq k-quads: writes out[o .. o + 12 + rows3) as int32, the
 * sums + the bias (4 vectors at bias) + corr.
 */
// @ts-ignore: decorator
@inline function tile4(u8: bool, signed: bool, w0: usize, pb: usize, x: usize, nq: i32, o: usize, bias: usize, corr: v128, rows3: i32): void {
  let l0 = i32x4.splat(0), l1 = l0, l2 = l0, l3 = l0;
  let h0 = l0, h1 = l0, h2 = l0, h3 = l0;
  const pb2 = pb << 1, pb3 = pb * 3;
  const step: usize = u8 ? 4 : 8;
  let w = w0;
  const end = w0 + (<usize>nq << 4);
  while (w < end) {
    const lo = v128.load32_splat(x), hi = u8 ? lo : v128.load32_splat(x, 4);
    let t = v128.load(w);
    l0 = dotAdd(t, lo, l0); if (!u8) h0 = dotAdd(t, hi, h0);
    t = v128.load(w + pb);
    l1 = dotAdd(t, lo, l1); if (!u8) h1 = dotAdd(t, hi, h1);
    t = v128.load(w + pb2);
    l2 = dotAdd(t, lo, l2); if (!u8) h2 = dotAdd(t, hi, h2);
    t = v128.load(w + pb3);
    l3 = dotAdd(t, lo, l3); if (!u8) h3 = dotAdd(t, hi, h3);
    w += 16;
    x += step;
  }
  v128.store(o, i32x4.add(i32x4.add(join(u8, signed, l0, h0), v128.load(bias)), corr));
  v128.store(o, i32x4.add(i32x4.add(join(u8, signed, l1, h1), v128.load(bias, 16)), corr), 16);
  v128.store(o, i32x4.add(i32x4.add(join(u8, signed, l2, h2), v128.load(bias, 32)), corr), 32);
  storeRows(o + 48, i32x4.add(i32x4.add(join(u8, signed, l3, h3), v128.load(bias, 48)), corr), rows3);
}

/** 1 token × 1 panel (the last 1–3 panels), two k-quads per step into two accumulator pairs. */
// @ts-ignore: decorator
@inline function panel1(u8: bool, signed: bool, w: usize, x: usize, nq: i32): v128 {
  let l0 = i32x4.splat(0), l1 = l0, h0 = l0, h1 = l0;
  const end = w + (<usize>nq << 4);
  while (w < end) {
    const a = v128.load(w), b = v128.load(w, 16);
    if (u8) {
      l0 = dotAdd(a, v128.load32_splat(x), l0);
      l1 = dotAdd(b, v128.load32_splat(x, 4), l1);
      x += 8;
    } else {
      l0 = dotAdd(a, v128.load32_splat(x), l0); h0 = dotAdd(a, v128.load32_splat(x, 4), h0);
      l1 = dotAdd(b, v128.load32_splat(x, 8), l1); h1 = dotAdd(b, v128.load32_splat(x, 12), h1);
      x += 16;
    }
    w += 32;
  }
  return join(u8, signed, i32x4.add(l0, l1), i32x4.add(h0, h1));
}

// @ts-ignore: decorator
@inline function gemv<X>(u8: bool, packed: usize, bias: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  const signed = isSigned<X>();
  if (u8) offsetX8(signed, x, 1, K, Kp, xs);
  else splitX7(x, 1, K, Kp, xs);
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  const nq = Kp >> 2;
  const corr = i32x4.splat(wz != 0 ? -wz * sumX<X>(x, K) : 0);
  let w0 = packed;
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    tile4(u8, signed, w0, pb, xs, nq, out, bias, corr, N - (p << 2) - 12); // the first three panels are full
    w0 += pb << 2;
    bias += 64;
    out += 64;
  }
  for (; p < panels; p++) {
    storeRows(out, i32x4.add(i32x4.add(panel1(u8, signed, w0, xs, nq), v128.load(bias)), corr), N - (p << 2));
    w0 += pb;
    bias += 16;
    out += 16;
  }
}

/** The bias the form adds: bias', or bias8 (bias' − 128·Σ P, eq. 45') for the unsigned form with int8 activations. */
// @ts-ignore: decorator
@inline export function biasOf(u8: bool, signed: bool, packed: usize, N: i32, Kp: i32): usize {
  const panels = <usize>((N + 3) >> 2);
  return packed + panels * (<usize>Kp << 2) + (u8 && signed ? panels << 4 : 0);
}

/** Split form, int8 activations. xs: 2·Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd__xs8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(false, packed, biasOf(false, true, packed, N, Kp), x, xs, out, N, K, Kp, wz);
}
/** Split form, uint8 activations. xs: 2·Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd__xu8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(false, packed, biasOf(false, false, packed, N, Kp), x, xs, out, N, K, Kp, wz);
}
/** Unsigned form (self-tested engines only), int8 activations. xs: Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd_u8__xs8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(true, packed, biasOf(true, true, packed, N, Kp), x, xs, out, N, K, Kp, wz);
}
/** Unsigned form (self-tested engines only), uint8 activations. xs: Kp bytes of scratch. */
export function i8_gemv_4x4_dotadd_u8__xu8(packed: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(true, packed, biasOf(true, false, packed, N, Kp), x, xs, out, N, K, Kp, wz);
}

// Row ranges (a pool thread's share, docs/threads.md): rows n0 … n0+N−1 of a matrix, n0 a
// multiple of 4, given as packed = the matrix + (n0/4)·4·Kp, bias = the form's bias vector
// (bias', or bias8 for the unsigned form with int8 activations) + 4·n0, out = its output + 4·n0.
export function i8_gemv_4x4_dotadd_rows__xs8(packed: usize, bias: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(false, packed, bias, x, xs, out, N, K, Kp, wz);
}
export function i8_gemv_4x4_dotadd_rows__xu8(packed: usize, bias: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(false, packed, bias, x, xs, out, N, K, Kp, wz);
}
export function i8_gemv_4x4_dotadd_u8_rows__xs8(packed: usize, bias: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(true, packed, bias, x, xs, out, N, K, Kp, wz);
}
export function i8_gemv_4x4_dotadd_u8_rows__xu8(packed: usize, bias: usize, x: usize, xs: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(true, packed, bias, x, xs, out, N, K, Kp, wz);
}
