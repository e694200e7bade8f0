// q4-gemm-4x32-simd — W4A8 GEMM (prefill): M tokens × packed int4 weights → float32 M×N.
//
// CONTRACT  out[t, n] = the q4-gemv-4x32-simd result for token t (same formula, eq. 40–43,
//   same packed layout), computed so that each 4-row panel-group is read from memory and
//   unpacked once for all M tokens: the unpacked int16 vectors go to `tmp` (L1-resident) and
//   every token reads them from there. Per token and group the work is 16 dot products per
//   32 k for 4 rows, with no unpacking — the GEMV's unpack cost is paid once per M tokens.
// INPUTS   per token t: xq + 2·t·Kp (Kp activations of 2 bytes in the simd128 build, of 1 byte
//   in the relaxed one — see q4-common.ts), xcorr + 4·(t·groups + g), xs/xsum +
//   16·(t·groups + g): exactly what q4-act-quantize writes for one token, laid out token-major.
// SCRATCH  tmp: (G/32)·256 + 16·M bytes (the relaxed build uses (G/32)·128 of the first part), 16-byte aligned (unpacked panel-group, then one float
//   accumulator vector per token). Owned by the host; the kernel allocates nothing.
// ALIGNMENT packed 64 B, the rest 16 B. OVER-READ none. Writes out[t, 0..N−1] only.
// ACCUMULATOR as q4-gemv-4x32-simd (int32 per group, float32 across groups); results equal the
//   GEMV's bit for bit (same operations in the same order).
import { ACT_BYTES, finishGroup, storeRowsF32, UNPACKED_BLOCK, unpackBlock, unpackedGroupSums } from './q4-common';

// @ts-ignore: decorator
@inline function gemmQ4(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32, tmp: usize): void {
  const groups = <usize>(Kp / G);
  const blocks = <usize>(G >> 5);
  const tail: usize = asym ? 32 : 16;
  const accBase = tmp + blocks * UNPACKED_BLOCK;
  const xRow = <usize>Kp << 1;       // token stride: 2·Kp bytes in both builds (the relaxed one uses half)
  const xGroup = <usize>G * ACT_BYTES;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    for (let t = 0; t < M; t++) v128.store(accBase + (<usize>t << 4), f32x4.splat(0));
    for (let g: usize = 0; g < groups; g++) {
      for (let b: usize = 0; b < blocks; b++) unpackBlock(w + (b << 6), tmp + b * UNPACKED_BLOCK);
      w += blocks << 6;
      // two tokens per step: two independent chains over the same L1-resident weights
      let t: usize = 0;
      for (; t + 1 < <usize>M; t += 2) {
        const gi = t * groups + g, gj = gi + groups;
        const d0 = unpackedGroupSums(tmp, xq + t * xRow + g * xGroup, xcorr + (gi << 2), G);
        const d1 = unpackedGroupSums(tmp, xq + (t + 1) * xRow + g * xGroup, xcorr + (gj << 2), G);
        const p0 = accBase + (t << 4), p1 = p0 + 16;
        v128.store(p0, finishGroup(asym, d0, w, xs + (gi << 4), xsum + (gi << 4), v128.load(p0)));
        v128.store(p1, finishGroup(asym, d1, w, xs + (gj << 4), xsum + (gj << 4), v128.load(p1)));
      }
      if (t < <usize>M) {
        const gi = t * groups + g;
        const d = unpackedGroupSums(tmp, xq + t * xRow + g * xGroup, xcorr + (gi << 2), G);
        const accPtr = accBase + (t << 4);
        v128.store(accPtr, finishGroup(asym, d, w, xs + (gi << 4), xsum + (gi << 4), v128.load(accPtr)));
      }
      w += tail;
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
