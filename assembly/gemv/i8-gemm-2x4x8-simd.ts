// i8-gemm-2x4x8-simd — exact int8 GEMM for M > 1 tokens (prefill): 2 tokens × 4 output rows per
// pass, 8 k per step (half of a 64-byte block), over the SAME packed layout as i8-gemv-4x16-simd.ts.
//
// CONTRACT (docs/quantization.md eq. 10–14)
//   out[m, n] = bias'[n] − wz·Σ_{k<K} X[m,k] + Σ_{k<Kp} P[n,k]·X[m,k]     m < M, n < N
//   wrapping modulo 2^32; P, bias', wz as in i8-gemv-4x16-simd.ts. X is M×K row-major (row
//   stride K bytes), int8 (`__xs8`) or uint8 (`__xu8`); out is M×N int32 row-major.
//   Loop order: for each 4-row panel, every pair of tokens runs over it while it is hot in L1
//   (4·Kp bytes, 16 KiB at K = 4096), so the weights stream from memory once per call (eq. 14).
//   An odd last token uses the 1×4 panel routine. The −wz·ΣX[m,:] term is added in a final pass
//   over out (skipped when wz = 0).
//
// LAYOUT     see i8-gemv-4x16-simd.ts (64-byte blocks of 4 rows × 16 k, bias' after the panels).
// ALIGNMENT  packed 64 B (not relied on); X, out: any.
// OVER-READ  row m of X is read to m·K + Kp: past K it reads the next row (times zero weights);
//            the last row reads ≤ 15 bytes past the end of X (inside the 16 B tail pad).
//            Writes only out[0 .. M·N − 1].
// ACCUMULATOR int32 wrapping; same no-wrap K limits as the GEMV.
// SPEED      8 k per step keeps only 6 loads + 8 accumulators live, so TurboFan does not spill
//            (16 k per step, the previous 2x4x16 kernel, hoisted all 12 loads and spilled 4–6
//            accumulators per step); the weight pointer steps +8/+56 (no index arithmetic).
//            Paired CPU-time medians vs 2x4x16: 0.87× at 4096² M = 8, 0.84× at 1024² M = 8,
//            ~0.96× at M = 3. ~28–31 GMAC/s in L1 (512²), ~20–23 at 4096² where the first token
//            pair of each panel waits on DRAM. 3 tokens × 4 rows spilled. See docs/kernels.md.

import { hsum4, panel4x16, storeRows, sumX } from './common';

// @ts-ignore: decorator
@inline function gemm<X>(packed: usize, X: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  const panels = (N + 3) >> 2;
  const panelBytes = <usize>Kp << 2;
  const biasBase = packed + <usize>panels * panelBytes;
  const ldx = <usize>K;
  const ldo = <usize>N << 2;
  for (let p = 0; p < panels; p++) {
    const w0 = packed + <usize>p * panelBytes;
    const bias = v128.load(biasBase + (<usize>p << 4));
    const rows = N - (p << 2);
    let xr = X;
    let o = out + (<usize>p << 4);
    let m = 0;
    for (; m + 1 < M; m += 2) {
      const end = xr + <usize>Kp;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      // One step = 8 k: the low, then the high 8 bytes of each row of a 64-byte block. Only the
      // 6 loads of one half-block are live at a time, so the 8 accumulators stay in registers.
      let x = xr, w = w0, d: usize = 8;
      while (x < end) {
        let xl: v128, yl: v128;
        if (isSigned<X>()) { xl = v128.load8x8_s(x); yl = v128.load8x8_s(x + ldx); }
        else { xl = v128.load8x8_u(x); yl = v128.load8x8_u(x + ldx); }
        let t = v128.load8x8_s(w);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(t, xl)); b0 = i32x4.add(b0, i32x4.dot_i16x8_s(t, yl));
        t = v128.load8x8_s(w, 16);
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(t, xl)); b1 = i32x4.add(b1, i32x4.dot_i16x8_s(t, yl));
        t = v128.load8x8_s(w, 32);
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(t, xl)); b2 = i32x4.add(b2, i32x4.dot_i16x8_s(t, yl));
        t = v128.load8x8_s(w, 48);
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(t, xl)); b3 = i32x4.add(b3, i32x4.dot_i16x8_s(t, yl));
        x += 8; w += d; d = 64 - d; // next half-block: +8 within a block, +56 to the next one
      }
      storeRows(o, i32x4.add(hsum4(a0, a1, a2, a3), bias), rows);
      storeRows(o + ldo, i32x4.add(hsum4(b0, b1, b2, b3), bias), rows);
      o += ldo << 1;
      xr += ldx << 1;
    }
    if (m < M) storeRows(o, i32x4.add(panel4x16<X>(w0, xr, Kp), bias), rows);
  }
  if (wz != 0) {
    let xr = X, o = out;
    for (let m = 0; m < M; m++) {
      const corr = -wz * sumX<X>(xr, K);
      for (let n = 0; n < N; n++) store<i32>(o + (<usize>n << 2), load<i32>(o + (<usize>n << 2)) + corr);
      xr += ldx;
      o += ldo;
    }
  }
}

/** int8 activations. */
export function i8_gemm_2x4x8__xs8(packed: usize, X: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<i8>(packed, X, out, M, N, K, Kp, wz);
}
/** uint8 activations. */
export function i8_gemm_2x4x8__xu8(packed: usize, X: usize, out: usize, M: i32, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemm<u8>(packed, X, out, M, N, K, Kp, wz);
}
