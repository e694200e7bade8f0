// q4-gemv-4x8-dotadd — W4A8 GEMV on relaxed SIMD's fused dot-add, rows in lanes: each i32x4
// accumulator holds the four output rows of one panel, and one 16-byte load holds 4 rows × 8 k
// (two dot-adds, one per nibble half, against broadcast quads of int8 activations). No horizontal
// sums. S = 1–3 panel streams per pass share the activation broadcasts.
//
// CONTRACT (docs/quantization.md eq. 40–43, 46)
//   out[n] = Σ_g sx'[g] · ( ws[n,g]·D[n,g] − wz[n,g]·xsum[g] ),
//   D[n,g] = Σ_{k∈g} u[n,k]·xq[k] + xcorr[g] = Σ_{k∈g} q[n,k]·xq[k]                 (exact int32)
//   u = q + 8 ∈ [0, 15] (the 7-bit operand), xq ∈ [−127, 127] (the int8 operand), xcorr[g] =
//   −8·Σ_{k∈g} xq[k]; ws, sx', wz, xsum as q4-gemv-4x32-simd (the activation inputs come from
//   this build's q4_act_quantize: xq in plain k order). Same outputs as the other builds, bit for
//   bit: the group sums are the same integers and the float steps are the same operations.
//
// PACKED LAYOUT (G ∈ {32, 64, 128, 256}, Kp = K rounded up to G, Np = N rounded up to 4)
//   panels, groups and 64-byte 32-k blocks exactly as q4-gemv-4x32-simd (block b of group g of
//   panel p at p·PB + g·GB + 64b; ws (16 B) and, asymmetric, wz (16 B) after each group's blocks);
//   inside a block, chunk c ∈ 0..3 is the 16 bytes at +16c, int32 lane r = row 4p + r, byte t of
//   the lane (k0 = g·G + 32b + 8c):
//     bits 0–3  u[4p+r, k0 + t]        bits 4–7  u[4p+r, k0 + 4 + t]          (t = 0..3)
//   Padding rows hold zero scales; padding k hold u = 8 (q = 0) and meet xq = 0.
// ACTIVATIONS xq: 4·Kp bytes, per k-quad its 4 int8 codes broadcast to 16 bytes (this build's
//          q4_act_quantize); xcorr: int32 per group; xs, xsum: 16 B per group.
// OUTPUT   out[n], N float32; nothing else is written (the three-stream pass keeps its running
//          float sums in its own output rows: out is read back, never past out[N − 1]).
// ALIGNMENT packed 64 B, the rest 16 B (not relied on). OVER-READ none.
// ACCUMULATOR int32: |D| ≤ 256·15·127 before the correction, far inside 2^31; float32 across groups.

import { finishGroup, storeRowsF32 } from './q4-common';
import { dotAdd } from './dotadd-common';

/**
 * splat(0x0F) computed from Kp (a multiple of 32, so (Kp − 1) & 15 = 15) instead of written as a
 * constant: V8 rematerialises a v128 constant at every use (three instructions: mov, movq,
 * punpcklqdq), twice per chunk; a value from a parameter stays in a register.
 */
// @ts-ignore: decorator
@inline export function nibbleMask(Kp: i32): v128 {
  return i8x16.splat(<i8>((Kp - 1) & 15));
}

/** acc + one chunk: the low nibbles against the quad xl, the high nibbles against xh (m: nibbleMask). */
// @ts-ignore: decorator
@inline export function chunkDotAdd(acc: v128, v: v128, xl: v128, xh: v128, m: v128): v128 {
  return dotAdd(xh, v128.and(i16x8.shr_u(v, 4), m), dotAdd(xl, v128.and(v, m), acc));
}

/**
 * S (1–3) panel streams over the first S·⌊P/S⌋ panels (panel p of run r at p + r·⌊P/S⌋), one
 * group of G/32 blocks per step: the four 16-byte chunks of a block alternate between two
 * accumulators per panel (independent chains), the broadcast quads shared by the streams; the
 * group's correction and scaled float update follow. Returns the panels done. `sums` (S = 1):
 * the test variant, which writes 4096·D per group instead. The block loop is a do-while
 * counting down (1.05–1.10× a for loop); for G = 32 its one pass ends in a break, so it has no
 * back edge and is no loop at all (a loop that runs once still costs V8 its entry moves and stack
 * check). That, with the group's correction as the first accumulators' start value, measured
 * 1.04–1.06× (docs/kernels.md).
 */
// @ts-ignore: decorator
@inline function gemvStreams(asym: bool, sums: bool, S: i32, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): i32 {
  const groups = Kp / G;
  const B = G >> 5;
  const tail: usize = asym ? 32 : 16;
  const stride: usize = (<usize>G << 1) + tail;
  const run = ((N + 3) >> 2) / S;
  const panelBytes = <usize>groups * stride;
  const gap = <usize>run * panelBytes;
  const m = nibbleMask(Kp);
  const xEnd = xq + (<usize>Kp << 2);
  // S = 3 runs full panels only (the caller's choice) and keeps its float sums in their output
  // rows, not registers: 3 fewer live vectors, no accumulator spills (1.05–1.06×).
  const inOut = S == 3 && !sums;
  for (let p = 0; p < run; p++) {
    let w = packed + <usize>p * panelBytes;
    let f0 = f32x4.splat(0), f1 = f0, f2 = f0;
    const o0 = out + (<usize>p << 4), o1 = o0 + (<usize>run << 4), o2 = o1 + (<usize>run << 4);
    if (inOut) { v128.store(o0, f0); v128.store(o1, f0); v128.store(o2, f0); }
    let xp = xq, sp = xs, cp = xcorr, zp = xsum;
    do {
      // the group's correction starts the first accumulator of each panel (one add fewer each)
      const c = v128.load32_splat(cp), z = i32x4.splat(0);
      let a0 = c, b0 = z, a1 = c, b1 = z, a2 = c, b2 = z;
      let blocks = B;
      do {
        let xl = v128.load(xp), xh = v128.load(xp, 16);
        a0 = chunkDotAdd(a0, v128.load(w), xl, xh, m);
        if (S > 1) a1 = chunkDotAdd(a1, v128.load(w + gap), xl, xh, m);
        if (S > 2) a2 = chunkDotAdd(a2, v128.load(w + 2 * gap), xl, xh, m);
        xl = v128.load(xp, 32); xh = v128.load(xp, 48);
        b0 = chunkDotAdd(b0, v128.load(w, 16), xl, xh, m);
        if (S > 1) b1 = chunkDotAdd(b1, v128.load(w + gap, 16), xl, xh, m);
        if (S > 2) b2 = chunkDotAdd(b2, v128.load(w + 2 * gap, 16), xl, xh, m);
        xl = v128.load(xp, 64); xh = v128.load(xp, 80);
        a0 = chunkDotAdd(a0, v128.load(w, 32), xl, xh, m);
        if (S > 1) a1 = chunkDotAdd(a1, v128.load(w + gap, 32), xl, xh, m);
        if (S > 2) a2 = chunkDotAdd(a2, v128.load(w + 2 * gap, 32), xl, xh, m);
        xl = v128.load(xp, 96); xh = v128.load(xp, 112);
        b0 = chunkDotAdd(b0, v128.load(w, 48), xl, xh, m);
        if (S > 1) b1 = chunkDotAdd(b1, v128.load(w + gap, 48), xl, xh, m);
        if (S > 2) b2 = chunkDotAdd(b2, v128.load(w + 2 * gap, 48), xl, xh, m);
        w += 64;
        xp += 128;
        if (B == 1) break; // G = 32: no back edge (above)
      } while (--blocks > 0);
      if (sums) {
        v128.store(out, i32x4.shl(i32x4.add(a0, b0), 12));
        out += 16;
      } else if (inOut) {
        v128.store(o0, finishGroup(asym, i32x4.add(a0, b0), w, sp, zp, v128.load(o0)));
        v128.store(o1, finishGroup(asym, i32x4.add(a1, b1), w + gap, sp, zp, v128.load(o1)));
        v128.store(o2, finishGroup(asym, i32x4.add(a2, b2), w + 2 * gap, sp, zp, v128.load(o2)));
      } else {
        f0 = finishGroup(asym, i32x4.add(a0, b0), w, sp, zp, f0);
        if (S > 1) f1 = finishGroup(asym, i32x4.add(a1, b1), w + gap, sp, zp, f1);
        if (S > 2) f2 = finishGroup(asym, i32x4.add(a2, b2), w + 2 * gap, sp, zp, f2);
      }
      w += tail;
      sp += 16;
      cp += 4;
      zp += 16;
    } while (xp < xEnd);
    if (sums || inOut) continue;
    storeRowsF32(o0, f0, N - (p << 2));
    if (S > 1) storeRowsF32(o1, f1, N - ((p + run) << 2));
    if (S > 2) storeRowsF32(o2, f2, N - ((p + 2 * run) << 2));
  }
  return S * run;
}

// @ts-ignore: decorator
@inline function gemv(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const panelBytes = <usize>(Kp / G) * ((<usize>G << 1) + (asym ? 32 : 16));
  const P = (N + 3) >> 2;
  let done = 0;
  // three panel streams over full panels (they sum into the output rows), then the last one to
  // three panels (a partial one among them) through two or one
  const full = N >> 2;
  if (full >= 3) done = gemvStreams(asym, false, 3, packed, xq, xs, xcorr, xsum, out, full << 2, Kp, G);
  if (P - done >= 2) {
    const w = packed + <usize>done * panelBytes, o = out + (<usize>done << 4), n = N - (done << 2);
    done += gemvStreams(asym, false, 2, w, xq, xs, xcorr, xsum, o, n, Kp, G);
  }
  if (P - done >= 1) {
    const w = packed + <usize>done * panelBytes, o = out + (<usize>done << 4), n = N - (done << 2);
    gemvStreams(asym, false, 1, w, xq, xs, xcorr, xsum, o, n, Kp, G);
  }
}

/** Symmetric int4 weights (no zero point). xsum is not read. G = 32 gets its own body (no block loop). */
export function q4_gemv_4x8_dotadd__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  if (G == 32) gemv(false, packed, xq, xs, xcorr, xsum, out, N, Kp, 32);
  else gemv(false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/** Asymmetric uint4 weights with per-group zero points folded into wz. */
export function q4_gemv_4x8_dotadd__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  if (G == 32) gemv(true, packed, xq, xs, xcorr, xsum, out, N, Kp, 32);
  else gemv(true, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/**
 * Test variant: the exact int32 group sums 4096·D[n,g] (after the correction, before any
 * scaling), panel-major out[((p·groups) + g)·4 + r] for row 4p + r, as q4_gemv_4x32__groupsums.
 */
export function q4_gemv_4x8_dotadd__groupsums(packed: usize, xq: usize, xcorr: usize, out: usize, N: i32, Kp: i32, G: i32, asym: bool): void {
  if (asym) gemvStreams(true, true, 1, packed, xq, 0, xcorr, 0, out, N, Kp, G);
  else gemvStreams(false, true, 1, packed, xq, 0, xcorr, 0, out, N, Kp, G);
}
