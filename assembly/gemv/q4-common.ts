// Helpers shared by the packed-int4 kernel families (q4-gemv, q4-gemm, q4-act-quantize); all
// inlined. The packed nibble layout and every term are in q4-gemv-4x32-simd.ts's contract.
//
// Two builds share this file (ASC_FEATURE_RELAXED_SIMD is a compile-time constant):
//   simd128  (build/intquant.wasm): each packed int16 lane P (four nibbles) is used as is and
//            shifted right by 4, 8, 12 (arithmetic), and summed with i32x4.dot_i16x8_s against
//            activations that telescope the shifted-in upper nibbles away (q4-act-quantize:
//            y_j = x_j − 16·x_{j−1}); 8 multiply-adds per instruction, three shifts per 32 weights;
//   relaxed  (build/intquant-relaxed.wasm): its packed layout has every nibble offset-binary
//            (u = q + 8; the simd128 bytes XOR 0x8000 per int16 lane), two masks split them into bytes, and
//            i16x8.relaxed_dot_i8x16_i7x16_s multiplies them by int8 activations (16 per
//            instruction; u ∈ [0, 15] is inside the i7 operand's defined range).
// Both produce the same exact integer group sums, so both builds give bit-identical outputs.
import { hsum4 } from './common';

/**
 * Bytes of activation storage per k: int16 (simd128), int8 (relaxed), or int8 quads broadcast to
 * 16 bytes (the dot-add build, q4-gemv-4x8-dotadd: 4 bytes per k). The dot-add build also
 * compiles the relaxed kernels of this file family, but the host never calls them there.
 */
export const ACT_BYTES: usize = RELAXED_DOT_ADD ? 4 : ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
/** Bytes of unpacked weights per 4-row 32-k block in the GEMM's scratch. */
export const UNPACKED_BLOCK: usize = ASC_FEATURE_RELAXED_SIMD ? 128 : 256;

// ---- simd128 ----------------------------------------------------------------------------------

/**
 * One row's 32-k sum Σ_j u_j·x_j (4 lanes; eq. 42): the packed lanes P and P >> 4, 8, 12
 * (arithmetic) against the telescoped activations y0..y3 of q4-act-quantize. Every product and
 * partial sum is < 2^31 (|P| ≤ 2^15, |y| ≤ 2159), and per lane the four terms add up to the exact
 * small sum (the upper nibbles each shifted term carries cancel against the next y).
 */
// @ts-ignore: decorator
@inline export function rowSum32(w: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const d0 = i32x4.dot_i16x8_s(w, x0);
  const d1 = i32x4.dot_i16x8_s(i16x8.shr_s(w, 4), x1);
  const d2 = i32x4.dot_i16x8_s(i16x8.shr_s(w, 8), x2);
  const d3 = i32x4.dot_i16x8_s(i16x8.shr_s(w, 12), x3);
  return i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3));
}

/** rowSum32 added into acc. */
// @ts-ignore: decorator
@inline export function dotRow32(acc: v128, w: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return i32x4.add(acc, rowSum32(w, x0, x1, x2, x3));
}

// ---- relaxed ----------------------------------------------------------------------------------

/** The packed 16 bytes of one row's 32-k block (relaxed layout: every nibble offset-binary) as nibble bytes: low nibbles. */
// @ts-ignore: decorator
@inline function nibblesLo(w: v128): v128 {
  return v128.and(w, i8x16.splat(0x0F));
}
/** … and high nibbles. */
// @ts-ignore: decorator
@inline function nibblesHi(w: v128): v128 {
  return v128.and(i16x8.shr_u(w, 4), i8x16.splat(0x0F));
}
/** One row's 32-k block: int16 lanes += Σ of four u·x products (|·| ≤ 4·15·127 per block). */
// @ts-ignore: decorator
@inline function dotRow32Relaxed(acc: v128, lo: v128, hi: v128, xl: v128, xh: v128): v128 {
  return i16x8.add(acc, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xl, lo), i16x8.relaxed_dot_i8x16_i7x16_s(xh, hi)));
}

/** One row's single 32-k block, int16 lanes (each |·| ≤ 2·2·15·127 = 7620). */
// @ts-ignore: decorator
@inline export function rowBlockRelaxed(w: v128, xl: v128, xh: v128): v128 {
  const lo = nibblesLo(w), hi = nibblesHi(w);
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xl, lo), i16x8.relaxed_dot_i8x16_i7x16_s(xh, hi));
}

/** One row's single 32-k block from already split nibble bytes (GEMM scratch), int16 lanes. */
// @ts-ignore: decorator
@inline function unpackedRowRelaxed(lo: v128, hi: v128, xl: v128, xh: v128): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xl, lo), i16x8.relaxed_dot_i8x16_i7x16_s(xh, hi));
}

/**
 * hsum4 of four rows' int16 partial sums (one block each): the two shuffle levels add int16
 * lanes (|·| ≤ 4·7620 = 30480 < 2^15 after both), one pairwise widening at the end instead of
 * one per row.
 */
// @ts-ignore: decorator
@inline export function hsum4i16(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i16x8.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const t1 = i16x8.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7)));
}

// ---- both -------------------------------------------------------------------------------------

/**
 * G = 32: one panel's exact group sums from activations the caller loaded once for every panel
 * (simd128: x0..x3 = the four int16 vectors; relaxed: x0, x1 = the two int8 vectors, x2, x3
 * unused) plus the correction c = splat(xcorr[g]). Same values as panelGroupSums.
 */
// @ts-ignore: decorator
@inline export function panelSums32(w: usize, x0: v128, x1: v128, x2: v128, x3: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.add(hsum4i16(rowBlockRelaxed(v128.load(w), x0, x1), rowBlockRelaxed(v128.load(w, 16), x0, x1),
      rowBlockRelaxed(v128.load(w, 32), x0, x1), rowBlockRelaxed(v128.load(w, 48), x0, x1)), c);
  }
  return i32x4.add(hsum4(rowSum32(v128.load(w), x0, x1, x2, x3), rowSum32(v128.load(w, 16), x0, x1, x2, x3),
    rowSum32(v128.load(w, 32), x0, x1, x2, x3), rowSum32(v128.load(w, 48), x0, x1, x2, x3)), c);
}

/**
 * The exact group sums of one 4-row panel for one group: [D(r0), D(r1), D(r2), D(r3)] with the
 * offset correction applied (eq. 41–42), in units of q·x (the activation scales carry the 4096
 * the packed weight scales are divided by). `w` and `xp` point at the group's first block.
 */
// @ts-ignore: decorator
@inline export function panelGroupSums(w: usize, xp: usize, corr: usize, G: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (G == 32) {
      const xl = v128.load(xp), xh = v128.load(xp, 16);
      return panelSums32(w, xl, xh, xl, xh, v128.load32_splat(corr));
    }
    // int16 lanes hold at most 4 blocks (4·7620 < 2^15), then widen
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    for (let b0 = 0; b0 < G; b0 += 128) {
      let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
      const end = min(G, b0 + 128);
      for (let b = b0; b < end; b += 32) {
        const xl = v128.load(xp), xh = v128.load(xp, 16);
        const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
        a0 = dotRow32Relaxed(a0, nibblesLo(w0), nibblesHi(w0), xl, xh);
        a1 = dotRow32Relaxed(a1, nibblesLo(w1), nibblesHi(w1), xl, xh);
        a2 = dotRow32Relaxed(a2, nibblesLo(w2), nibblesHi(w2), xl, xh);
        a3 = dotRow32Relaxed(a3, nibblesLo(w3), nibblesHi(w3), xl, xh);
        w += 64;
        xp += 32;
      }
      s0 = i32x4.add(s0, i32x4.extadd_pairwise_i16x8_s(a0));
      s1 = i32x4.add(s1, i32x4.extadd_pairwise_i16x8_s(a1));
      s2 = i32x4.add(s2, i32x4.extadd_pairwise_i16x8_s(a2));
      s3 = i32x4.add(s3, i32x4.extadd_pairwise_i16x8_s(a3));
    }
    return i32x4.add(hsum4(s0, s1, s2, s3), v128.load32_splat(corr));
  }
  if (G == 32) {
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    return panelSums32(w, x0, x1, x2, x3, v128.load32_splat(corr));
  }
  // one block per iteration: unrolling two made V8 hoist eight activation loads and spill
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (let b = 0; b < G; b += 32) {
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = dotRow32(a0, v128.load(w), x0, x1, x2, x3);
    a1 = dotRow32(a1, v128.load(w, 16), x0, x1, x2, x3);
    a2 = dotRow32(a2, v128.load(w, 32), x0, x1, x2, x3);
    a3 = dotRow32(a3, v128.load(w, 48), x0, x1, x2, x3);
    w += 64;
    xp += 64;
  }
  return i32x4.add(hsum4(a0, a1, a2, a3), v128.load32_splat(corr));
}

/** The exact group sums in units of 4096·q·x (for the test variant). */
// @ts-ignore: decorator
@inline export function sumsIn4096(d: v128): v128 {
  return i32x4.shl(d, 12);
}

/** Unpack one 4-row 32-k block (64 packed bytes at w) into the GEMM scratch at dst. */
// @ts-ignore: decorator
@inline export function unpackBlock(w: usize, dst: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (let r: usize = 0; r < 4; r++) {
      const v = v128.load(w + (r << 4));
      v128.store(dst + (r << 5), nibblesLo(v));
      v128.store(dst + (r << 5), nibblesHi(v), 16);
    }
    return;
  }
  for (let r: usize = 0; r < 4; r++) {
    const v = v128.load(w + (r << 4)), d = dst + (r << 6);
    v128.store(d, v);
    v128.store(d, i16x8.shr_s(v, 4), 16);
    v128.store(d, i16x8.shr_s(v, 8), 32);
    v128.store(d, i16x8.shr_s(v, 12), 48);
  }
}

/** panelGroupSums for weights already unpacked by unpackBlock (G/32 blocks at u). */
// @ts-ignore: decorator
@inline export function unpackedGroupSums(u: usize, xp: usize, corr: usize, G: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (G == 32) {
      const xl = v128.load(xp), xh = v128.load(xp, 16);
      return i32x4.add(hsum4i16(
        unpackedRowRelaxed(v128.load(u), v128.load(u, 16), xl, xh), unpackedRowRelaxed(v128.load(u, 32), v128.load(u, 48), xl, xh),
        unpackedRowRelaxed(v128.load(u, 64), v128.load(u, 80), xl, xh), unpackedRowRelaxed(v128.load(u, 96), v128.load(u, 112), xl, xh)),
        v128.load32_splat(corr));
    }
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    for (let b0 = 0; b0 < G; b0 += 128) {
      let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
      const end = min(G, b0 + 128);
      for (let b = b0; b < end; b += 32) {
        const xl = v128.load(xp), xh = v128.load(xp, 16);
        a0 = dotRow32Relaxed(a0, v128.load(u), v128.load(u, 16), xl, xh);
        a1 = dotRow32Relaxed(a1, v128.load(u, 32), v128.load(u, 48), xl, xh);
        a2 = dotRow32Relaxed(a2, v128.load(u, 64), v128.load(u, 80), xl, xh);
        a3 = dotRow32Relaxed(a3, v128.load(u, 96), v128.load(u, 112), xl, xh);
        u += 128;
        xp += 32;
      }
      s0 = i32x4.add(s0, i32x4.extadd_pairwise_i16x8_s(a0));
      s1 = i32x4.add(s1, i32x4.extadd_pairwise_i16x8_s(a1));
      s2 = i32x4.add(s2, i32x4.extadd_pairwise_i16x8_s(a2));
      s3 = i32x4.add(s3, i32x4.extadd_pairwise_i16x8_s(a3));
    }
    return i32x4.add(hsum4(s0, s1, s2, s3), v128.load32_splat(corr));
  }
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (let b = 0; b < G; b += 32) {
    const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
    a0 = dotUnpacked(a0, u, x0, x1, x2, x3);
    a1 = dotUnpacked(a1, u + 64, x0, x1, x2, x3);
    a2 = dotUnpacked(a2, u + 128, x0, x1, x2, x3);
    a3 = dotUnpacked(a3, u + 192, x0, x1, x2, x3);
    u += 256;
    xp += 64;
  }
  return i32x4.add(hsum4(a0, a1, a2, a3), v128.load32_splat(corr));
}

/** Σ over one 32-k block of one row: four unpacked int16 vectors at u × four activation vectors. */
// @ts-ignore: decorator
@inline function dotUnpacked(acc: v128, u: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const d0 = i32x4.dot_i16x8_s(v128.load(u), x0);
  const d1 = i32x4.dot_i16x8_s(v128.load(u, 16), x1);
  const d2 = i32x4.dot_i16x8_s(v128.load(u, 32), x2);
  const d3 = i32x4.dot_i16x8_s(v128.load(u, 48), x3);
  return i32x4.add(acc, i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3)));
}

/** Scale one group's sums into the float accumulator (eq. 40); the asymmetric term when asym. */
// @ts-ignore: decorator
@inline export function finishGroup(asym: bool, d: v128, w: usize, xs: usize, xsum: usize, acc: v128): v128 {
  let t = f32x4.mul(f32x4.convert_i32x4_s(d), v128.load(w));
  if (asym) t = f32x4.sub(t, f32x4.mul(v128.load(w, 16), v128.load(xsum)));
  return f32x4.add(acc, f32x4.mul(t, v128.load(xs)));
}

/** Store the first `rows` (≥ 1) float lanes of v at out: never writes past out[rows − 1]. */
// @ts-ignore: decorator
@inline export function storeRowsF32(out: usize, v: v128, rows: i32): void {
  if (rows >= 4) { v128.store(out, v); return; }
  store<f32>(out, f32x4.extract_lane(v, 0));
  if (rows > 1) store<f32>(out, f32x4.extract_lane(v, 1), 4);
  if (rows > 2) store<f32>(out, f32x4.extract_lane(v, 2), 8);
}
