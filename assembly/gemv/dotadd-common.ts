// Helpers shared by the relaxed dot-add kernel families (i8-gemv/gemm-4x4-dotadd, q4-*-4x8-dotadd);
// all inlined. Only the dot-add build (build/intquant-dotadd.wasm) compiles these files.
//
// i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c): lane i = c[i] + Σ_{t<4} a[4i+t]·b[4i+t], a signed
// int8, b 7-bit (0..127; outside it the result is engine-defined). Every pair sum is
// |2·128·127| < 2^15, so no engine saturates an intermediate, and the add wraps mod 2^32: exact.
// V8 ≥ 12 lowers it to vpdpbusd on AVX-VNNI CPUs (one instruction for 16 multiply-adds; Node 24
// here) and to vpmaddubsw + vpmaddwd + vpaddd elsewhere (Node 22); V8 11.3's baseline tier
// (Node 20) miscompiles it, so the host uses this build only after a start-up self-test.

/** acc + Σ of 4 byte products per lane: a signed int8, b in 0..127 (see above). */
// @ts-ignore: decorator
@inline export function dotAdd(a: v128, b: v128, acc: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, acc);
}

/**
 * Split M tokens of int8/uint8 activations (token m at X + m·K, exactly K bytes read) into 7-bit
 * dot-add operands (docs/quantization.md eq. 45): for k-quad j (k = 4j .. 4j+3) of token m, the 8
 * bytes at xs + m·2·Kp + 8j hold lo = x & 0x7F for the four k, then hi = x >> 7 (0 or 1) for them;
 * 0 for k ≥ K. Then x = lo − 128·hi for int8 and x = lo + 128·hi for uint8 (two's complement).
 * Writes exactly 2·M·Kp bytes (Kp a multiple of 16).
 */
// @ts-ignore: decorator
@inline export function splitX7(X: usize, M: i32, K: i32, Kp: i32, xs: usize): void {
  const low7 = i8x16.splat(0x7F);
  for (let m = 0; m < M; m++) {
    const xr = X + <usize>m * <usize>K;
    let d = xs + <usize>m * (<usize>Kp << 1);
    let k = 0;
    for (; k + 16 <= K; k += 16) {
      const v = v128.load(xr + <usize>k);
      const lo = v128.and(v, low7), hi = i8x16.shr_u(v, 7);
      v128.store(d, v128.shuffle<i32>(lo, hi, 0, 4, 1, 5));
      v128.store(d, v128.shuffle<i32>(lo, hi, 2, 6, 3, 7), 16);
      d += 32;
    }
    for (; k < Kp; k += 4) {
      let lo: u32 = 0, hi: u32 = 0;
      for (let t = 0; t < 4; t++) {
        if (k + t < K) {
          const v = <u32>load<u8>(xr + <usize>(k + t));
          lo |= (v & 0x7F) << (8 * t);
          hi |= (v >> 7) << (8 * t);
        }
      }
      store<u32>(d, lo);
      store<u32>(d, hi, 4);
      d += 8;
    }
  }
}

/** The int32 sums from the lo and hi accumulators (eq. 45): lo − 128·hi (int8 x) or lo + 128·hi (uint8 x). */
// @ts-ignore: decorator
@inline export function joinX7(signed: bool, lo: v128, hi: v128): v128 {
  return signed ? i32x4.sub(lo, i32x4.shl(hi, 7)) : i32x4.add(lo, i32x4.shl(hi, 7));
}

/**
 * The unsigned-operand form (used only where the start-up self-test shows the engine computes the
 * dot-add's second operand as unsigned 8-bit, as vpdpbusd does): each token's activations as
 * uint8 operands, token m at xs + m·Kp: x ^ 0x80 = x + 128 for int8 x (the host folds −128·Σ_k P
 * into the bias it passes, eq. 45'), x as it is for uint8 x; 0 for k ≥ K. Writes exactly M·Kp bytes.
 */
// @ts-ignore: decorator
@inline export function offsetX8(signed: bool, X: usize, M: i32, K: i32, Kp: i32, xs: usize): void {
  const flip = i8x16.splat(signed ? <i8>0x80 : 0);
  for (let m = 0; m < M; m++) {
    const xr = X + <usize>m * <usize>K;
    const d = xs + <usize>m * <usize>Kp;
    let k = 0;
    for (; k + 16 <= K; k += 16) v128.store(d + <usize>k, v128.xor(v128.load(xr + <usize>k), flip));
    for (; k < K; k++) store<u8>(d + <usize>k, load<u8>(xr + <usize>k) ^ (signed ? 0x80 : 0));
    for (; k < Kp; k++) store<u8>(d + <usize>k, 0);
  }
}
