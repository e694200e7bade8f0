// range — validation of integer input: the first element outside [lo, hi] (docs/quantization.md eq. 1).
//
// CONTRACT
//   first_outside_i8(q, n, lo, hi): the smallest i with q[i] ∉ [lo, hi] (q read as int8), or −1.
//   first_outside_u8(q, n, lo, hi): the same with q read as uint8.
//   Used by the host before dequantizing or packing sub-byte types (int4/uint4/int2/uint2 are held
//   one per byte, and a byte outside the type's grid is a caller error, not data).
// LAYOUT     q: bytes[n].  ALIGNMENT none.  OVER-READ none.  NaN: not applicable.

// @ts-ignore: decorator
@inline function firstOutside<T>(q: usize, n: i32, lo: i32, hi: i32): i32 {
  const LO = i8x16.splat(<i8>lo), HI = i8x16.splat(<i8>hi);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const v = v128.load(q + <usize>i);
    let bad: v128;
    if (isSigned<T>()) bad = v128.or(i8x16.lt_s(v, LO), i8x16.gt_s(v, HI));
    else bad = v128.or(i8x16.lt_u(v, LO), i8x16.gt_u(v, HI));
    if (v128.any_true(bad)) return i + ctz(i8x16.bitmask(bad));
  }
  for (; i < n; i++) {
    const v = <i32>load<T>(q + <usize>i);
    if (v < lo || v > hi) return i;
  }
  return -1;
}

export function first_outside_i8(q: usize, n: i32, lo: i32, hi: i32): i32 { return firstOutside<i8>(q, n, lo, hi); }
export function first_outside_u8(q: usize, n: i32, lo: i32, hi: i32): i32 { return firstOutside<u8>(q, n, lo, hi); }
