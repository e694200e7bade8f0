// quantize — float32 → integer storage, one value per element (docs/quantization.md eq. 2, 4, 50–51).
//
// CONTRACT
//   q[i] = clamp(nearest_even(x[i] / s) + z, qmin, qmax)                         (eq. 2)
//   The quotient is a true float32 division (f32x4.div / f32.div), rounded half to even
//   (f32x4.nearest), the zero point added in float and the sum clamped in float to [qmin, qmax]
//   BEFORE conversion, so ±Inf and huge quotients saturate without integer overflow. The SIMD
//   body clamps x/s to the integers [qmin − z, qmax − z] (clamping commutes with rounding to
//   integers) and rounds half to even with the 1.5·2^23 magic-number addition, which also yields
//   the integer bits (see toInt); the scalar tail uses nearest + i32.trunc_sat_f32_s. Every value
//   converted is an integer in [qmin, qmax], so the narrowing is exact. −0 gives z. Subnormal x and s are
//   used as they are (wasm never flushes). The caller guarantees s finite and > 0, z an integer
//   in [qmin, qmax], and passes z, qmin, qmax as float32.
//   Entry points, by storage type T ∈ {i8, u8, i16, u16} (int4/int2 use i8/u8 with their qmin/qmax):
//     quantize_f32_T(x, q, n, s, z, qmin, qmax)                one scale for the run
//     quantize_f32_T_blocks(x, q, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax)
//         x is rows × rowLen; each row is cut into ⌈rowLen/blockLen⌉ blocks of blockLen, the
//         last one shorter when blockLen does not divide rowLen; the b-th block counted over
//         all rows in order uses scales[b mod nScales], zps[b mod nScales]      (eq. 4, 50, 51:
//         per-axis with inner > 1: rowLen = blockLen = inner, nScales = axis dim; blocked
//         along the last axis: rowLen = D, blockLen = B, one scale per block)
//     quantize_f32_T_cols(x, q, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax)
//         the rows come in slices of sliceRows; inside a slice, rows are grouped by groupRows
//         (the last group of a slice shorter when groupRows does not divide sliceRows);
//         element (r, c) uses scales[t·cols + c], t the running index of r's group  (eq. 4, 50, 51:
//         per-axis on the last axis: groupRows = sliceRows = rows; blocked with inner > 1:
//         rows = outer·D, groupRows = B, sliceRows = D, so t = o·⌈D/B⌉ + ⌊d/B⌋)
//     scales and zps are float32 arrays; 1 ≤ blockLen ≤ rowLen and groupRows ≥ 1 (the host
//     passes min(B, D), so a block longer than the axis is one block of D).
// LAYOUT     x: float32[n], q: T[n], both contiguous, row-major.
// ALIGNMENT  none required (unaligned-capable loads and stores).
// OVER-READ  none: the SIMD loop stops at the last full 16 elements, a scalar loop does the tail.
// NaN        detected, never mapped: each entry returns the index of the first NaN in x, or −1.
//            When it returns ≥ 0 the output is unspecified (the host throws NaNInputError).

// Narrow four i32x4 (integers in [qmin, qmax]) to T and store 16 of them. In range, so the
// saturating narrows are exact.
// @ts-ignore: decorator
@inline function store16<T>(q: usize, ia: v128, ib: v128, ic: v128, id: v128): void {
  if (sizeof<T>() == 1) {
    const lo = i16x8.narrow_i32x4_s(ia, ib);
    const hi = i16x8.narrow_i32x4_s(ic, id);
    if (isSigned<T>()) v128.store(q, i8x16.narrow_i16x8_s(lo, hi));
    else v128.store(q, i8x16.narrow_i16x8_u(lo, hi));
  } else {
    if (isSigned<T>()) {
      v128.store(q, i16x8.narrow_i32x4_s(ia, ib));
      v128.store(q, i16x8.narrow_i32x4_s(ic, id), 16);
    } else {
      v128.store(q, i16x8.narrow_i32x4_u(ia, ib));
      v128.store(q, i16x8.narrow_i32x4_u(ic, id), 16);
    }
  }
}

// Round-and-convert with the 1.5·2^23 "magic number": for |c| ≤ 2^22, c + 12582912 lands in
// [2^23, 2^24) where the float32 spacing is 1, so the addition itself rounds c half to even
// (12582912 is even), and the low mantissa bits are the integer: bits − 0x4B400000 = rhe(c).
// Clamping to the integers [qmin − z, qmax − z] commutes with rounding, so clamp first; then
// bits − (0x4B400000 − z) = rhe(c) + z. This replaces f32x4.nearest + i32x4.trunc_sat_f32x4_s,
// which V8 lowers to a long sequence. Exact: tested bit for bit against the reference.
// @ts-ignore: decorator
@inline export function toInt(qf: v128, LO: v128, HI: v128, MAGIC: v128, BIAS: v128): v128 {
  return i32x4.sub(f32x4.add(f32x4.pmin(f32x4.pmax(qf, LO), HI), MAGIC), BIAS);
}

// @ts-ignore: decorator
@inline function quantOne(v: f32, s: f32, z: f32, qmin: f32, qmax: f32): i32 {
  let r = nearest<f32>(v / s) + z;
  r = r < qmin ? qmin : r;             // NaN never gets here as a result anyone reads
  r = r > qmax ? qmax : r;
  return <i32>r;                       // i32.trunc_sat_f32_s (nontrapping-f2i is on by default)
}

// @ts-ignore: decorator
@inline function firstNaN(x: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
  }
  return -1;
}

// One run of n elements with one (s, z). Returns the first NaN index or −1.
// @ts-ignore: decorator
@inline function quantRun<T>(x: usize, q: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 {
  const S = f32x4.splat(s), LO = f32x4.splat(qmin - z), HI = f32x4.splat(qmax - z);
  const MAGIC = f32x4.splat(12582912.0), BIAS = i32x4.splat(0x4B400000 - <i32>z);
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = f32x4.div(v128.load(p), S);
    const b = f32x4.div(v128.load(p, 16), S);
    const c = f32x4.div(v128.load(p, 32), S);
    const d = f32x4.div(v128.load(p, 48), S);
    nan = v128.or(nan, v128.or(v128.or(f32x4.ne(a, a), f32x4.ne(b, b)), v128.or(f32x4.ne(c, c), f32x4.ne(d, d))));
    store16<T>(q + (<usize>i * sizeof<T>()),
      toInt(a, LO, HI, MAGIC, BIAS), toInt(b, LO, HI, MAGIC, BIAS), toInt(c, LO, HI, MAGIC, BIAS), toInt(d, LO, HI, MAGIC, BIAS));
  }
  if (v128.any_true(nan)) return firstNaN(x, i);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
    store<T>(q + (<usize>i * sizeof<T>()), <T>quantOne(v, s, z, qmin, qmax));
  }
  return -1;
}

// @ts-ignore: decorator
@inline function quantBlocks<T>(x: usize, q: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize,
                                nScales: i32, qmin: f32, qmax: f32): i32 {
  let j = 0;
  for (let r = 0; r < rows; r++) {
    const rowOff = <usize>r * <usize>rowLen;
    for (let b = 0; b < rowLen; b += blockLen) {
      const off = rowOff + <usize>b;
      const res = quantRun<T>(x + (off << 2), q + off * sizeof<T>(), min<i32>(blockLen, rowLen - b),
        load<f32>(scales + (<usize>j << 2)), load<f32>(zps + (<usize>j << 2)), qmin, qmax);
      if (res >= 0) return <i32>off + res;
      if (++j == nScales) j = 0;
    }
  }
  return -1;
}

// @ts-ignore: decorator
@inline function quantCols<T>(x: usize, q: usize, rows: i32, cols: i32, scales: usize, zps: usize,
                              groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 {
  const LO = f32x4.splat(qmin), HI = f32x4.splat(qmax);
  const MAGIC = f32x4.splat(12582912.0), MB = i32x4.splat(0x4B400000);
  let nan = i32x4.splat(0);
  let g = 0, d = 0;
  let sRow = scales, zRow = zps;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>cols) << 2);
    const qr = q + <usize>r * <usize>cols * sizeof<T>();
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      const p = xr + (<usize>c << 2), ps = sRow + (<usize>c << 2), pz = zRow + (<usize>c << 2);
      let a = f32x4.div(v128.load(p), v128.load(ps));
      let b = f32x4.div(v128.load(p, 16), v128.load(ps, 16));
      let e = f32x4.div(v128.load(p, 32), v128.load(ps, 32));
      let d = f32x4.div(v128.load(p, 48), v128.load(ps, 48));
      nan = v128.or(nan, v128.or(v128.or(f32x4.ne(a, a), f32x4.ne(b, b)), v128.or(f32x4.ne(e, e), f32x4.ne(d, d))));
      a = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(a), v128.load(pz)), LO), HI);
      b = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(b), v128.load(pz, 16)), LO), HI);
      e = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(e), v128.load(pz, 32)), LO), HI);
      d = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(d), v128.load(pz, 48)), LO), HI);
      // a…d are integers in [qmin, qmax]; + 1.5·2^23 puts them in the low mantissa bits
      store16<T>(qr + (<usize>c * sizeof<T>()),
        i32x4.sub(f32x4.add(a, MAGIC), MB), i32x4.sub(f32x4.add(b, MAGIC), MB),
        i32x4.sub(f32x4.add(e, MAGIC), MB), i32x4.sub(f32x4.add(d, MAGIC), MB));
    }
    for (; c < cols; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      if (v != v) return firstNaN(x, rows * cols); // an earlier row's SIMD part may hold the first
      store<T>(qr + (<usize>c * sizeof<T>()),
        <T>quantOne(v, load<f32>(sRow + (<usize>c << 2)), load<f32>(zRow + (<usize>c << 2)), qmin, qmax));
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
  if (v128.any_true(nan)) return firstNaN(x, rows * cols);
  return -1;
}

export function quantize_f32_i8(x: usize, q: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 { return quantRun<i8>(x, q, n, s, z, qmin, qmax); }
export function quantize_f32_u8(x: usize, q: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 { return quantRun<u8>(x, q, n, s, z, qmin, qmax); }
export function quantize_f32_i16(x: usize, q: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 { return quantRun<i16>(x, q, n, s, z, qmin, qmax); }
export function quantize_f32_u16(x: usize, q: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 { return quantRun<u16>(x, q, n, s, z, qmin, qmax); }

export function quantize_f32_i8_blocks(x: usize, q: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32, qmin: f32, qmax: f32): i32 { return quantBlocks<i8>(x, q, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax); }
export function quantize_f32_u8_blocks(x: usize, q: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32, qmin: f32, qmax: f32): i32 { return quantBlocks<u8>(x, q, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax); }
export function quantize_f32_i16_blocks(x: usize, q: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32, qmin: f32, qmax: f32): i32 { return quantBlocks<i16>(x, q, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax); }
export function quantize_f32_u16_blocks(x: usize, q: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize, nScales: i32, qmin: f32, qmax: f32): i32 { return quantBlocks<u16>(x, q, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax); }

export function quantize_f32_i8_cols(x: usize, q: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 { return quantCols<i8>(x, q, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax); }
export function quantize_f32_u8_cols(x: usize, q: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 { return quantCols<u8>(x, q, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax); }
export function quantize_f32_i16_cols(x: usize, q: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 { return quantCols<i16>(x, q, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax); }
export function quantize_f32_u16_cols(x: usize, q: usize, rows: i32, cols: i32, scales: usize, zps: usize, groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 { return quantCols<u16>(x, q, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax); }
