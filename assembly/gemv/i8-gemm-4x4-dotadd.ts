// i8-gemm-4x4-dotadd — exact int8 GEMM for M > 1 tokens on relaxed SIMD's fused dot-add, over the
// SAME packed layout as i8-gemv-4x4-dotadd, in its two forms: split (tiles of 2 panels × 2 tokens:
// each 16-byte weight load (4 rows × 4 k) meets the broadcast lo and hi quads of both tokens,
// lo and hi accumulators per panel and token) and unsigned (`_u8`, self-tested engines only:
// tiles of 2 panels × 4 tokens, one uint8 quad and one dot-add per panel and token). Either way
// 8 accumulators, one k-quad per step.
//
// CONTRACT (docs/quantization.md eq. 10–14, 45)
//   out[m, n] = bias'[n] − wz·Σ_{k<K} X[m,k] + Σ_{k<Kp} P[n,k]·X[m,k]     m < M, n < N
//   wrapping modulo 2^32, bit for bit as i8-gemm-4x2-simd; X is M×K row-major, int8 (`__xs8`) or
//   uint8 (`__xu8`); out is M×N int32 row-major. X is prepared once (split: splitX7, token m at
//   xs + 2·m·Kp; unsigned: offsetX8, token m at xs + m·Kp, the bias8 of the GEMV for int8 X). For
//   each pair of panels (8·Kp bytes, 32 KiB at K = 4096) every group of T tokens (split 2,
//   unsigned 4) runs over it: the weights stream from memory once per call, the later groups find
//   them in L1/L2. The last M mod T tokens run a smaller tile; an odd last panel a 1-panel tile.
//   The −wz·ΣX[m,:] term is added in a final pass over out (skipped when wz = 0).
// LAYOUT     i8-gemv-4x4-dotadd.ts. SCRATCH xs: 2·M·Kp bytes (unsigned: M·Kp). ALIGNMENT packed 64 B (not relied on).
// OVER-READ  none: X read for exactly M·K bytes, xs for 2·M·Kp, packed never past its end.
//            Writes only out[0 .. M·N − 1].
// ACCUMULATOR int32 wrapping; same no-wrap K limits as the GEMV.

import { addWz, storeRows } from './common';
import { dotAdd, joinX7, offsetX8, splitX7 } from './dotadd-common';
import { biasOf } from './i8-gemv-4x4-dotadd';

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

/**
 * Unsigned form: P (1 or 2) panels × T (1–4) tokens, one uint8 quad per token and step; token t's
 * operands at x + t·xt, results at o + t·ldo.
 */
// @ts-ignore: decorator
@inline function tileU8(P: i32, T: i32, w0: usize, pb: usize, x: usize, xt: usize, nq: i32,
  o: usize, ldo: usize, biasA: v128, biasB: v128, rowsA: i32, rowsB: i32): void {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0; // panel A, tokens 0–3
  let b0 = a0, b1 = a0, b2 = a0, b3 = a0;             // panel B
  let w = w0;
  const end = w0 + (<usize>nq << 4);
  while (w < end) {
    const wa = v128.load(w);
    const wb = P > 1 ? v128.load(w + pb) : wa;
    let xv = v128.load32_splat(x);
    a0 = dotAdd(wa, xv, a0); if (P > 1) b0 = dotAdd(wb, xv, b0);
    if (T > 1) { xv = v128.load32_splat(x + xt); a1 = dotAdd(wa, xv, a1); if (P > 1) b1 = dotAdd(wb, xv, b1); }
    if (T > 2) { xv = v128.load32_splat(x + 2 * xt); a2 = dotAdd(wa, xv, a2); if (P > 1) b2 = dotAdd(wb, xv, b2); }
    if (T > 3) { xv = v128.load32_splat(x + 3 * xt); a3 = dotAdd(wa, xv, a3); if (P > 1) b3 = dotAdd(wb, xv, b3); }
    w += 16;
    x += 4;
  }
  storeRows(o, i32x4.add(a0, biasA), rowsA);
  if (P > 1) storeRows(o + 16, i32x4.add(b0, biasB), rowsB);
  if (T > 1) { storeRows(o + ldo, i32x4.add(a1, biasA), rowsA); if (P > 1) storeRows(o + ldo + 16, i32x4.add(b1, biasB), rowsB); }
  if (T > 2) { storeRows(o + 2 * ldo, i32x4.add(a2, biasA), rowsA); if (P > 1) storeRows(o + 2 * ldo + 16, i32x4.add(b2, biasB), rowsB); }
  if (T > 3) { storeRows(o + 3 * ldo, i32x4.add(a3, biasA), rowsA); if (P > 1) storeRows(o + 3 * ldo + 16, i32x4.add(b3, biasB), rowsB); }
}

/** The unsigned form's M tokens over P (1 or 2) panels at w0: groups of 4 tokens, then the last M mod 4. */
// @ts-ignore: decorator
@inline function tokensU8(P: i32, w0: usize, pb: usize, xs: usize, xt: usize, nq: i32, o: usize, ldo: usize,
  bA: v128, bB: v128, rowsA: i32, rowsB: i32, M: i32): void {
  let x = xs;
  let t = 0;
  for (; t + 4 <= M; t += 4) {
    tileU8(P, 4, w0, pb, x, xt, nq, o, ldo, bA, bB, rowsA, rowsB);
    x += xt << 2;
    o += ldo << 2;
  }
  const R = M - t;
  if (R == 3) tileU8(P, 3, w0, pb, x, xt, nq, o, ldo, bA, bB, rowsA, rowsB);
  else if (R == 2) tileU8(P, 2, w0, pb, x, xt, nq, o, ldo, bA, bB, rowsA, rowsB);
  else if (R == 1) tileU8(P, 1, w0, pb, x, xt, nq, o, ldo, bA, bB, rowsA, rowsB);
}

// @ts-ignore: decorator
@inline function gemm<X>(u8: bool, packed: usize, bias: usize, X: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  const signed = isSigned<X>();
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  if (u8) {
    offsetX8(signed, X, M, K, Kp, xs);
    gemmU8(packed, bias, xs, out, ldo, M, N, Kp, panels, pb);
  } else {
    splitX7(X, M, K, Kp, xs);
    gemmSplit(signed, packed, bias, xs, out, ldo, M, N, Kp, panels, pb);
  }
  if (wz != 0) addWz<X>(X, out, ldo, M, N, K, wz);
}

/** The unsigned form over every panel pair (and an odd last panel). */
// @ts-ignore: decorator
@inline function gemmU8(packed: usize, biasBase: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, Kp: i32, panels: i32, pb: usize): void {
  const nq = Kp >> 2, xt = <usize>Kp;
  let p = 0;
  for (; p + 2 <= panels; p += 2) {
    const bA = v128.load(biasBase + (<usize>p << 4)), bB = v128.load(biasBase + (<usize>p << 4), 16);
    tokensU8(2, packed + <usize>p * pb, pb, xs, xt, nq, out + (<usize>p << 4), ldo, bA, bB, 4, N - (p << 2) - 4, M);
  }
  if (p < panels) {
    const bA = v128.load(biasBase + (<usize>p << 4)), rows = N - (p << 2);
    tokensU8(1, packed + <usize>p * pb, pb, xs, xt, nq, out + (<usize>p << 4), ldo, bA, bA, rows, rows, M);
  }
}

/** The split form over every panel pair (and an odd last panel). */
// @ts-ignore: decorator
@inline function gemmSplit(signed: bool, packed: usize, biasBase: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, Kp: i32, panels: i32, pb: usize): void {
  const nq = Kp >> 2;
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
}

/** Split form, int8 activations. xs: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd__xs8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(false, packed, biasOf(false, true, packed, N, Kp), X, xs, out, <usize>N << 2, M, N, K, Kp, wz);
}
/** Split form, uint8 activations. xs: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd__xu8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(false, packed, biasOf(false, false, packed, N, Kp), X, xs, out, <usize>N << 2, M, N, K, Kp, wz);
}
/** Unsigned form (self-tested engines only), int8 activations. xs: M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd_u8__xs8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(true, packed, biasOf(true, true, packed, N, Kp), X, xs, out, <usize>N << 2, M, N, K, Kp, wz);
}
/** Unsigned form (self-tested engines only), uint8 activations. xs: M·Kp bytes of scratch. */
export function i8_gemm_4x4_dotadd_u8__xu8(packed: usize, X: usize, xs: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(true, packed, biasOf(true, false, packed, N, Kp), X, xs, out, <usize>N << 2, M, N, K, Kp, wz);
}

// Row ranges (a pool thread's share, docs/threads.md): as the GEMV's, with ldo = bytes between
// the tokens' output rows (4·N of the whole matrix).
export function i8_gemm_4x4_dotadd_rows__xs8(packed: usize, bias: usize, X: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(false, packed, bias, X, xs, out, ldo, M, N, K, Kp, wz);
}
export function i8_gemm_4x4_dotadd_rows__xu8(packed: usize, bias: usize, X: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(false, packed, bias, X, xs, out, ldo, M, N, K, Kp, wz);
}
export function i8_gemm_4x4_dotadd_u8_rows__xs8(packed: usize, bias: usize, X: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(true, packed, bias, X, xs, out, ldo, M, N, K, Kp, wz);
}
export function i8_gemm_4x4_dotadd_u8_rows__xu8(packed: usize, bias: usize, X: usize, xs: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(true, packed, bias, X, xs, out, ldo, M, N, K, Kp, wz);
}
