// minmax — the range of a float32 run, for DynamicQuantizeLinear and calibration (docs/quantization.md eq. 8).
//
// CONTRACT
//   out[0] = min_i x[i], out[1] = max_i x[i] (float32), with wasm's f32x4.min / f32x4.max
//   semantics: −0 < +0, so the answer does not depend on the visiting order. For n = 0 writes
//   +Inf, −Inf. ±Inf are ordinary values here (the host decides what an infinite range means).
// LAYOUT     x: float32[n]; out: float32[2].
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        returns the index of the first NaN, or −1; out is then unspecified.

export function minmax_f32(x: usize, n: i32, out: usize): i32 {
  let mn0 = f32x4.splat(Infinity), mx0 = f32x4.splat(-Infinity);
  let mn1 = mn0, mx1 = mx0;
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16);
    nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
    mn0 = f32x4.min(mn0, a); mx0 = f32x4.max(mx0, a);
    mn1 = f32x4.min(mn1, b); mx1 = f32x4.max(mx1, b);
  }
  if (v128.any_true(nan)) {
    for (let j = 0; j < i; j++) {
      const v = load<f32>(x + (<usize>j << 2));
      if (v != v) return j;
    }
  }
  mn0 = f32x4.min(mn0, mn1); mx0 = f32x4.max(mx0, mx1);
  let mn = min<f32>(min<f32>(f32x4.extract_lane(mn0, 0), f32x4.extract_lane(mn0, 1)),
                    min<f32>(f32x4.extract_lane(mn0, 2), f32x4.extract_lane(mn0, 3)));
  let mx = max<f32>(max<f32>(f32x4.extract_lane(mx0, 0), f32x4.extract_lane(mx0, 1)),
                    max<f32>(f32x4.extract_lane(mx0, 2), f32x4.extract_lane(mx0, 3)));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
    mn = min<f32>(mn, v);
    mx = max<f32>(mx, v);
  }
  store<f32>(out, mn);
  store<f32>(out, mx, 4);
  return -1;
}
