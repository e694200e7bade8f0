// q4-gemm-4x8-dotadd — W4A8 GEMM (prefill) on relaxed SIMD's fused dot-add: M tokens × packed
// int4 weights (the dot-add layout, q4-gemv-4x8-dotadd.ts) → float32 M×N, up to 4 tokens per pass
// sharing each 16-byte weight load and its unpack (4 rows × 8 k) in registers.
//
// CONTRACT  out[t, n] = the q4-gemv-4x8-dotadd result for token t, bit for bit (the same exact group
//   sums D = Σ u·xq + xcorr, then the same finishGroup per token and group; eq. 40–43, 46).
// INPUTS    per token t, what this build's q4_act_quantize writes for one token, token-major:
//   xq + 4·t·Kp (4·Kp bytes: the broadcast code quads), xcorr + 4·(t·groups + g),
//   xs / xsum + 16·(t·groups + g). No scratch.
// ORDER     panel-outer: for each 4-row panel, every group of up to 4 tokens runs the whole K, so a
//   panel's packed bytes (80–96 B per group, ~10 KiB at K = 4096) come from DRAM once and stay
//   in L1 for the later tokens.
// OUTPUT    out[t·N + n]; nothing else is written. ALIGNMENT packed 64 B, the rest 16 B. OVER-READ none.
// ACCUMULATOR int32 per group (|D| ≤ 256·15·127), float32 across groups.

import { finishGroup, storeRowsF32 } from './q4-common';
import { dotAdd } from './dotadd-common';
import { nibbleMask } from './q4-gemv-4x8-dotadd';

/** T (1–4) tokens × one panel over all groups, starting at token t0's inputs. */
// @ts-ignore: decorator
@inline function tokensPanel(asym: bool, T: i32, w: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize,
  out: usize, N: i32, rows: i32, Kp: i32, G: i32): void {
  const groups = Kp / G;
  const B = G >> 5;
  const tail: usize = asym ? 32 : 16;
  const xt = <usize>Kp << 2, gt = <usize>groups << 4, ct = <usize>groups << 2;   // token strides
  const m = nibbleMask(Kp);
  let f0 = f32x4.splat(0), f1 = f0, f2 = f0, f3 = f0;
  let xp = xq, sp = xs, cp = xcorr, zp = xsum;
  for (let g = 0; g < groups; g++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let i = 0; i < B * 4; i++) {            // 16-byte chunks of 4 rows × 8 k
      const v = v128.load(w);
      const lo = v128.and(v, m), hi = v128.and(i16x8.shr_u(v, 4), m);
      a0 = dotAdd(v128.load(xp, 16), hi, dotAdd(v128.load(xp), lo, a0));
      if (T > 1) a1 = dotAdd(v128.load(xp + xt, 16), hi, dotAdd(v128.load(xp + xt), lo, a1));
      if (T > 2) a2 = dotAdd(v128.load(xp + 2 * xt, 16), hi, dotAdd(v128.load(xp + 2 * xt), lo, a2));
      if (T > 3) a3 = dotAdd(v128.load(xp + 3 * xt, 16), hi, dotAdd(v128.load(xp + 3 * xt), lo, a3));
      w += 16;
      xp += 32;
    }
    f0 = finishGroup(asym, i32x4.add(a0, v128.load32_splat(cp)), w, sp, zp, f0);
    if (T > 1) f1 = finishGroup(asym, i32x4.add(a1, v128.load32_splat(cp + ct)), w, sp + gt, zp + gt, f1);
    if (T > 2) f2 = finishGroup(asym, i32x4.add(a2, v128.load32_splat(cp + 2 * ct)), w, sp + 2 * gt, zp + 2 * gt, f2);
    if (T > 3) f3 = finishGroup(asym, i32x4.add(a3, v128.load32_splat(cp + 3 * ct)), w, sp + 3 * gt, zp + 3 * gt, f3);
    w += tail;
    sp += 16;
    cp += 4;
    zp += 16;
  }
  const ot = <usize>N << 2;
  storeRowsF32(out, f0, rows);
  if (T > 1) storeRowsF32(out + ot, f1, rows);
  if (T > 2) storeRowsF32(out + 2 * ot, f2, rows);
  if (T > 3) storeRowsF32(out + 3 * ot, f3, rows);
}

// @ts-ignore: decorator
@inline function gemm(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32): void {
  const groups = Kp / G;
  const panelBytes = <usize>groups * ((<usize>G << 1) + (asym ? 32 : 16));
  const xt = <usize>Kp << 2, gt = <usize>groups << 4, ct = <usize>groups << 2, ot = <usize>N << 2;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    const rows = N - row, o = out + (<usize>row << 2);
    let t = 0;
    for (; t + 4 <= M; t += 4) {
      const u = <usize>t;
      tokensPanel(asym, 4, w, xq + u * xt, xs + u * gt, xcorr + u * ct, xsum + u * gt, o + u * ot, N, rows, Kp, G);
    }
    const R = M - t, u = <usize>t;
    if (R == 3) tokensPanel(asym, 3, w, xq + u * xt, xs + u * gt, xcorr + u * ct, xsum + u * gt, o + u * ot, N, rows, Kp, G);
    else if (R == 2) tokensPanel(asym, 2, w, xq + u * xt, xs + u * gt, xcorr + u * ct, xsum + u * gt, o + u * ot, N, rows, Kp, G);
    else if (R == 1) tokensPanel(asym, 1, w, xq + u * xt, xs + u * gt, xcorr + u * ct, xsum + u * gt, o + u * ot, N, rows, Kp, G);
    w += panelBytes;
  }
}

export function q4_gemm_4x8_dotadd__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32): void {
  gemm(false, packed, xq, xs, xcorr, xsum, out, M, N, Kp, G);
}

export function q4_gemm_4x8_dotadd__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32): void {
  gemm(true, packed, xq, xs, xcorr, xsum, out, M, N, Kp, G);
}
