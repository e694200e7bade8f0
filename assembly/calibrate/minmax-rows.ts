// minmax-rows — running min/max of many runs (docs/quantization.md eq. 22, 52).
//
// CONTRACT
//   for g in [0, groups), with group g the run x[starts[g] … starts[g+1]) (len_g ≥ 0 elements;
//   a ragged last block is a shorter run):
//     out[2g]   = min(out[2g],   min_i x[starts[g] + i])
//     out[2g+1] = max(out[2g+1], max_i x[starts[g] + i])
//   i.e. the kernel folds one batch into a running range; the host seeds out with +Inf, −Inf.
//   wasm f32x4.min / f32x4.max semantics: −0 < +0, so the answer is independent of visiting
//   order. ±Inf are ordinary values (the host decides what an infinite range means).
// LAYOUT     x: float32 (group-major: each group's elements contiguous); starts: int32[groups + 1],
//            non-decreasing element offsets from x; out: float32[2·groups], pairs (min, max).
// ALIGNMENT  none required (V8 emits unaligned-capable loads).
// OVER-READ  none.
// NaN        returns the flat index (into x) of the first NaN, or −1. When a NaN is found, out is
//            unspecified (partially updated); the host throws NaNInputError and discards it.

import { KEY_NEG_INF, KEY_POS_INF, maxLane, minLane, orderKey, orderKeys } from '../quant/f32-order';

// @ts-ignore: decorator
@inline function firstNaN(x: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
  }
  return -1;
}

export function cal_minmax_rows_f32(x: usize, groups: i32, starts: usize, out: usize): i32 {
  for (let g = 0; g < groups; g++) {
    const first = load<i32>(starts + (<usize>g << 2));
    const len = load<i32>(starts + (<usize>g << 2), 4) - first;
    const p0 = x + (<usize>first << 2);
    // the scan runs on order keys (quant/f32-order.ts): one integer min and max per vector
    let mn0 = i32x4.splat(KEY_POS_INF), mx0 = i32x4.splat(KEY_NEG_INF);
    let mn1 = mn0, mx1 = mx0;
    let nan = i32x4.splat(0);
    let i = 0;
    for (; i + 8 <= len; i += 8) {
      const p = p0 + (<usize>i << 2);
      const a = v128.load(p), b = v128.load(p, 16);
      nan = v128.or(nan, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
      const ka = orderKeys(a), kb = orderKeys(b);
      mn0 = i32x4.min_s(mn0, ka); mx0 = i32x4.max_s(mx0, ka);
      mn1 = i32x4.min_s(mn1, kb); mx1 = i32x4.max_s(mx1, kb);
    }
    if (v128.any_true(nan)) return first + firstNaN(p0, i);
    let mn = minLane(i32x4.min_s(mn0, mn1)), mx = maxLane(i32x4.max_s(mx0, mx1));
    for (; i < len; i++) {
      const v = load<f32>(p0 + (<usize>i << 2));
      if (v != v) return first + i;
      const k = orderKey(reinterpret<i32>(v));
      mn = min<i32>(mn, k);
      mx = max<i32>(mx, k);
    }
    const o = out + (<usize>g << 3);
    store<f32>(o, min<f32>(load<f32>(o), reinterpret<f32>(orderKey(mn))));
    store<f32>(o, max<f32>(load<f32>(o, 4), reinterpret<f32>(orderKey(mx))), 4);
  }
  return -1;
}
