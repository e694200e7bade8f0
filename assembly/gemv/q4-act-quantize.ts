// q4-act-quantize — dynamic int8 quantization of one float32 activation vector for the W4A8
// kernels (q4-gemv-4x32-simd, q4-gemm-4x32-simd), one scale per group of G values (the weights'
// group size).
//
// CONTRACT (docs/quantization.md eq. 43)
//   for each group g of G consecutive k:
//     sx[g]   = f32(max_k |x[k]| / 127)                    (0 for an all-zero group)
//     q[k]    = round_half_even(f32(x[k] / sx[g])) ∈ [−127, 127]   (float32 division, as eq. 2)
//     xq[k]   = q[k] · m(k mod 32),  m = 1 for 0–7, 256 for 8–15, 16 for 16–23, 1 for 24–31
//               (the weight nibbles of k-offsets 8–15 and 16–23 are read as 16·u and 256·u:
//                the activation carries the missing factor so every product is 4096·w·x)
//     xcorr[g] = −8192·Σ_{k mod 32 ∈ 8..23} q[k]   (int32: −(8·4096·Σ)/4, the start value of every
//                accumulator lane, removing the +8 offset of those nibbles — eq. 41)
//     xsum[g]  = Σ_k q[k]                            (for asymmetric weights, eq. 40)
//   Rounding: f32(x/s) + 1.5·2^23 rounds half to even in float32 (|x/s| ≤ 127.5 ≪ 2^22) and its
//   bit pattern minus 0x4B400000 is the integer, so no float→int conversion is needed.
//   Returns −1, or the index of the first NaN/±Inf in x (then nothing from its group on is
//   written and the host throws).
// LAYOUT   x: Kp = ceil(K/G)·G float32, zero-padded by the host past K; xq: Kp int16;
//          xcorr: Kp/G int32 (4 B each); sx, xsum: Kp/G float32 each splatted to 4 lanes (16 B).
// ALIGNMENT any (16 B preferred). OVER-READ none. G: a multiple of 32.

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
    let vmax = f32x4.splat(0);
    let bad = i32x4.splat(0);
    for (let i = 0; i < G; i += 4) {
      const v = v128.load(base + (<usize>i << 2));
      const d = f32x4.sub(v, v);
      bad = v128.or(bad, f32x4.ne(d, d));
      vmax = f32x4.max(vmax, f32x4.abs(v));
    }
    if (v128.any_true(bad)) {
      for (let i = 0; i < G; i++) {
        const v = load<f32>(base + (<usize>i << 2));
        if (v - v != 0) return g * G + i;
      }
    }
    const amax = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
                     max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    const s: f32 = amax / 127;
    v128.store(sx + (<usize>g << 4), f32x4.splat(s));
    const out = xq + ((<usize>g * <usize>G) << 1);
    let mid = i32x4.splat(0), tot = i32x4.splat(0);
    if (s > 0) {
      const vs = f32x4.splat(s);
      for (let b = 0; b < G; b += 32) {
        const p = base + (<usize>b << 2), o = out + (<usize>b << 1);
        const q0 = quant8(p, vs), q1 = quant8(p + 32, vs), q2 = quant8(p + 64, vs), q3 = quant8(p + 96, vs);
        v128.store(o, q0);
        v128.store(o, i16x8.shl(q1, 8), 16);   // ×256
        v128.store(o, i16x8.shl(q2, 4), 32);   // ×16
        v128.store(o, q3, 48);
        const m = i16x8.add(q1, q2);
        mid = i32x4.add(mid, i32x4.extadd_pairwise_i16x8_s(m));
        tot = i32x4.add(tot, i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.add(q0, q3), m)));
      }
    } else {
      for (let b = 0; b < G; b += 8) v128.store(out + (<usize>b << 1), i16x8.splat(0));
    }
    const midSum = i32x4.extract_lane(mid, 0) + i32x4.extract_lane(mid, 1) + i32x4.extract_lane(mid, 2) + i32x4.extract_lane(mid, 3);
    const totSum = i32x4.extract_lane(tot, 0) + i32x4.extract_lane(tot, 1) + i32x4.extract_lane(tot, 2) + i32x4.extract_lane(tot, 3);
    store<i32>(xcorr + (<usize>g << 2), -midSum * 8192);
    v128.store(xsum + (<usize>g << 4), f32x4.splat(<f32>totSum));
  }
  return -1;
}
