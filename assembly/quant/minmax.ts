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

import { KEY_NEG_INF, KEY_POS_INF, maxLane, minLane, orderKey, orderKeys } from './f32-order';

export function minmax_f32(x: usize, n: i32, out: usize): i32 {
  // the scan runs on order keys (f32-order.ts): one integer min and max per vector
  let mn0 = i32x4.splat(KEY_POS_INF), mx0 = i32x4.splat(KEY_NEG_INF);
  let mn1 = mn0, mx1 = mx0;
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16);
    nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
    const ka = orderKeys(a), kb = orderKeys(b);
    mn0 = i32x4.min_s(mn0, ka); mx0 = i32x4.max_s(mx0, ka);
    mn1 = i32x4.min_s(mn1, kb); mx1 = i32x4.max_s(mx1, kb);
  }
  if (v128.any_true(nan)) {
    for (let j = 0; j < i; j++) {
      const v = load<f32>(x + (<usize>j << 2));
      if (v != v) return j;
    }
  }
  let mn = minLane(i32x4.min_s(mn0, mn1)), mx = maxLane(i32x4.max_s(mx0, mx1));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
    const k = orderKey(reinterpret<i32>(v));
    mn = min<i32>(mn, k);
    mx = max<i32>(mx, k);
  }
  store<i32>(out, orderKey(mn));
  store<i32>(out, orderKey(mx), 4);
  return -1;
}
