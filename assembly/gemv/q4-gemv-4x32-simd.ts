// q4-gemv-4x32-simd — W4A8 GEMV: packed int4 weights × per-group int8 activations → float32,
// 4 output rows per pass, 32 k per step (one 16-byte load per row yields 32 weights).
//
// CONTRACT
//   out[n] = Σ_g sx[g] · ( ws[n,g] · Σ_{k∈g} q[n,k]·xq[k]  −  wz[n,g] · Σ_{k∈g} xq[k] )
//                                                                 (docs/quantization.md eq. 30–32)
//   q[n,k] ∈ [−8, 7]: the weight nibble read as signed int4 (uint4 weights are stored as q−8 and
//   their zero point moves into wz, eq. 31); xq[k] ∈ [−127, 127]: int8 activations stored widened
//   to int16; sx[g]: the activation scale of group g; ws[n,g] = weight scale / 4096 (the nibble is
//   read in the top 4 bits of an int16 lane, i.e. multiplied by 4096, eq. 32); wz[n,g] = weight
//   scale · (zero point − 8) (asymmetric variant only); Σ xq per group is passed in xsum[g].
//
// PACKED LAYOUT (G = groupSize ∈ {32, 64, 128, 256}, Kp = K rounded up to G, Np = N rounded up to 4)
//   panel p (rows 4p..4p+3), group g, sub-block b < G/32, at p·PB + g·GB + b·64
//   (GB = 2·G + 16·(1 + asym), PB = (Kp/G)·GB):
//     +16r .. +16r+15  row 4p+r, k = g·G + 32b + (0..31), nibbles arranged by int16 lane:
//        int16 lane L (bytes 2L, 2L+1), bits 0–3: k-offset L, bits 4–7: 8+L, bits 8–11: 16+L,
//        bits 12–15: 24+L. So (lane << 12), (lane << 8) & 0xF000, (lane << 4) & 0xF000 and
//        lane & 0xF000 are the int16 values 4096·q for k-offsets 0–7, 8–15, 16–23, 24–31: each
//        lines up with 8 consecutive activations, and no shuffle is needed.
//   after the sub-blocks of group g: ws[4p..4p+3, g] as 4 float32 (16 B), then, asymmetric only,
//   wz[4p..4p+3, g] (16 B). Padding rows and columns hold zero nibbles and zero scales.
//   The kernel reads each panel as one sequential stream.
//
// ALIGNMENT  packed 64 B (allocator); xq 16 B; xs, xsum, out: 4 B.
// OVER-READ  none: xq must hold Kp int16 values (zero-padded), xs/xsum Kp/G floats.
// ACCUMULATOR int32 within a group: |4096·q·xq| ≤ 2^22, ≤ G products per row → ≤ 2^30 for G ≤ 256,
//            no overflow; float32 across groups.

// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/** Σ over 32 k of one row's nibbles × activations (4 int16 vectors), added into acc. */
// @ts-ignore: decorator
@inline function dotRow32(acc: v128, w: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const d0 = i32x4.dot_i16x8_s(i16x8.shl(w, 12), x0);                       // 4096·q0 · x
  const d1 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(0x00F0)), x1);       //   16·u1 · 256x
  const d2 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(0x0F00)), x2);       //  256·u2 · 16x
  const d3 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(<i16>0xF000)), x3);  // 4096·q3 · x
  return i32x4.add(acc, i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3)));
}

// @ts-ignore: decorator
@inline function gemvQ4(asym: bool, sums: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const subs = G >> 5;
  const groups = Kp / G;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    let acc = f32x4.splat(0);
    let xp = xq;
    for (let g: usize = 0; g < <usize>groups; g++) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let b = 0; b < subs; b++) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
        a0 = dotRow32(a0, v128.load(w), x0, x1, x2, x3);
        a1 = dotRow32(a1, v128.load(w, 16), x0, x1, x2, x3);
        a2 = dotRow32(a2, v128.load(w, 32), x0, x1, x2, x3);
        a3 = dotRow32(a3, v128.load(w, 48), x0, x1, x2, x3);
        w += 64;
        xp += 64;
      }
      // eq. 31: remove the offset-binary bias of the k-offsets 8–23, then scale
      const d = i32x4.sub(hsum4(a0, a1, a2, a3), i32x4.splat(load<i32>(xcorr + (g << 2))));
      if (sums) {
        // test variant: the exact int32 group sums 4096·Σ q·xq, panel-major [panel][group][4 rows]
        v128.store(out, d);
        out += 16;
        w += asym ? 32 : 16;
        continue;
      }
      let t = f32x4.mul(f32x4.convert_i32x4_s(d), v128.load(w));
      w += 16;
      if (asym) {
        t = f32x4.sub(t, f32x4.mul(v128.load(w), f32x4.splat(load<f32>(xsum + (g << 2)))));
        w += 16;
      }
      acc = f32x4.add(acc, f32x4.mul(t, f32x4.splat(load<f32>(xs + (g << 2)))));
    }
    if (sums) continue;
    const rows = N - row;
    if (rows >= 4) v128.store(out, acc);
    else {
      store<f32>(out, f32x4.extract_lane(acc, 0));
      if (rows > 1) store<f32>(out, f32x4.extract_lane(acc, 1), 4);
      if (rows > 2) store<f32>(out, f32x4.extract_lane(acc, 2), 8);
    }
    out += 16;
  }
}

/** Symmetric int4 weights (no zero point). xsum is not read. */
export function q4_gemv_4x32__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4(false, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/** Asymmetric uint4 weights with per-group zero points folded into wz. */
export function q4_gemv_4x32__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4(true, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/**
 * Test variant: instead of out[n], writes the exact int32 group sums 4096·Σ_{k∈g} q[n,k]·x[k]
 * (after the eq. 31 offset correction, before any scaling) as int32, panel-major:
 * out[((p·groups) + g)·4 + r] for row 4p + r. Lets tests check the integer part exactly.
 */
export function q4_gemv_4x32__groupsums(packed: usize, xq: usize, xcorr: usize, out: usize, N: i32, Kp: i32, G: i32, asym: bool): void {
  if (asym) gemvQ4(true, true, packed, xq, 0, xcorr, 0, out, N, Kp, G);
  else gemvQ4(false, true, packed, xq, 0, xcorr, 0, out, N, Kp, G);
}
