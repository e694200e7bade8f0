// q4-gemm-4x32-simd — W4A8 GEMM (prefill): M tokens × packed int4 weights → float32 M×N.
//
// CONTRACT  out[t, n] = the q4-gemv-4x32-simd result for token t (same formula, eq. 40–43,
//   same packed layout), computed so that each 4-row panel-group is read from memory and
//   unpacked once for all M tokens: the unpacked int16 vectors go to `tmp` (L1-resident) and
//   every token reads them from there. Per token and group the work is 16 dot products per
//   32 k for 4 rows, with no unpacking — the GEMV's unpack cost is paid once per M tokens.
// INPUTS   per token t: xq + 2·t·Kp (Kp int16), xcorr + 4·(t·groups + g), xs/xsum +
//   16·(t·groups + g): exactly what q4-act-quantize writes for one token, laid out token-major.
// SCRATCH  tmp: (G/32)·256 + 16·M bytes, 16-byte aligned (unpacked panel-group, then one float
//   accumulator vector per token). Owned by the host; the kernel allocates nothing.
// ALIGNMENT packed 64 B, the rest 16 B. OVER-READ none. Writes out[t, 0..N−1] only.
// ACCUMULATOR as q4-gemv-4x32-simd (int32 per group, float32 across groups); results equal the
//   GEMV's bit for bit (same operations in the same order).
import { hsum4 } from './common';
import { finishGroup, storeRowsF32, unpackRow32 } from './q4-common';

/** Σ over one 32-k block of one row: four unpacked vectors at u × four activation vectors. */
// @ts-ignore: decorator
@inline function dotUnpacked(acc: v128, u: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const d0 = i32x4.dot_i16x8_s(v128.load(u), x0);
  const d1 = i32x4.dot_i16x8_s(v128.load(u, 16), x1);
  const d2 = i32x4.dot_i16x8_s(v128.load(u, 32), x2);
  const d3 = i32x4.dot_i16x8_s(v128.load(u, 48), x3);
  return i32x4.add(acc, i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3)));
}

// @ts-ignore: decorator
@inline function gemmQ4(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32, tmp: usize): void {
  const groups = <usize>(Kp / G);
  const blocks = <usize>(G >> 5);
  const tail: usize = asym ? 32 : 16;
  const accBase = tmp + (blocks << 8);
  const xRow = <usize>Kp << 1;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    for (let t = 0; t < M; t++) v128.store(accBase + (<usize>t << 4), f32x4.splat(0));
    for (let g: usize = 0; g < groups; g++) {
      for (let b: usize = 0; b < blocks; b++) {
        const src = w + (b << 6), dst = tmp + (b << 8);
        unpackRow32(v128.load(src), dst);
        unpackRow32(v128.load(src, 16), dst + 64);
        unpackRow32(v128.load(src, 32), dst + 128);
        unpackRow32(v128.load(src, 48), dst + 192);
      }
      const scales = w + (blocks << 6);
      for (let t: usize = 0; t < <usize>M; t++) {
        const gi = t * groups + g;
        const c = v128.load32_splat(xcorr + (gi << 2));
        let a0 = c, a1 = c, a2 = c, a3 = c;
        let xp = xq + t * xRow + ((g * <usize>G) << 1);
        let u = tmp;
        for (let b: usize = 0; b < blocks; b++) {
          const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
          a0 = dotUnpacked(a0, u, x0, x1, x2, x3);
          a1 = dotUnpacked(a1, u + 64, x0, x1, x2, x3);
          a2 = dotUnpacked(a2, u + 128, x0, x1, x2, x3);
          a3 = dotUnpacked(a3, u + 192, x0, x1, x2, x3);
          u += 256;
          xp += 64;
        }
        const accPtr = accBase + (t << 4);
        v128.store(accPtr, finishGroup(asym, false, hsum4(a0, a1, a2, a3), scales, xs + (gi << 4), xsum + (gi << 4), v128.load(accPtr), 0));
      }
      w += (blocks << 6) + tail;
    }
    for (let t = 0; t < M; t++) {
      storeRowsF32(out + ((<usize>t * <usize>N + <usize>row) << 2), v128.load(accBase + (<usize>t << 4)), N - row);
    }
  }
}

export function q4_gemm_4x32__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32, tmp: usize): void {
  gemmQ4(false, packed, xq, xs, xcorr, xsum, out, M, N, Kp, G, tmp);
}

export function q4_gemm_4x32__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32, tmp: usize): void {
  gemmQ4(true, packed, xq, xs, xcorr, xsum, out, M, N, Kp, G, tmp);
}
