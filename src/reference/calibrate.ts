/**
 * Scalar twins of the calibration kernels (assembly/calibrate/): the test oracle and the
 * benchmark baseline. Plain JS over typed arrays; never calls a kernel. Each function mirrors one
 * kernel's contract comment (docs/quantization.md eq. 22–26), including its float32 rounding, so
 * histograms and Q/DQ values agree bit for bit; only summation order differs in the squared error.
 */

const f = Math.fround;

/** Round half to even (ONNX QuantizeLinear). */
export function nearestEven(v: number): number {
  const fl = Math.floor(v);
  const d = v - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** One value through Q/DQ in float32 (eq. 26): s·(clamp(round(x/s) + z) − z). */
export function qdqValue(x: number, s: number, z: number, qmin: number, qmax: number): number {
  let r = nearestEven(f(x / s)) + z;
  r = r < qmin ? qmin : r > qmax ? qmax : r;
  return f((r - z) * s);
}

/** cal_permute_f32: dst[s][c][r][k] = src[s][r][c][k]. */
export function permuteRef(src: Float32Array, dst: Float32Array, slabs: number, rows: number, cols: number, run: number): void {
  const slab = rows * cols * run;
  for (let s = 0; s < slabs; s++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        for (let k = 0; k < run; k++) dst[s * slab + (c * rows + r) * run + k] = src[s * slab + (r * cols + c) * run + k]!;
      }
    }
  }
}

/** cal_minmax_rows_f32: folds each group's range into out (pairs min, max); first NaN index or −1. */
export function minmaxRowsRef(x: Float32Array, groups: number, len: number, out: Float32Array): number {
  for (let g = 0; g < groups; g++) {
    let mn = out[2 * g]!, mx = out[2 * g + 1]!;
    for (let i = 0; i < len; i++) {
      const v = x[g * len + i]!;
      if (v !== v) return g * len + i;
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    out[2 * g] = mn;
    out[2 * g + 1] = mx;
  }
  return -1;
}

/** The bin of one value (eq. 23), float32 arithmetic and saturating truncation as the kernel. */
export function binOf(v: number, lo: number, invw: number, nbins: number): number {
  const t = f(f(v - lo) * invw);
  let b = t !== t ? 0 : t >= 2147483647 ? 2147483647 : t <= -2147483648 ? -2147483648 : Math.trunc(t) + 0; // + 0: −0 → 0
  if (b < 0) b = 0;
  if (b > nbins - 1) b = nbins - 1;
  return b;
}

/** cal_histogram_rows_f32: counts[((g·nbins + b) << 2) | (i & 3)] += 1; zeros[g] += count of exact zeros. */
export function histogramRowsRef(x: Float32Array, groups: number, len: number, lo: Float32Array, invw: Float32Array,
                                 nbins: number, absolute: boolean, counts: Int32Array, zeros: Int32Array): void {
  for (let g = 0; g < groups; g++) {
    const l = lo[g]!, w = invw[g]!;
    for (let i = 0; i < len; i++) {
      let v = x[g * len + i]!;
      if (v === 0) zeros[g]! += 1;
      if (absolute) v = Math.abs(v);
      counts[((g * nbins + binOf(v, l, w, nbins)) << 2) | (i & 3)]! += 1;
    }
  }
}

/** cal_qdq_sqerr_rows_f32: out[g] += Σ (x − Q/DQ(x))², summed in float64. */
export function qdqSqerrRowsRef(x: Float32Array, groups: number, len: number, scales: Float32Array, zps: Float32Array,
                                qmin: number, qmax: number, out: Float64Array): void {
  for (let g = 0; g < groups; g++) {
    const s = scales[g]!, z = zps[g]!;
    let t = 0;
    for (let i = 0; i < len; i++) {
      const v = x[g * len + i]!;
      const e = v - qdqValue(v, s, z, qmin, qmax);
      t += e * e;
    }
    out[g]! += t;
  }
}

/** Q/DQ of a whole run with one (s, z): the scalar fake-quantize used by tests before/besides the public API. */
export function fakeQuantizeRunRef(x: Float32Array, s: number, z: number, qmin: number, qmax: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = qdqValue(x[i]!, s, z, qmin, qmax);
  return y;
}
