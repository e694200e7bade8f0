// Helpers shared by the int8 GEMV/GEMM kernel families in this folder (all inlined).

/** [Σa0, Σa1, Σa2, Σa3]: the horizontal sums of four i32x4 accumulators, as one vector. */
// @ts-ignore: decorator
@inline export function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/** Store the first `rows` (≥ 1) lanes of v at out: never writes past out[rows − 1]. */
// @ts-ignore: decorator
@inline export function storeRows(out: usize, v: v128, rows: i32): void {
  if (rows >= 4) { v128.store(out, v); return; }
  store<i32>(out, i32x4.extract_lane(v, 0));
  if (rows > 1) store<i32>(out, i32x4.extract_lane(v, 1), 4);
  if (rows > 2) store<i32>(out, i32x4.extract_lane(v, 2), 8);
}

/** Σ x[0..K−1] (int8 or uint8 per X), wrapping int32. Reads exactly K bytes. */
// @ts-ignore: decorator
@inline export function sumX<X>(x: usize, K: i32): i32 {
  let acc = i32x4.splat(0);
  const ones = i16x8.splat(1);
  let k = 0;
  for (; k + 8 <= K; k += 8) {
    const v = isSigned<X>() ? v128.load8x8_s(x + <usize>k) : v128.load8x8_u(x + <usize>k);
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(v, ones));
  }
  let s = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; k < K; k++) s += isSigned<X>() ? <i32>load<i8>(x + <usize>k) : <i32>load<u8>(x + <usize>k);
  return s;
}

/**
 * One 4-row panel against one activation vector: [Σ_k P[r,k]·x[k] for r < 4], k < Kp.
 * P layout: 64-byte blocks of 4 rows × 16 k (see i8-gemv-4x16-simd.ts).
 */
// @ts-ignore: decorator
@inline export function panel4x16<X>(w: usize, x: usize, Kp: i32): v128 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const end = x + <usize>Kp;
  while (x < end) {
    let xl: v128, xh: v128;
    if (isSigned<X>()) { xl = v128.load8x8_s(x); xh = v128.load8x8_s(x, 8); }
    else { xl = v128.load8x8_u(x); xh = v128.load8x8_u(x, 8); }
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w), xl));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), xl));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w, 32), xl));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w, 48), xl));
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), xh));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), xh));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w, 40), xh));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w, 56), xh));
    w += 64;
    x += 16;
  }
  return hsum4(a0, a1, a2, a3);
}
