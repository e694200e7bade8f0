// i8-gemv-4x2-simd — exact int8 GEMV, rows in lanes: each i32x4 accumulator holds the four
// output rows of one panel; one step multiplies a panel's 4 rows × 2 k (8 weight bytes, widened
// to int16) by the broadcast int16 pair (x[k], x[k+1]). Four panels per pass (four weight
// streams, 4 accumulators), 2 k-pairs per step. No horizontal sums.
//
// CONTRACT (docs/quantization.md eq. 10–13)
//   out[n] = bias'[n] − wz·Σ_{k<K} x[k] + Σ_{k<Kp} P[n,k]·x[k]          for n < N
//   every operation wraps modulo 2^32 (i32 adds), which is exactly ONNX MatMulInteger's int32
//   arithmetic, so the result equals eq. (10) mod 2^32 on every CPU.
//   P  = packed int8 weights; uint8 weights are stored as w − 128 (eq. 12),
//   wz = the weight zero point in that int8 domain (z_w, or z_w − 128 for uint8 weights);
//        0 for symmetric weights, which skips the Σx pass,
//   x  = activations exactly as stored: int8 (`__xs8`) or uint8 (`__xu8`); the kernel first
//        widens them once to int16 pairs in the caller's scratch xw (common.ts widenX),
//   bias' = b[n] − z_x·Σ_k P[n,k] + K·wz·z_x, folded at pack time (eq. 13).
//
// PACKED LAYOUT (Kp = K rounded up to 16, Np = N rounded up to 4, panels = Np/4)
//   panel p (rows 4p..4p+3) is 4·Kp bytes at p·4·Kp; k-pair j (k = 2j, 2j+1, j < Kp/2) is the
//   8 bytes at p·4·Kp + 8j:
//     +0 P[4p+0,2j]  +1 P[4p+0,2j+1]  +2 P[4p+1,2j]  +3 P[4p+1,2j+1]
//     +4 P[4p+2,2j]  +5 P[4p+2,2j+1]  +6 P[4p+3,2j]  +7 P[4p+3,2j+1]
//   (v128.load8x8_s → int16 lanes [r0k0 r0k1 r1k0 r1k1 r2k0 r2k1 r3k0 r3k1]; i32x4.dot_i16x8_s
//   with the splat [x[2j] x[2j+1]] gives lane r = P[4p+r,2j]·x[2j] + P[4p+r,2j+1]·x[2j+1].)
//   bias' follows the panels at byte Np·Kp: Np int32 little-endian (rows ≥ N hold 0).
//   Pad rows (n ≥ N) and pad columns (k ≥ K) are 0. Total Np·Kp + 4·Np bytes. Each panel is
//   one sequential stream; the GEMM (i8-gemm-4x2-simd.ts) reads the same bytes.
//
// SCRATCH    xw: 2·Kp bytes (int16 pairs, common.ts widenX with M = 1), from the host's
//            scratch(); 4-byte alignment is enough (the host gives 64).
// ALIGNMENT  packed: 64 B (allocator; not relied on); x, out: any.
// OVER-READ  none: x is read for exactly K bytes, xw for 2·Kp, packed never past its end;
//            only out[0 .. N−1] is written.
// ACCUMULATOR int32, wrapping. One i32x4.dot_i16x8_s lane adds 2 products of |P·x| ≤ 128·255,
//            far inside i32. Largest K whose true sum cannot wrap (bias 0):
//            int8×int8 131071 (|w·x| ≤ 2^14), int8×uint8 65793, with zero points (|w−z_w|,
//            |x−z_x| ≤ 255) 33025. Beyond, results are the exact sum modulo 2^32.
//
// SPEED (AMD EPYC Zen 3, 2 vCPU, AVX2 no VNNI, Node 20.20; docs/kernels.md has the table)
//   Per 2 k-pairs of 4 panels: 8 widening loads, 2 broadcast loads (vbroadcastss: no ALU uop),
//   8 vpmaddwd, 8 vpaddd — 14 live vectors, no spills. Against the lanes = k layout's 4×16
//   kernels (paired CPU-time medians, 2–4 runs): 0.84–1.02× the one-stream kernel at 256²,
//   0.95–1.02× at 1024² (by min-of-rounds the old kernel was 2–20 % faster there: ~34 vs ~30
//   instructions per 64 MACs); from DRAM 0.70–0.78× the one-stream and 0.87–0.95× the
//   two-stream kernel (4096², 11008×4096, 4096×11008: 10–16 GMAC/s vs 9–12): four weight
//   streams with 4 accumulators fit the 15 xmm registers, where four streams of the lanes = k
//   layout needed 16 accumulators. One panel per pass (panel4x2) is 1.13–1.34× slower in
//   cache; it only serves the last 1–3 panels. One pointer per stream instead of base + offset
//   measured equal.

import { panel4x2, storeRows, sumX, tile4x1, widenX } from './common';

// @ts-ignore: decorator
@inline function gemv<X>(packed: usize, bias: usize, x: usize, xw: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  widenX<X>(x, 1, K, Kp, xw);
  const panels = (N + 3) >> 2;
  const pb = <usize>Kp << 2;
  const np = Kp >> 1;
  const corr = i32x4.splat(wz != 0 ? -wz * sumX<X>(x, K) : 0);
  let w0 = packed;
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    tile4x1(w0, pb, xw, np, out, bias, corr, N - (p << 2) - 12); // rows ≥ 13: the first three panels are full
    w0 += pb << 2;
    bias += 64;
    out += 64;
  }
  for (; p < panels; p++) {
    storeRows(out, i32x4.add(i32x4.add(panel4x2(w0, xw, np), v128.load(bias)), corr), N - (p << 2));
    w0 += pb;
    bias += 16;
    out += 16;
  }
}

/** int8 activations. xw: 2·Kp bytes of scratch. */
export function i8_gemv_4x2__xs8(packed: usize, x: usize, xw: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(packed, packed + <usize>((N + 3) >> 2) * (<usize>Kp << 2), x, xw, out, N, K, Kp, wz);
}
/** uint8 activations. xw: 2·Kp bytes of scratch. */
export function i8_gemv_4x2__xu8(packed: usize, x: usize, xw: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(packed, packed + <usize>((N + 3) >> 2) * (<usize>Kp << 2), x, xw, out, N, K, Kp, wz);
}

// Row ranges (a pool thread's share, docs/threads.md): rows n0 … n0+N−1 of a matrix, n0 a
// multiple of 4, given as packed = the matrix + (n0/4)·4·Kp, bias = its bias' + 4·n0 and
// out = its output + 4·n0. Same arithmetic per row as the whole-matrix entries above.
/** int8 activations, rows of a matrix; bias: the first row's bias'. xw: 2·Kp bytes of scratch. */
export function i8_gemv_4x2_rows__xs8(packed: usize, bias: usize, x: usize, xw: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<i8>(packed, bias, x, xw, out, N, K, Kp, wz);
}
/** uint8 activations, rows of a matrix. */
export function i8_gemv_4x2_rows__xu8(packed: usize, bias: usize, x: usize, xw: usize, out: usize, N: i32, K: i32, Kp: i32, wz: i32): void {
  gemv<u8>(packed, bias, x, xw, out, N, K, Kp, wz);
}
