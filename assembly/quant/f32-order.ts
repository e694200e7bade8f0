// Float32 order as int32 order, for min/max scans (minmax, minmax-rows): the key of a float's bits
// b is b ^ ((b >> 31) >>> 1) — positive floats keep their bits, negative ones flip their 31
// magnitude bits — so signed int32 order on keys is the float order with −0 < +0 (wasm's
// f32x4.min / max semantics) and ±Inf at the ends. NaN keys fall outside ±Inf's; the scans
// detect NaN separately. The map is its own inverse. Why: V8 lowers f32x4.min / max to ~7
// instructions each (NaN and signed-zero fix-ups around vminps); i32x4.min_s / max_s are one.

/** Keys of four floats (as an i32x4). */
// @ts-ignore: decorator
@inline export function orderKeys(v: v128): v128 {
  return v128.xor(v, i32x4.shr_u(i32x4.shr_s(v, 31), 1));
}

/** Key of one float's bits; also the bits of a key. */
// @ts-ignore: decorator
@inline export function orderKey(b: i32): i32 {
  return b ^ ((b >> 31) >>> 1);
}

/** Key of +Inf (above every non-NaN key) and of −Inf (below every one): the empty range's start. */
export const KEY_POS_INF: i32 = 0x7f800000;
export const KEY_NEG_INF: i32 = 0x807fffff; // orderKey(0xff800000)

/** The least and the greatest lane of two key vectors. */
// @ts-ignore: decorator
@inline export function minLane(v: v128): i32 {
  return min<i32>(min<i32>(i32x4.extract_lane(v, 0), i32x4.extract_lane(v, 1)), min<i32>(i32x4.extract_lane(v, 2), i32x4.extract_lane(v, 3)));
}
// @ts-ignore: decorator
@inline export function maxLane(v: v128): i32 {
  return max<i32>(max<i32>(i32x4.extract_lane(v, 0), i32x4.extract_lane(v, 1)), max<i32>(i32x4.extract_lane(v, 2), i32x4.extract_lane(v, 3)));
}
