// fake-quantize — float32 → float32 through the integer grid, fused (docs/quantization.md eq. 5, 4, 50–51).
//
// CONTRACT
//   y[i] = (clamp(nearest_even(x[i] / s) + z, qmin, qmax) − z) · s                    (eq. 5)
//   bit-identical to dequantize(quantize(x)) (eq. 2 then eq. 3): the clamped value is an integer
//   held exactly in float32, so skipping the integer round trip changes nothing. Same division,
//   rounding and saturation as quantize.ts; ±Inf saturate to s·(qmin − z) or s·(qmax − z) (eq. 6).
//   Entry points:
//     fake_quantize_f32(x, y, n, s, z, qmin, qmax)
//     fake_quantize_f32_blocks(x, y, rows, rowLen, blockLen, scales, zps, nScales, qmin, qmax)   (eq. 4, 50, 51)
//     fake_quantize_f32_cols(x, y, rows, cols, scales, zps, groupRows, sliceRows, qmin, qmax)   (eq. 4, 50, 51)
//   with the same indexing as quantize_f32_T_blocks / _cols (ragged last blocks and groups included).
// LAYOUT     x, y: float32[n]; y may equal x (in place), not otherwise overlap it.
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        each entry returns the index of the first NaN in x, or −1 (output then unspecified).

// @ts-ignore: decorator
@inline function fq4(v: v128, S: v128, Z: v128, LO: v128, HI: v128): v128 {
  const q = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v, S)), Z), LO), HI);
  return f32x4.mul(f32x4.sub(q, Z), S);
}

// @ts-ignore: decorator
@inline function fqOne(v: f32, s: f32, z: f32, qmin: f32, qmax: f32): f32 {
  let r = nearest<f32>(v / s) + z;
  r = r < qmin ? qmin : r;
  r = r > qmax ? qmax : r;
  return (r - z) * s;
}

// @ts-ignore: decorator
@inline function firstNaN(x: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
  }
  return -1;
}

// @ts-ignore: decorator
@inline function nanMask(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.or(v128.or(f32x4.ne(a, a), f32x4.ne(b, b)), v128.or(f32x4.ne(c, c), f32x4.ne(d, d)));
}

// @ts-ignore: decorator
@inline function fqRun(x: usize, y: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 {
  const S = f32x4.splat(s), Z = f32x4.splat(z), LO = f32x4.splat(qmin), HI = f32x4.splat(qmax);
  let nan = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2), o = y + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    nan = v128.or(nan, nanMask(a, b, c, d));
    v128.store(o, fq4(a, S, Z, LO, HI));
    v128.store(o, fq4(b, S, Z, LO, HI), 16);
    v128.store(o, fq4(c, S, Z, LO, HI), 32);
    v128.store(o, fq4(d, S, Z, LO, HI), 48);
  }
  if (v128.any_true(nan)) return firstNaN(x, i);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v != v) return i;
    store<f32>(y + (<usize>i << 2), fqOne(v, s, z, qmin, qmax));
  }
  return -1;
}

export function fake_quantize_f32(x: usize, y: usize, n: i32, s: f32, z: f32, qmin: f32, qmax: f32): i32 {
  return fqRun(x, y, n, s, z, qmin, qmax);
}

export function fake_quantize_f32_blocks(x: usize, y: usize, rows: i32, rowLen: i32, blockLen: i32, scales: usize, zps: usize,
                                         nScales: i32, qmin: f32, qmax: f32): i32 {
  let j = 0;
  for (let r = 0; r < rows; r++) {
    const rowOff = <usize>r * <usize>rowLen;
    for (let b = 0; b < rowLen; b += blockLen) {
      const off = rowOff + <usize>b;
      const res = fqRun(x + (off << 2), y + (off << 2), min<i32>(blockLen, rowLen - b),
        load<f32>(scales + (<usize>j << 2)), load<f32>(zps + (<usize>j << 2)), qmin, qmax);
      if (res >= 0) return <i32>off + res;
      if (++j == nScales) j = 0;
    }
  }
  return -1;
}

export function fake_quantize_f32_cols(x: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize,
                                       groupRows: i32, sliceRows: i32, qmin: f32, qmax: f32): i32 {
  const LO = f32x4.splat(qmin), HI = f32x4.splat(qmax);
  let nan = i32x4.splat(0);
  let g = 0, d = 0;
  let sRow = scales, zRow = zps;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>cols) << 2), yr = y + ((<usize>r * <usize>cols) << 2);
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      const o = <usize>c << 2;
      const p = xr + o, ps = sRow + o, pz = zRow + o, py = yr + o;
      const a = v128.load(p), b = v128.load(p, 16), e = v128.load(p, 32), d = v128.load(p, 48);
      nan = v128.or(nan, nanMask(a, b, e, d));
      v128.store(py, fq4(a, v128.load(ps), v128.load(pz), LO, HI));
      v128.store(py, fq4(b, v128.load(ps, 16), v128.load(pz, 16), LO, HI), 16);
      v128.store(py, fq4(e, v128.load(ps, 32), v128.load(pz, 32), LO, HI), 32);
      v128.store(py, fq4(d, v128.load(ps, 48), v128.load(pz, 48), LO, HI), 48);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const v = load<f32>(xr + o);
      if (v != v) return firstNaN(x, rows * cols);
      store<f32>(yr + o, fqOne(v, load<f32>(sRow + o), load<f32>(zRow + o), qmin, qmax));
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
