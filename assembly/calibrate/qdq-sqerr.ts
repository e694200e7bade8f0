// qdq-sqerr — fused quantize→dequantize squared error of runs, one (s, z) per run
// (docs/quantization.md eq. 26, 52; the objective of the MSE range search, eq. 27).
//
// CONTRACT
//   for g in [0, groups), group g the run x[starts[g] … starts[g+1]) of len_g elements:
//     out[g] += Σ_{i<len_g} (v − s·(clamp(nearest_even(v /f32 s) + z, qmin, qmax) − z))²,
//               v = x[starts[g] + i], s = scales[g], z = zps[g]
//   The Q/DQ value is computed exactly as ONNX QuantizeLinear→DequantizeLinear in float32 (true
//   f32 division, round half to even, saturation; the same ops as fake-quantize), so it is
//   bit-identical to the scalar twin. Accumulation: e = x − y and e² in float32, summed in float32
//   per lane over chunks of 128 elements (4 accumulators × 4 lanes × 8 terms, combined pairwise),
//   each chunk then promoted and added in float64; the tail (< 16 elements) in float64. Against
//   an exact sum the relative error is ≤ ~13·2⁻²⁴ ≈ 8e-7 (1 ulp in e, 1 in e², ≤ 10 in the
//   chunk sum; every term is ≥ 0 so there is no cancellation).
//   Per group: the first len_g & ~15 elements in the SIMD body, the rest in the float64 tail.
// LAYOUT     x: float32 (group-major); starts: int32[groups + 1], non-decreasing element offsets
//            from x; scales, zps: float32[groups] (zps hold integers); out: float64[groups],
//            added to (the host zeroes it).
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        not detected (input was checked by cal_minmax_rows_f32 when it was observed);
//            s must be finite and > 0 (the host guarantees it).

// @ts-ignore: decorator
@inline function err4(v: v128, S: v128, Z: v128, LO: v128, HI: v128): v128 {
  const q = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v, S)), Z), LO), HI);
  const e = f32x4.sub(v, f32x4.mul(f32x4.sub(q, Z), S));
  return f32x4.mul(e, e);
}

export function cal_qdq_sqerr_rows_f32(x: usize, groups: i32, starts: usize, scales: usize, zps: usize,
                                       qmin: f32, qmax: f32, out: usize): void {
  const LO = f32x4.splat(qmin), HI = f32x4.splat(qmax);
  for (let g = 0; g < groups; g++) {
    const first = load<i32>(starts + (<usize>g << 2));
    const len = load<i32>(starts + (<usize>g << 2), 4) - first;
    const body = len & ~15;
    const p0 = x + (<usize>first << 2);
    const s = load<f32>(scales + (<usize>g << 2)), z = load<f32>(zps + (<usize>g << 2));
    const S = f32x4.splat(s), Z = f32x4.splat(z);
    let acc = f64x2.splat(0);
    let i = 0;
    while (i < body) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      const end = min<i32>(body, i + 128);
      for (; i < end; i += 16) {
        const p = p0 + (<usize>i << 2);
        a0 = f32x4.add(a0, err4(v128.load(p), S, Z, LO, HI));
        a1 = f32x4.add(a1, err4(v128.load(p, 16), S, Z, LO, HI));
        a2 = f32x4.add(a2, err4(v128.load(p, 32), S, Z, LO, HI));
        a3 = f32x4.add(a3, err4(v128.load(p, 48), S, Z, LO, HI));
      }
      const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      acc = f64x2.add(acc, f64x2.promote_low_f32x4(a));
      acc = f64x2.add(acc, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
    }
    let t: f64 = 0;
    for (; i < len; i++) {
      const v = load<f32>(p0 + (<usize>i << 2));
      let r = nearest<f32>(v / s) + z;
      r = r < qmin ? qmin : r;
      r = r > qmax ? qmax : r;
      const e = <f64>v - <f64>((r - z) * s);
      t += e * e;
    }
    const o = out + (<usize>g << 3);
    store<f64>(o, load<f64>(o) + (f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1)) + t);
  }
}
