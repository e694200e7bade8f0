// histogram — per-group histogram accumulation over [lo, lo + nbins/invw) (docs/quantization.md eq. 23, 52).
//
// CONTRACT
//   for g in [0, groups), i in [0, len_g), group g the run x[starts[g] … starts[g+1]):
//     v = absolute ? |x[starts[g] + i]| : x[starts[g] + i]
//     b = clamp(trunc_f32((v −f32 lo[g]) ·f32 invw[g]), 0, nbins − 1)                       (eq. 23)
//     counts[((g·nbins + b) << 2) | (i & 3)] += 1
//     zeros[g] += (x[starts[g] + i] == 0)      (exact zeros, ±0: entropy calibration skips them)
//   Arithmetic is float32 (sub then mul, each rounded), truncation toward zero with saturation
//   (i32x4.trunc_sat_f32x4_s), so the scalar twin in src/reference/calibrate.ts reproduces every
//   bin index exactly. Values below lo land in bin 0, values at or above the top edge in bin
//   nbins − 1 (the host picks lo/invw so that only rounding at the edges can do that).
//   Four interleaved sub-histograms per group (one per SIMD lane / i mod 4) keep consecutive
//   increments of a peaked distribution off the same address (no store-to-load stalls); the
//   host sums the four copies. Counts are int32 and are only added to: the host zeroes them and
//   flushes them into float64 after each call, so one call must see < 2^31 elements per group.
// LAYOUT     x: float32 (group-major); starts: int32[groups + 1], non-decreasing element offsets
//            from x; lo, invw: float32[groups];
//            counts: int32[groups·nbins·4], bin-major then lane; zeros: int32[groups] (added to).
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        not detected here: the host runs cal_minmax_rows_f32 (which reports NaN) on the same
//            batch first and never calls this kernel on NaN input. (A NaN would count in bin 0.)

export function cal_histogram_rows_f32(x: usize, groups: i32, starts: usize, lo: usize, invw: usize,
                                       nbins: i32, absolute: i32, counts: usize, zeros: usize): void {
  const LANE = i32x4(0, 4, 8, 12);
  const ZERO = i32x4.splat(0), TOP = i32x4.splat(nbins - 1);
  const abs_ = absolute != 0;
  for (let g = 0; g < groups; g++) {
    const first = load<i32>(starts + (<usize>g << 2));
    const len = load<i32>(starts + (<usize>g << 2), 4) - first;
    const p0 = x + (<usize>first << 2);
    const l = load<f32>(lo + (<usize>g << 2)), w = load<f32>(invw + (<usize>g << 2));
    const L = f32x4.splat(l), W = f32x4.splat(w);
    const c0 = counts + ((<usize>g * <usize>nbins) << 4);
    let nz = i32x4.splat(0);
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      let v = v128.load(p0 + (<usize>i << 2));
      nz = i32x4.sub(nz, f32x4.eq(v, f32x4.splat(0)));
      if (abs_) v = f32x4.abs(v);
      let b = i32x4.trunc_sat_f32x4_s(f32x4.mul(f32x4.sub(v, L), W));
      b = i32x4.min_s(i32x4.max_s(b, ZERO), TOP);
      const a = i32x4.add(i32x4.shl(b, 4), LANE);
      const a0 = c0 + <usize>i32x4.extract_lane(a, 0);
      store<i32>(a0, load<i32>(a0) + 1);
      const a1 = c0 + <usize>i32x4.extract_lane(a, 1);
      store<i32>(a1, load<i32>(a1) + 1);
      const a2 = c0 + <usize>i32x4.extract_lane(a, 2);
      store<i32>(a2, load<i32>(a2) + 1);
      const a3 = c0 + <usize>i32x4.extract_lane(a, 3);
      store<i32>(a3, load<i32>(a3) + 1);
    }
    let zc = i32x4.extract_lane(nz, 0) + i32x4.extract_lane(nz, 1) + i32x4.extract_lane(nz, 2) + i32x4.extract_lane(nz, 3);
    for (; i < len; i++) {
      let v = load<f32>(p0 + (<usize>i << 2));
      if (v == 0) zc++;
      if (abs_) v = abs<f32>(v);
      let b = <i32>((v - l) * w); // i32.trunc_sat_f32_s (nontrapping-f2i is on by default)
      b = b < 0 ? 0 : b;
      b = b > nbins - 1 ? nbins - 1 : b;
      const a = c0 + ((<usize>b << 4) | ((<usize>i & 3) << 2));
      store<i32>(a, load<i32>(a) + 1);
    }
    const zp = zeros + (<usize>g << 2);
    store<i32>(zp, load<i32>(zp) + zc);
  }
}
