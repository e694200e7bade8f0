// i8-gemm-4x4-dotadd — exact int8 GEMM for M > 1 tokens on relaxed SIMD's fused dot-add, over the
// SAME packed layout as i8-gemv-4x4-dotadd: tiles of 2 panels (8 output rows) × 2 tokens, one
// k-quad per step: each 16-byte weight load (4 rows × 4 k) meets the broadcast lo and hi quads
// of both tokens (4 dot-adds; lo and hi accumulators per panel and token: 8 accumulators).
//
// CONTRACT (docs/quantization.md eq. 10–14, 45)
//   out[m, n] = bias'[n] − wz·Σ_{k<K} X[m,k] + Σ_{k<Kp} P[n,k]·X[m,k]     m < M, n < N
//   wrapping modulo 2^32, bit for bit as i8-gemm-4x2-simd; X is M×K row-major, int8 (`__xs8`) or
//   uint8 (`__xu8`); out is M×N int32 row-major. X is split once into 7-bit quads (splitX7:
//   token m at xs + 2·m·Kp). For each pair of panels (8·Kp bytes, 32 KiB at K = 4096) every pair
//   of tokens runs over it: the weights stream from memory once per call, the later token pairs
//   find them in L1/L2. An odd last token runs 2 panels × 1 token; an odd last panel 1 × 2 and 1 × 1.
//   The −wz·ΣX[m,:] term is added in a final pass over out (skipped when wz = 0).
// LAYOUT     i8-gemv-4x4-dotadd.ts. SCRATCH xs: 2·M·Kp bytes. ALIGNMENT packed 64 B (not relied on).
// OVER-READ  none: X read for exactly M·K bytes, xs for 2·M·Kp, packed never past its end.
//            Writes only out[0 .. M·N − 1].
// ACCUMULATOR int32 wrapping; same no-wrap K limits as the GEMV.

import { storeRows, sumX } from './common';
import { dotAdd, joinX7, splitX7 } from './dotadd-common';

/**
 * P (1 or 2) panels at w0, w0 + pb × T (1 or 2) tokens at x, x + xt, over nq k-quads; token t's
 * results at o + t·ldo (rows of panel A at o, of panel B at o + 16; panel B has rowsB rows).
 */
// @ts-ignore: decorator
@inline function tile(signed: bool, P: i32, T: i32, w0: usize, pb: usize, x: usize, xt: usize, nq: i32,
  o: usize, ldo: usize, biasA: v128, biasB: v128, rowsA: i32, rowsB: i32): void {
  let la0 = i32x4.splat(0), ha0 = la0, lb0 = la0, hb0 = la0; // token 0: panel A lo/hi, panel B lo/hi
  let la1 = la0, ha1 = la0, lb1 = la0, hb1 = la0;             // token 1
  let w = w0;
  const end = w0 + (<usize>nq << 4);
  while (w < end) {
    const wa = v128.load(w);
    const wb = P > 1 ? v128.load(w + pb) : wa;
    let lo = v128.load32_splat(x), hi = v128.load32_splat(x, 4);
    la0 = dotAdd(wa, lo, la0); ha0 = dotAdd(wa, hi, ha0);
    if (P > 1) { lb0 = dotAdd(wb, lo, lb0); hb0 = dotAdd(wb, hi, hb0); }
    if (T > 1) {
      lo = v128.load32_splat(x + xt); hi = v128.load32_splat(x + xt, 4);
      la1 = dotAdd(wa, lo, la1); ha1 = dotAdd(wa, hi, ha1);
      if (P > 1) { lb1 = dotAdd(wb, lo, lb1); hb1 = dotAdd(wb, hi, hb1); }
    }
    w += 16;
    x += 8;
  }
  storeRows(o, i32x4.add(joinX7(signed, la0, ha0), biasA), rowsA);
  if (P > 1) storeRows(o + 16, i32x4.add(joinX7(signed, lb0, hb0), biasB), rowsB);
  if (T > 1) {
    storeRows(o + ldo, i32x4.add(joinX7(signed, la1, ha1), biasA), rowsA);
    if (P > 1) storeRows(o + ldo + 16, i32x4.add(joinX7(signed, lb1, hb1), biasB), rowsB);
  }
}

// @ts-ignore: decorator
@inline function gemm<X>(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  const signed = isSigned<X>();
  splitX7(X, M, K, Kp, xs);
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  const biasBase = packed + <usize>panels * pb;
  const nq = Kp >> 2;
  const ldo = <usize>N << 2;
  const xt = <usize>Kp << 1;            // one token of split activations
  const pairs = M >> 1, odd = M & 1;
  const xLast = xs + <usize>(M - 1) * xt, oLast = <usize>(M - 1) * ldo;
  let p = 0;
  for (; p + 2 <= panels; p += 2) {
    const w0 = packed + <usize>p * pb;
    const bA = v128.load(biasBase + (<usize>p << 4)), bB = v128.load(biasBase + (<usize>p << 4), 16);
    const rowsB = N - (p << 2) - 4;
    let x = xs, o = out + (<usize>p << 4);
    for (let t = 0; t < pairs; t++) {
      tile(signed, 2, 2, w0, pb, x, xt, nq, o, ldo, bA, bB, 4, rowsB);
      x += xt << 1;
      o += ldo << 1;
    }
    if (odd) tile(signed, 2, 1, w0, pb, xLast, xt, nq, out + oLast + (<usize>p << 4), ldo, bA, bB, 4, rowsB);
  }
  if (p < panels) {
    const w0 = packed + <usize>p * pb;
    const bA = v128.load(biasBase + (<usize>p << 4));
    const rows = N - (p << 2);
    let x = xs, o = out + (<usize>p << 4);
    for (let t = 0; t < pairs; t++) {
      tile(signed, 1, 2, w0, pb, x, xt, nq, o, ldo, bA, bA, rows, rows);
      x += xt << 1;
      o += ldo << 1;
    }
    if (odd) tile(signed, 1, 1, w0, pb, xLast, xt, nq, out + oLast + (<usize>p << 4), ldo, bA, bA, rows, rows);
  }
  if (wz != 0) {
    let xr = X, o = out;
    for (let m = 0; m < M; m++) {
      const corr = -wz * sumX<X>(xr, K);
      for (let n = 0; n < N; n++) store<i32>(o + (<usize>n << 2), load<i32>(o + (<usize>n << 2)) + corr);
      xr += <usize>K;
      o += ldo;
    }
  }
}

/** int8 activations. xs: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd__xs8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(packed, X, xs, out, M, N, K, Kp, wz);
}
/** uint8 activations. xs: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd__xu8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(packed, X, xs, out, M, N, K, Kp, wz);
}
