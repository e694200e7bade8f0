// q4-act-quantize — dynamic int8 quantization of one float32 activation vector for the W4A8
// kernel (q4-gemv-4x32-simd), one scale per group of G values (the weights' group size).
//
// CONTRACT (docs/quantization.md eq. 43)
//   for each group g of G consecutive k (the last group zero-padded to G):
//     sx[g]   = max_k |x[k]| / 127                       (0 for an all-zero group)
//     q[k]    = round_half_even(x[k] / sx[g])  ∈ [−127, 127]   (float32 division, as eq. 2)
//     xq[k]   = q[k] · m(k mod 32),  m = 1 for 0–7, 256 for 8–15, 16 for 16–23, 1 for 24–31
//               (the weight nibbles of k-offsets 8–15 and 16–23 are read as 16·u and 256·u:
//                the activation carries the missing factor so every product is 4096·w·x)
//     xcorr[g] = −8·4096·Σ_{k mod 32 ∈ 8..23} q[k] / 4   (int32; every accumulator lane starts
//                from it, removing the +8 offset of those nibbles — see q4-gemv-4x32-simd)
//     xsum[g]  = Σ_k q[k]                              (for asymmetric weights, eq. 41)
//   Returns −1, or the index of the first NaN in x (then groups from its group on are not
//   written and the host throws). ±Inf makes its group's scale Inf; the host rejects it first.
// LAYOUT   x: K float32; xq: Kp = ceil(K/G)·G int16 (written in full, padding zeros);
//          xcorr: Kp/G int32 (4 B each); sx, xsum: Kp/G float32 each splatted to 4 lanes (16 B).
// ALIGNMENT any. OVER-READ none (the tail is read element by element). G: multiple of 32.

// @ts-ignore: decorator
@inline function mult(j: i32): i32 {
  return j < 8 ? 1 : j < 16 ? 256 : j < 24 ? 16 : 1;
}

export function q4_act_quantize(x: usize, K: i32, G: i32, xq: usize, sx: usize, xcorr: usize, xsum: usize): i32 {
  const groups = (K + G - 1) / G;
  for (let g = 0; g < groups; g++) {
    const k0 = g * G;
    const k1 = min(K, k0 + G);
    // pass 1: absmax (SIMD over whole vectors, scalar tail); NaN check
    let vmax = f32x4.splat(0);
    let nanMask = i32x4.splat(0);
    let k = k0;
    for (; k + 4 <= k1; k += 4) {
      const v = v128.load(x + (<usize>k << 2));
      nanMask = v128.or(nanMask, f32x4.ne(v, v));
      vmax = f32x4.max(vmax, f32x4.abs(v));
    }
    let amax = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
                   max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; k < k1; k++) {
      const v = load<f32>(x + (<usize>k << 2));
      if (v != v) nanMask = i32x4.splat(-1);
      amax = max(amax, abs(v));
    }
    if (v128.any_true(nanMask)) {
      for (let i = k0; i < k1; i++) {
        const v = load<f32>(x + (<usize>i << 2));
        if (v != v) return i; // nothing past this group is written: the host throws
      }
    }
    const s: f32 = amax / 127;
    v128.store(sx + (<usize>g << 4), f32x4.splat(s));
    // pass 2: quantize, scale by position, sums
    let corr: i32 = 0, sum: i32 = 0;
    for (let i = k0; i < k0 + G; i++) {
      let q: i32 = 0;
      if (i < k1 && s > 0) {
        q = <i32>nearest<f32>(load<f32>(x + (<usize>i << 2)) / s);
        q = max(-127, min(127, q));
      }
      const j = i & 31;
      store<i16>(xq + (<usize>i << 1), <i16>(q * mult(j)));
      sum += q;
      if (j >= 8 && j < 24) corr += q;
    }
    store<i32>(xcorr + (<usize>g << 2), -corr * 8192);
    v128.store(xsum + (<usize>g << 4), f32x4.splat(<f32>sum));
  }
  return -1;
}
