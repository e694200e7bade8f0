// dequantize — integer storage → float32 (docs/quantization.md eq. 3, 4, 50–51).
//
// CONTRACT
//   y[i] = (q[i] − z) · s                                                        (eq. 3)
//   q − z is exact in float32 (both are integers with |·| ≤ 65535), so the only rounding is the
//   one float32 multiplication, exactly as ONNX DequantizeLinear computes it. The caller passes
//   s (finite, > 0) and z as float32.
//   Entry points, by storage type T ∈ {i8, u8, i16, u16}:
//     dequantize_T_f32(q, y, n, s, z)                                       one scale for the run
//     dequantize_T_f32_blocks(q, y, rows, rowLen, blockLen, scales, zps, nScales)
//     dequantize_T_f32_cols(q, y, rows, cols, scales, zps, groupRows, sliceRows)
//         the same indexing as quantize_f32_T_blocks / _cols (ragged last blocks and groups
//         included; eq. 4, 50, 51). scales and zps are float32 arrays.
// LAYOUT     q: T[n], y: float32[n], contiguous, row-major.
// ALIGNMENT  none required.
// OVER-READ  none: the SIMD loop stops at the last full 16 elements, a scalar loop does the tail.
// NaN        not applicable (integer input). Any bit pattern of T is accepted; range checks of
//            sub-byte types are the host's job (see range.ts).

// Load 16 values of T at q as four f32x4 and write (v − Z)·S for each to y.
// @ts-ignore: decorator
@inline function deq16<T>(q: usize, y: usize, S: v128, Z: v128, S1: v128, Z1: v128, S2: v128, Z2: v128, S3: v128, Z3: v128): void {
  let a: v128, b: v128, c: v128, d: v128;
  if (sizeof<T>() == 1) {
    const v = v128.load(q);
    let lo: v128, hi: v128;
    if (isSigned<T>()) { lo = i16x8.extend_low_i8x16_s(v); hi = i16x8.extend_high_i8x16_s(v); }
    else { lo = i16x8.extend_low_i8x16_u(v); hi = i16x8.extend_high_i8x16_u(v); }
    // after the first widening every lane fits in i16 with its sign, so the second widening is signed
    a = i32x4.extend_low_i16x8_s(lo); b = i32x4.extend_high_i16x8_s(lo);
    c = i32x4.extend_low_i16x8_s(hi); d = i32x4.extend_high_i16x8_s(hi);
  } else {
    const lo = v128.load(q), hi = v128.load(q, 16);
    if (isSigned<T>()) {
      a = i32x4.extend_low_i16x8_s(lo); b = i32x4.extend_high_i16x8_s(lo);
      c = i32x4.extend_low_i16x8_s(hi); d = i32x4.extend_high_i16x8_s(hi);
    } else {
      a = i32x4.extend_low_i16x8_u(lo); b = i32x4.extend_high_i16x8_u(lo);
      c = i32x4.extend_low_i16x8_u(hi); d = i32x4.extend_high_i16x8_u(hi);
    }
  }
  v128.store(y, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(a), Z), S));
  v128.store(y, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(b), Z1), S1), 16);
  v128.store(y, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(c), Z2), S2), 32);
  v128.store(y, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_s(d), Z3), S3), 48);
}

// @ts-ignore: decorator
@inline function deqRun<T>(q: usize, y: usize, n: i32, s: f32, z: f32): void {
  const S = f32x4.splat(s), Z = f32x4.splat(z);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    deq16<T>(q + <usize>i * sizeof<T>(), y + (<usize>i << 2), S, Z, S, Z, S, Z, S, Z);
  }
  for (; i < n; i++) {
    store<f32>(y + (<usize>i << 2), (<f32>load<T>(q + <usize>i * sizeof<T>()) - z) * s);
  }
}

// @ts-ignore: decorator
@inline function deqBlocks<T>(q: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32): void {
  let j = 0;
  for (let r = 0; r < rows; r++) {
    const rowOff = <usize>r * <usize>rowLen;
    for (let b = 0; b < rowLen; b += blockLen) {
      const off = rowOff + <usize>b;
      deqRun<T>(q + off * sizeof<T>(), y + (off << 2), min<i32>(blockLen, rowLen - b),
        load<f32>(scales + (<usize>j << 2)), load<f32>(zps + (<usize>j << 2)));
      if (++j == nScales) j = 0;
    }
  }
}

// @ts-ignore: decorator
@inline function deqCols<T>(q: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32): void {
  let g = 0, d = 0;
  let sRow = scales, zRow = zps;
  for (let r = 0; r < rows; r++) {
    const qr = q + <usize>r * <usize>cols * sizeof<T>();
    const yr = y + ((<usize>r * <usize>cols) << 2);
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      const ps = sRow + (<usize>c << 2), pz = zRow + (<usize>c << 2);
      deq16<T>(qr + <usize>c * sizeof<T>(), yr + (<usize>c << 2),
        v128.load(ps), v128.load(pz), v128.load(ps, 16), v128.load(pz, 16),
        v128.load(ps, 32), v128.load(pz, 32), v128.load(ps, 48), v128.load(pz, 48));
    }
    for (; c < cols; c++) {
      store<f32>(yr + (<usize>c << 2),
        (<f32>load<T>(qr + <usize>c * sizeof<T>()) - load<f32>(zRow + (<usize>c << 2))) * load<f32>(sRow + (<usize>c << 2)));
    }
    // the next scale row starts with the next group, or with the next slice (after a short last group)
    d++; g++;
    if (d == sliceRows || g == groupRows) {
      if (d == sliceRows) d = 0;
      g = 0;
      sRow += <usize>cols << 2;
      zRow += <usize>cols << 2;
    }
  }
}

export function dequantize_i8_f32(q: usize, y: usize, n: i32, s: f32, z: f32): void { deqRun<i8>(q, y, n, s, z); }
export function dequantize_u8_f32(q: usize, y: usize, n: i32, s: f32, z: f32): void { deqRun<u8>(q, y, n, s, z); }
export function dequantize_i16_f32(q: usize, y: usize, n: i32, s: f32, z: f32): void { deqRun<i16>(q, y, n, s, z); }
export function dequantize_u16_f32(q: usize, y: usize, n: i32, s: f32, z: f32): void { deqRun<u16>(q, y, n, s, z); }

export function dequantize_i8_f32_blocks(q: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32): void { deqBlocks<i8>(q, y, rows, rowLen, blockLen, scales, zps, nScales); }
export function dequantize_u8_f32_blocks(q: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32): void { deqBlocks<u8>(q, y, rows, rowLen, blockLen, scales, zps, nScales); }
export function dequantize_i16_f32_blocks(q: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32): void { deqBlocks<i16>(q, y, rows, rowLen, blockLen, scales, zps, nScales); }
export function dequantize_u16_f32_blocks(q: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32): void { deqBlocks<u16>(q, y, rows, rowLen, blockLen, scales, zps, nScales); }

export function dequantize_i8_f32_cols(q: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32): void { deqCols<i8>(q, y, rows, cols, scales, zps, groupRows, sliceRows); }
export function dequantize_u8_f32_cols(q: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32): void { deqCols<u8>(q, y, rows, cols, scales, zps, groupRows, sliceRows); }
export function dequantize_i16_f32_cols(q: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32): void { deqCols<i16>(q, y, rows, cols, scales, zps, groupRows, sliceRows); }
export function dequantize_u16_f32_cols(q: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32): void { deqCols<u16>(q, y, rows, cols, scales, zps, groupRows, sliceRows); }
