// Helpers shared by the packed-int4 kernel families (q4-gemv, q4-gemm); all inlined.
// The nibble layout and the meaning of every term are in q4-gemv-4x32-simd.ts's contract.

/** Σ over 32 k of one row's nibbles × activations (4 int16 vectors), added into acc. */
// @ts-ignore: decorator
@inline export function dotRow32(acc: v128, w: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const d0 = i32x4.dot_i16x8_s(i16x8.shl(w, 12), x0);                       // 4096·q0 · x
  const d1 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(0x00F0)), x1);       //   16·u1 · 256x
  const d2 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(0x0F00)), x2);       //  256·u2 · 16x
  const d3 = i32x4.dot_i16x8_s(v128.and(w, i16x8.splat(<i16>0xF000)), x3);  // 4096·q3 · x
  return i32x4.add(acc, i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3)));
}

// @ts-ignore: decorator
@inline export function finishGroup(asym: bool, sums: bool, d: v128, w: usize, xs: usize, xsum: usize, acc: v128, out: usize): v128 {
  if (sums) { v128.store(out, d); return acc; }
  let t = f32x4.mul(f32x4.convert_i32x4_s(d), v128.load(w));
  if (asym) t = f32x4.sub(t, f32x4.mul(v128.load(w, 16), v128.load(xsum)));
  return f32x4.add(acc, f32x4.mul(t, v128.load(xs)));
}


/** Unpack one row's 32-k block into its four int16 vectors (as dotRow32 reads them), stored at dst. */
// @ts-ignore: decorator
@inline export function unpackRow32(w: v128, dst: usize): void {
  v128.store(dst, i16x8.shl(w, 12));
  v128.store(dst, v128.and(w, i16x8.splat(0x00F0)), 16);
  v128.store(dst, v128.and(w, i16x8.splat(0x0F00)), 32);
  v128.store(dst, v128.and(w, i16x8.splat(<i16>0xF000)), 48);
}

/** Store the first `rows` (≥ 1) float lanes of v at out: never writes past out[rows − 1]. */
// @ts-ignore: decorator
@inline export function storeRowsF32(out: usize, v: v128, rows: i32): void {
  if (rows >= 4) { v128.store(out, v); return; }
  store<f32>(out, f32x4.extract_lane(v, 0));
  if (rows > 1) store<f32>(out, f32x4.extract_lane(v, 1), 4);
  if (rows > 2) store<f32>(out, f32x4.extract_lane(v, 2), 8);
}
