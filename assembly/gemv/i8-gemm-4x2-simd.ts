// i8-gemm-4x2-simd — exact int8 GEMM for M > 1 tokens (prefill), rows in lanes, over the SAME
// packed layout as i8-gemv-4x2-simd.ts: 2 panels (8 output rows) × 4 tokens per pass, one
// k-pair per step. The 8 weight bytes of a panel's k-pair are widened once and multiplied by the
// broadcast int16 pairs of 4 tokens; each i32x4 accumulator holds 4 rows of one token.
//
// CONTRACT (docs/quantization.md eq. 10–14)
//   out[m, n] = bias'[n] − wz·Σ_{k<K} X[m,k] + Σ_{k<Kp} P[n,k]·X[m,k]     m < M, n < N
//   wrapping modulo 2^32; P, bias', wz as in i8-gemv-4x2-simd.ts. X is M×K row-major (row
//   stride K bytes), int8 (`__xs8`) or uint8 (`__xu8`); out is M×N int32 row-major.
//   First X is widened once into xw (common.ts widenX: groups of 4 tokens, token-minor int16
//   pairs, so a tile's 4 broadcasts per step read one contiguous 16-byte run). Then for each
//   pair of panels (8·Kp bytes, 32 KiB at K = 4096), every group of 4 tokens runs over it; the
//   first group streams the two panels from memory, the others find them in L1/L2, so the
//   weights stream from memory once per call (eq. 14). A last group of R = M mod 4 tokens: R = 3
//   runs the same 2-panel loop with 3 broadcasts; R = 1 or 2 runs over a whole quad of panels
//   at once (4 panels × R tokens, four weight streams). Panels left over from the quads go by
//   pairs, an odd last panel alone (1 panel × ≤ 4 tokens). The −wz·ΣX[m,:] term is
//   added in a final pass over out (skipped when wz = 0).
//
// LAYOUT     see i8-gemv-4x2-simd.ts (panels of 4 rows, 8 bytes per k-pair, bias' after them).
// SCRATCH    xw: 2·M·Kp bytes from the host's scratch(); 4-byte alignment is enough.
// ALIGNMENT  packed 64 B (not relied on); X, out: any.
// OVER-READ  none: X is read for exactly M·K bytes, xw for 2·M·Kp, packed never past its end.
//            Writes only out[0 .. M·N − 1].
// ACCUMULATOR int32 wrapping; same no-wrap K limits as the GEMV.
// SPEED      per k-pair of a 2-panel × 4-token tile: 2 widening loads, 4 broadcast loads,
//            8 vpmaddwd, 8 vpaddd for 64 MACs (the lanes = k 2×4×8 kernel needed 6 widening
//            loads: 22 vector-ALU uops instead of 18), 2 w + 4 x + 8 accumulators = 14 xmm, no
//            spills. Paired CPU-time medians against that kernel: M = 8 0.83–0.87× at 4096²
//            (23–28 GMAC/s), 0.88–0.91× at 512² (27–30); 4096² M = 2 0.66× (4 panels × 2
//            tokens: four weight streams), M = 3 0.90×, M = 5 0.84×, M = 6 0.86×. Per token at
//            4096² M = 8: 0.37–0.42 × the old two-stream GEMV, 0.38–0.47 × i8_gemv_4x2 (target
//            0.35: not met). One panel × 8 tokens (17 live vectors) spills and is 1.2–1.4×
//            slower; 1 × 6, 1 × 4, 4 × 2 (as the main tile), 3 × 3, two k-pairs per step,
//            K-chunking and stream interleaving were slower or equal. See docs/kernels.md.

import { addWz, storeRows, tile4x1, widenX } from './common';

/** T (1–4, a compile-time constant after inlining) tokens × 2 panels over np k-pairs. */
// @ts-ignore: decorator
@inline function tile2(w0: usize, pb: usize, x: usize, np: i32, T: i32, o: usize, ldo: usize,
  biasA: v128, biasB: v128, rowsB: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  let w = w0;
  const end = w0 + (<usize>np << 3);
  const xs = <usize>T << 2;
  while (w < end) {
    const wa = v128.load8x8_s(w);
    const wb = v128.load8x8_s(w + pb);
    let xv = v128.load32_splat(x);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wa, xv)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(wb, xv));
    if (T > 1) {
      xv = v128.load32_splat(x, 4);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wa, xv)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(wb, xv));
    }
    if (T > 2) {
      xv = v128.load32_splat(x, 8);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(wa, xv)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(wb, xv));
    }
    if (T > 3) {
      xv = v128.load32_splat(x, 12);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(wa, xv)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(wb, xv));
    }
    w += 8;
    x += xs;
  }
  // panel A is never the last panel, so all 4 of its rows exist
  v128.store(o, i32x4.add(a0, biasA)); storeRows(o + 16, i32x4.add(b0, biasB), rowsB);
  if (T > 1) { o += ldo; v128.store(o, i32x4.add(a1, biasA)); storeRows(o + 16, i32x4.add(b1, biasB), rowsB); }
  if (T > 2) { o += ldo; v128.store(o, i32x4.add(a2, biasA)); storeRows(o + 16, i32x4.add(b2, biasB), rowsB); }
  if (T > 3) { o += ldo; v128.store(o, i32x4.add(a3, biasA)); storeRows(o + 16, i32x4.add(b3, biasB), rowsB); }
}

/** T (1–4) tokens × 1 panel (the odd last panel). */
// @ts-ignore: decorator
@inline function tile1(w0: usize, x: usize, np: i32, T: i32, o: usize, ldo: usize, bias: v128, rows: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let w = w0;
  const end = w0 + (<usize>np << 3);
  const xs = <usize>T << 2;
  while (w < end) {
    const wa = v128.load8x8_s(w);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wa, v128.load32_splat(x)));
    if (T > 1) a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wa, v128.load32_splat(x, 4)));
    if (T > 2) a2 = i32x4.add(a2, i32x4.dot_i16x8_s(wa, v128.load32_splat(x, 8)));
    if (T > 3) a3 = i32x4.add(a3, i32x4.dot_i16x8_s(wa, v128.load32_splat(x, 12)));
    w += 8;
    x += xs;
  }
  storeRows(o, i32x4.add(a0, bias), rows);
  if (T > 1) storeRows(o + ldo, i32x4.add(a1, bias), rows);
  if (T > 2) storeRows(o + 2 * ldo, i32x4.add(a2, bias), rows);
  if (T > 3) storeRows(o + 3 * ldo, i32x4.add(a3, bias), rows);
}

/** 2 tokens × 4 panels, one k-pair per step: M = 2, 6, 10, … (and the last 2 tokens of those). */
// @ts-ignore: decorator
@inline function tile4x2(w0: usize, pb: usize, x: usize, np: i32, o: usize, ldo: usize, bias: usize, rows3: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  const pb2 = pb << 1, pb3 = pb * 3;
  let w = w0;
  const end = w0 + (<usize>np << 3);
  while (w < end) {
    const x0 = v128.load32_splat(x), x1 = v128.load32_splat(x, 4);
    let t = v128.load8x8_s(w);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, x0)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, x1));
    t = v128.load8x8_s(w + pb);
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(t, x0)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(t, x1));
    t = v128.load8x8_s(w + pb2);
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(t, x0)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(t, x1));
    t = v128.load8x8_s(w + pb3);
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(t, x0)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(t, x1));
    w += 8;
    x += 8;
  }
  const c0 = v128.load(bias), c1 = v128.load(bias, 16), c2 = v128.load(bias, 32), c3 = v128.load(bias, 48);
  v128.store(o, i32x4.add(a0, c0)); v128.store(o, i32x4.add(a1, c1), 16);
  v128.store(o, i32x4.add(a2, c2), 32); storeRows(o + 48, i32x4.add(a3, c3), rows3);
  o += ldo;
  v128.store(o, i32x4.add(b0, c0)); v128.store(o, i32x4.add(b1, c1), 16);
  v128.store(o, i32x4.add(b2, c2), 32); storeRows(o + 48, i32x4.add(b3, c3), rows3);
}

// @ts-ignore: decorator
@inline function gemm<X>(packed: usize, biasBase: usize, X: usize, xw: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  widenX<X>(X, M, K, Kp, xw);
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  const np = Kp >> 1;
  const groupBytes = <usize>Kp << 3; // one group of 4 tokens in xw
  const full = M >> 2, R = M & 3;
  const xt = xw + <usize>full * groupBytes; // the last, partial group
  const ot = <usize>(full << 2) * ldo;
  let p = 0;
  // Quads of panels: the full groups run 2 panels × 4 tokens over each half of the quad; a last
  // group of 1 or 2 tokens runs over all 4 panels at once (fewer loads per MAC than 2 panels).
  for (; p + 4 <= panels; p += 4) {
    for (let h = 0; h < 4; h += 2) {
      const q = p + h;
      const w0 = packed + <usize>q * pb;
      const bA = v128.load(biasBase + (<usize>q << 4)), bB = v128.load(biasBase + (<usize>q << 4), 16);
      const rowsB = N - (q << 2) - 4;
      let x = xw, o = out + (<usize>q << 4);
      for (let g = 0; g < full; g++) {
        tile2(w0, pb, x, np, 4, o, ldo, bA, bB, rowsB);
        x += groupBytes;
        o += ldo << 2;
      }
      if (R == 3) tile2(w0, pb, xt, np, 3, out + ot + (<usize>q << 4), ldo, bA, bB, rowsB);
    }
    const w0 = packed + <usize>p * pb, o = out + ot + (<usize>p << 4), bias = biasBase + (<usize>p << 4);
    const rows3 = N - (p << 2) - 12;
    if (R == 1) tile4x1(w0, pb, xt, np, o, bias, i32x4.splat(0), rows3); // wz is applied in a final pass
    else if (R == 2) tile4x2(w0, pb, xt, np, o, ldo, bias, rows3);
  }
  for (; p + 2 <= panels; p += 2) {
    const w0 = packed + <usize>p * pb;
    const bA = v128.load(biasBase + (<usize>p << 4)), bB = v128.load(biasBase + (<usize>p << 4), 16);
    const rowsB = N - (p << 2) - 4;
    let x = xw, o = out + (<usize>p << 4);
    for (let g = 0; g < full; g++) {
      tile2(w0, pb, x, np, 4, o, ldo, bA, bB, rowsB);
      x += groupBytes;
      o += ldo << 2;
    }
    if (R == 1) tile2(w0, pb, xt, np, 1, out + ot + (<usize>p << 4), ldo, bA, bB, rowsB);
    else if (R == 2) tile2(w0, pb, xt, np, 2, out + ot + (<usize>p << 4), ldo, bA, bB, rowsB);
    else if (R == 3) tile2(w0, pb, xt, np, 3, out + ot + (<usize>p << 4), ldo, bA, bB, rowsB);
  }
  if (p < panels) {
    const w0 = packed + <usize>p * pb;
    const bias = v128.load(biasBase + (<usize>p << 4));
    const rows = N - (p << 2);
    let x = xw, o = out + (<usize>p << 4);
    for (let g = 0; g < full; g++) {
      tile1(w0, x, np, 4, o, ldo, bias, rows);
      x += groupBytes;
      o += ldo << 2;
    }
    if (R == 1) tile1(w0, xt, np, 1, out + ot + (<usize>p << 4), ldo, bias, rows);
    else if (R == 2) tile1(w0, xt, np, 2, out + ot + (<usize>p << 4), ldo, bias, rows);
    else if (R == 3) tile1(w0, xt, np, 3, out + ot + (<usize>p << 4), ldo, bias, rows);
  }
  if (wz != 0) addWz<X>(X, out, ldo, M, N, K, wz);
}

/** int8 activations. xw: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x2__xs8(packed: usize, X: usize, xw: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(packed, packed + <usize>((N + 3) >> 2) * (<usize>Kp << 2), X, xw, out, <usize>N << 2, M, N, K, Kp, wz);
}
/** uint8 activations. xw: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x2__xu8(packed: usize, X: usize, xw: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(packed, packed + <usize>((N + 3) >> 2) * (<usize>Kp << 2), X, xw, out, <usize>N << 2, M, N, K, Kp, wz);
}

// Row ranges (a pool thread's share, docs/threads.md): rows n0 … n0+N−1 of a matrix, n0 a
// multiple of 4: packed = the matrix + (n0/4)·4·Kp, bias = its bias' + 4·n0, out = its M×Nall
// output + 4·n0 with ldo = 4·Nall bytes between tokens. Same arithmetic per row as above.
/** int8 activations, rows of a matrix. xw: 2·M·Kp bytes of scratch. */
export function i8_gemm_4x2_rows__xs8(packed: usize, bias: usize, X: usize, xw: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(packed, bias, X, xw, out, ldo, M, N, K, Kp, wz);
}
/** uint8 activations, rows of a matrix. */
export function i8_gemm_4x2_rows__xu8(packed: usize, bias: usize, X: usize, xw: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(packed, bias, X, xw, out, ldo, M, N, K, Kp, wz);
}
