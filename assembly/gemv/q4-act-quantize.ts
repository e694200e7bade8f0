// q4-act-quantize — dynamic int8 quantization of one float32 activation vector for the W4A8
// kernels (q4-gemv-4x32-simd, q4-gemm-4x32-simd), one scale per group of G values (the weights'
// group size).
//
// CONTRACT (docs/quantization.md eq. 43)
//   for each group g of G consecutive k:
//     sx[g]   = f32(max_k |x[k]| / 127)                    (0 for an all-zero group)
//     q[k]    = round_half_even(f32(x[k] / sx[g])) ∈ [−127, 127]   (float32 division, as eq. 2)
//     xq (simd128), per 32-k block four int16 vectors of 8, lane L (j = k mod 32):
//               y0[L] = q[L],  y1[L] = q[8+L] − 16·q[L],  y2[L] = q[16+L] − 16·q[8+L],
//               y3[L] = q[24+L] − 16·q[16+L]   (|y| ≤ 127 + 16·127 = 2159)
//               so that P·y0 + (P>>4)·y1 + (P>>8)·y2 + (P>>12)·y3 = Σ_j u_j·q_j for the packed
//               int16 lane P of nibbles u_0..u_3 (>> arithmetic; eq. 42: the kernel unpacks with
//               three shifts and no masks)
//     xcorr[g] = −8·Σ_{k mod 32 ∈ 0..23} q[k]  (int32, added once to the four rows' horizontal
//                sums, removing the +8 offset of those nibbles — eq. 41)
//     sx is stored ×4096 and xsum[g] = Σ_k q[k] / 4096 (the sums are in units of q·x while the
//     packed weight scales are s/4096, eq. 42; powers of two scale exactly)
//   Rounding: f32(x/s) + 1.5·2^23 rounds half to even in float32 (|x/s| ≤ 127.5 ≪ 2^22) and its
//   bit pattern minus 0x4B400000 is the integer, so no float→int conversion is needed.
//   Dot-add build: per 32-k block 128 bytes, the eight quads q[4j..4j+3] each broadcast to 16
//   bytes (j = 0..7); xcorr as the relaxed build's (every nibble is offset-binary there too).
//   Relaxed build (see q4-common.ts): xq holds int8 q, per 32-k block 32 bytes: bytes 2L, 2L+1 =
//   q[L], q[16+L] then, 16 bytes on, q[8+L], q[24+L] (matching the nibble bytes the kernel
//   splits out); xcorr[g] = −8·Σ_{k∈g} q[k] (every nibble is offset-binary there). Same
//   outputs, bit for bit.
//   Returns −1, or the index of the first NaN/±Inf in x (then nothing from its group on is
//   written and the host throws).
// LAYOUT   x: Kp = ceil(K/G)·G float32, zero-padded by the host past K; xq: Kp int16 (int8 relaxed; 4·Kp bytes dot-add);
//          xcorr: Kp/G int32 (4 B each); sx, xsum: Kp/G float32 each splatted to 4 lanes (16 B).
// ALIGNMENT any (16 B preferred). OVER-READ none. G: a multiple of 32.
// SPEED    absmax with f32x4.pmax and the group's max, scale and sums reduced in SIMD (no scalar
//          f32 max, no lane-by-lane sums): 1.5–1.7× the first version (K = 1024/4096, G = 32).
import { ACT_BYTES } from './q4-common';

/** Store one 32-k block of activation codes (four int16 vectors of 8) in the build's layout. */
// @ts-ignore: decorator
@inline function storeBlock(q0: v128, q1: v128, q2: v128, q3: v128, o: usize): void {
  if (RELAXED_DOT_ADD) {
    // eight quads of 4 consecutive codes, each broadcast to 16 bytes: the dot-add kernels load
    // them as they are (q4-gemv-4x8-dotadd; 1.05–1.08× broadcasting in the kernel)
    const a = i8x16.narrow_i16x8_s(q0, q1), b = i8x16.narrow_i16x8_s(q2, q3);
    v128.store(o, v128.shuffle<i32>(a, a, 0, 0, 0, 0));
    v128.store(o, v128.shuffle<i32>(a, a, 1, 1, 1, 1), 16);
    v128.store(o, v128.shuffle<i32>(a, a, 2, 2, 2, 2), 32);
    v128.store(o, v128.shuffle<i32>(a, a, 3, 3, 3, 3), 48);
    v128.store(o, v128.shuffle<i32>(b, b, 0, 0, 0, 0), 64);
    v128.store(o, v128.shuffle<i32>(b, b, 1, 1, 1, 1), 80);
    v128.store(o, v128.shuffle<i32>(b, b, 2, 2, 2, 2), 96);
    v128.store(o, v128.shuffle<i32>(b, b, 3, 3, 3, 3), 112);
  } else if (ASC_FEATURE_RELAXED_SIMD) {
    const low = i16x8.splat(0xFF);
    v128.store(o, v128.or(v128.and(q0, low), i16x8.shl(q2, 8)));
    v128.store(o, v128.or(v128.and(q1, low), i16x8.shl(q3, 8)), 16);
  } else {
    v128.store(o, q0);
    v128.store(o, i16x8.sub(q1, i16x8.shl(q0, 4)), 16);   // q1 − 16·q0
    v128.store(o, i16x8.sub(q2, i16x8.shl(q1, 4)), 32);
    v128.store(o, i16x8.sub(q3, i16x8.shl(q2, 4)), 48);
  }
}

/** The codes whose nibbles are stored offset-binary, summed per int16 lane (eq. 41). */
// @ts-ignore: decorator
@inline function offsetCodes(q0: v128, q1: v128, q2: v128, q3: v128): v128 {
  const low = i16x8.add(i16x8.add(q0, q1), q2);
  return ASC_FEATURE_RELAXED_SIMD ? i16x8.add(low, q3) : low;
}

/** xcorr = CORR · Σ offset codes; stored activation scale = SCALE · sx, stored xsum = Σ q / SCALE. */
const CORR: i32 = -8;
const SCALE: f32 = 4096;
const INV_SCALE: f32 = 1.0 / 4096;

/** xcorr[g] = CORR·Σ corr lanes and xsum[g] = splat(Σ tot lanes / SCALE), reduced in SIMD. */
// @ts-ignore: decorator
@inline function storeGroupSums(corr: v128, tot: v128, xcorr: usize, xsum: usize): void {
  const u = i32x4.add(v128.shuffle<i32>(corr, tot, 0, 1, 4, 5), v128.shuffle<i32>(corr, tot, 2, 3, 6, 7));
  const w = i32x4.add(u, v128.shuffle<i32>(u, u, 1, 0, 3, 2));          // [Σcorr, Σcorr, Σtot, Σtot]
  store<i32>(xcorr, i32x4.extract_lane(w, 0) * CORR);
  const t = f32x4.convert_i32x4_s(v128.shuffle<i32>(w, w, 2, 2, 2, 2));  // exact: |Σ| < 2^24
  v128.store(xsum, f32x4.mul(t, f32x4.splat(INV_SCALE)));
}

// @ts-ignore: decorator
@inline function quant8(p: usize, vs: v128): v128 {
  const magic = f32x4.splat(12582912.0);
  const bits = i32x4.splat(0x4B400000);
  const a = i32x4.sub(f32x4.add(f32x4.div(v128.load(p), vs), magic), bits);
  const b = i32x4.sub(f32x4.add(f32x4.div(v128.load(p, 16), vs), magic), bits);
  return i16x8.min_s(i16x8.max_s(i16x8.narrow_i32x4_s(a, b), i16x8.splat(-127)), i16x8.splat(127));
}

export function q4_act_quantize(x: usize, Kp: i32, G: i32, xq: usize, sx: usize, xcorr: usize, xsum: usize): i32 {
  const groups = Kp / G;
  for (let g = 0; g < groups; g++) {
    const base = x + ((<usize>g * <usize>G) << 2);
    // pass 1: absmax; x − x is NaN exactly for NaN and ±Inf
    // pmax (one maxps) instead of max (NaN-propagating, ~7 instructions in V8): the values are
    // |x| ≥ +0, and a group with a NaN returns below before vmax is used
    let vmax = f32x4.splat(0);
    let bad = i32x4.splat(0);
    for (let i = 0; i < G; i += 4) {
      const v = v128.load(base + (<usize>i << 2));
      const d = f32x4.sub(v, v);
      bad = v128.or(bad, f32x4.ne(d, d));
      vmax = f32x4.pmax(vmax, f32x4.abs(v));
    }
    if (v128.any_true(bad)) {
      for (let i = 0; i < G; i++) {
        const v = load<f32>(base + (<usize>i << 2));
        if (v - v != 0) return g * G + i;
      }
    }
    // the max in every lane, then s = f32(amax / 127) in every lane (the same float32 division)
    vmax = f32x4.pmax(vmax, v128.shuffle<f32>(vmax, vmax, 2, 3, 0, 1));
    vmax = f32x4.pmax(vmax, v128.shuffle<f32>(vmax, vmax, 1, 0, 3, 2));
    const vs = f32x4.div(vmax, f32x4.splat(127));
    const s: f32 = f32x4.extract_lane(vs, 0);
    v128.store(sx + (<usize>g << 4), f32x4.mul(vs, f32x4.splat(SCALE)));
    const out = xq + <usize>g * <usize>G * ACT_BYTES;
    let corr = i32x4.splat(0), tot = i32x4.splat(0);
    if (s > 0) {
      for (let b = 0; b < G; b += 32) {
        const p = base + (<usize>b << 2);
        const q0 = quant8(p, vs), q1 = quant8(p + 32, vs), q2 = quant8(p + 64, vs), q3 = quant8(p + 96, vs);
        storeBlock(q0, q1, q2, q3, out + <usize>b * ACT_BYTES);
        corr = i32x4.add(corr, i32x4.extadd_pairwise_i16x8_s(offsetCodes(q0, q1, q2, q3)));
        tot = i32x4.add(tot, i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.add(q0, q1), i16x8.add(q2, q3))));
      }
    } else {
      for (let b: usize = 0; b < <usize>G * ACT_BYTES; b += 16) v128.store(out + b, i16x8.splat(0));
    }
    storeGroupSums(corr, tot, xcorr + (<usize>g << 2), xsum + (<usize>g << 4));
  }
  return -1;
}

/**
 * The same activation layout, xcorr and xsum from int8 codes already quantized (Kp values at q8,
 * zero-padded): lets the host test the integer path with chosen codes, whichever the build.
 */
export function q4_act_from_int8(q8: usize, Kp: i32, G: i32, xq: usize, xcorr: usize, xsum: usize): void {
  const groups = Kp / G;
  for (let g = 0; g < groups; g++) {
    const base = q8 + <usize>g * <usize>G;
    const out = xq + <usize>g * <usize>G * ACT_BYTES;
    let corr = i32x4.splat(0), tot = i32x4.splat(0);
    for (let b = 0; b < G; b += 32) {
      const p = base + <usize>b;
      const q0 = v128.load8x8_s(p), q1 = v128.load8x8_s(p, 8), q2 = v128.load8x8_s(p, 16), q3 = v128.load8x8_s(p, 24);
      storeBlock(q0, q1, q2, q3, out + <usize>b * ACT_BYTES);
      corr = i32x4.add(corr, i32x4.extadd_pairwise_i16x8_s(offsetCodes(q0, q1, q2, q3)));
      tot = i32x4.add(tot, i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.add(q0, q1), i16x8.add(q2, q3))));
    }
    storeGroupSums(corr, tot, xcorr + (<usize>g << 2), xsum + (<usize>g << 4));
  }
}
