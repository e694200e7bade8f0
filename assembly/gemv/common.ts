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

/** out[m, n] −= wz·Σ_k X[m,k] for M tokens (rows ldo bytes apart): the GEMMs' weight-zero-point pass (eq. 13). */
// @ts-ignore: decorator
@inline export function addWz<X>(X: usize, out: usize, ldo: usize, M: i32, N: i32, K: i32, wz: i32): void {
  let xr = X, o = out;
  for (let m = 0; m < M; m++) {
    const corr = -wz * sumX<X>(xr, K);
    for (let n = 0; n < N; n++) store<i32>(o + (<usize>n << 2), load<i32>(o + (<usize>n << 2)) + corr);
    xr += <usize>K;
    o += ldo;
  }
}

/**
 * Widen M tokens of activations (row m at X + m·K, int8 or uint8 per X) to the int16 pairs the
 * rows-in-lanes kernels broadcast: k-pair j (k = 2j, 2j+1) of token m is one int32 word
 * x[2j] | x[2j+1] << 16 (each int16, 0 for k ≥ K), stored token-minor in groups of 4 tokens:
 *   group g (tokens 4g .. 4g+R−1, R = min(4, M − 4g)) starts at xw + g·8·Kp,
 *   k-pair j of token 4g + t at  + j·4R + 4t.
 * So one tile of R tokens reads one contiguous 4R-byte run per k-pair; M = 1 is a plain
 * [j] array. Writes exactly 2·M·Kp bytes; reads exactly M·K bytes of X (no over-read).
 */
// @ts-ignore: decorator
@inline export function widenX<X>(X: usize, M: i32, K: i32, Kp: i32, xw: usize): void {
  const groupBytes = <usize>Kp << 3;
  for (let m = 0; m < M; m++) {
    const stride = <usize>min(4, M - (m & ~3)) << 2;
    const xr = X + <usize>m * <usize>K;
    let d = xw + <usize>(m >> 2) * groupBytes + (<usize>(m & 3) << 2);
    let k = 0;
    if (stride == 4) {
      for (; k + 8 <= K; k += 8) {
        v128.store(d, isSigned<X>() ? v128.load8x8_s(xr + <usize>k) : v128.load8x8_u(xr + <usize>k));
        d += 16;
      }
    } else {
      for (; k + 8 <= K; k += 8) {
        const v = isSigned<X>() ? v128.load8x8_s(xr + <usize>k) : v128.load8x8_u(xr + <usize>k);
        v128.store32_lane(d, v, 0); d += stride;
        v128.store32_lane(d, v, 1); d += stride;
        v128.store32_lane(d, v, 2); d += stride;
        v128.store32_lane(d, v, 3); d += stride;
      }
    }
    for (; k < Kp; k += 2) {
      let a = 0, b = 0;
      if (k < K) a = isSigned<X>() ? <i32>load<i8>(xr + <usize>k) : <i32>load<u8>(xr + <usize>k);
      if (k + 1 < K) b = isSigned<X>() ? <i32>load<i8>(xr + <usize>k + 1) : <i32>load<u8>(xr + <usize>k + 1);
      store<i32>(d, (a & 0xFFFF) | (b << 16));
      d += stride;
    }
  }
}

/**
 * One 4-row panel (rows-in-lanes layout, 8 bytes per k-pair) against one widened activation
 * vector (M = 1 layout of widenX): [Σ_k P[r,k]·x[k] for r < 4] over np = Kp/2 k-pairs
 * (np a multiple of 4). Four k-pairs per step into four accumulators.
 */
// @ts-ignore: decorator
@inline export function panel4x2(w: usize, xw: usize, np: i32): v128 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const end = w + (<usize>np << 3);
  while (w < end) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w), v128.load32_splat(xw)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), v128.load32_splat(xw, 4)));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), v128.load32_splat(xw, 8)));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), v128.load32_splat(xw, 12)));
    w += 32;
    xw += 16;
  }
  return i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
}

/**
 * 1 token × 4 consecutive panels (rows-in-lanes layout), 2 k-pairs per step: the GEMV's main
 * loop and the GEMM's last token when M % 4 = 1. Writes out[o .. o + 12 + rows3) as int32:
 * the sums + bias' (4 vectors at bias) + corr. x: int16 pairs as widenX leaves them for one token.
 */
// @ts-ignore: decorator
@inline export function tile4x1(w0: usize, pb: usize, x: usize, np: i32, o: usize, bias: usize, corr: v128, rows3: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  const pb2 = pb << 1, pb3 = pb * 3;
  let w = w0;
  const end = w0 + (<usize>np << 3);
  while (w < end) {
    const x0 = v128.load32_splat(x), x1 = v128.load32_splat(x, 4);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w), x0));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb), x0));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb2), x0));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb3), x0));
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), x1));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb, 8), x1));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb2, 8), x1));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load8x8_s(w + pb3, 8), x1));
    w += 16;
    x += 8;
  }
  v128.store(o, i32x4.add(i32x4.add(a0, v128.load(bias)), corr));
  v128.store(o, i32x4.add(i32x4.add(a1, v128.load(bias, 16)), corr), 16);
  v128.store(o, i32x4.add(i32x4.add(a2, v128.load(bias, 32)), corr), 32);
  storeRows(o + 48, i32x4.add(i32x4.add(a3, v128.load(bias, 48)), corr), rows3);
}
