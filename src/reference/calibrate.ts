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

/** cal_permute_blocks_f32: x as [outer, dim, inner]; each [L_j, inner] tile of block j (L_j = min(B, dim − j·B)) transposed where it stands. */
export function permuteBlocksRef(src: Float32Array, dst: Float32Array, outer: number, dim: number, inner: number, blockSize: number): void {
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j * blockSize < dim; j++) {
      const L = Math.min(blockSize, dim - j * blockSize), base = (a * dim + j * blockSize) * inner;
      for (let k = 0; k < L; k++) for (let i = 0; i < inner; i++) dst[base + i * L + k] = src[base + k * inner + i]!;
    }
  }
}

/** cal_minmax_rows_f32: folds group g = x[starts[g] … starts[g+1]) into out (pairs min, max); first NaN index or −1. */
export function minmaxRowsRef(x: Float32Array, groups: number, starts: Int32Array, out: Float32Array): number {
  for (let g = 0; g < groups; g++) {
    let mn = out[2 * g]!, mx = out[2 * g + 1]!;
    for (let i = starts[g]!; i < starts[g + 1]!; i++) {
      const v = x[i]!;
      if (v !== v) return i;
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

/** cal_histogram_rows_f32: counts[((g·nbins + b) << 2) | (i & 3)] += 1 for element i of group g; zeros[g] += count of exact zeros. */
export function histogramRowsRef(x: Float32Array, groups: number, starts: Int32Array, lo: Float32Array, invw: Float32Array,
                                 nbins: number, absolute: boolean, counts: Int32Array, zeros: Int32Array): void {
  for (let g = 0; g < groups; g++) {
    const l = lo[g]!, w = invw[g]!;
    for (let i = 0, first = starts[g]!, len = starts[g + 1]! - first; i < len; i++) {
      let v = x[first + i]!;
      if (v === 0) zeros[g]! += 1;
      if (absolute) v = Math.abs(v);
      counts[((g * nbins + binOf(v, l, w, nbins)) << 2) | (i & 3)]! += 1;
    }
  }
}

/** cal_qdq_sqerr_rows_f32, summed plainly in float64 (the benchmark baseline; equal to the kernel within ≈ 13·2⁻²⁴ relative). */
export function qdqSqerrRowsRef(x: Float32Array, groups: number, starts: Int32Array, scales: Float32Array, zps: Float32Array,
                                qmin: number, qmax: number, out: Float64Array): void {
  for (let g = 0; g < groups; g++) {
    const s = scales[g]!, z = zps[g]!;
    let t = 0;
    for (let i = starts[g]!; i < starts[g + 1]!; i++) {
      const v = x[i]!;
      const e = v - qdqValue(v, s, z, qmin, qmax);
      t += e * e;
    }
    out[g]! += t;
  }
}

/**
 * cal_qdq_sqerr_rows_f32 bit for bit: the kernel contract's summation order spelled out. Per
 * group, the first len & ~15 elements go to four float32 accumulators of four lanes (element
 * i + 4m + l into accumulator m, lane l), restarted every 128 elements; each chunk's lanes are
 * combined pairwise in float32 and added to two float64 lanes (lanes 0 and 2 to the first, 1 and
 * 3 to the second); the remaining elements are summed in float64; out[g] = (out[g] + (acc0 + acc1)) + tail.
 */
export function qdqSqerrRowsExactRef(x: Float32Array, groups: number, starts: Int32Array, scales: Float32Array, zps: Float32Array,
                                     qmin: number, qmax: number, out: Float64Array): void {
  const sq = (v: number, s: number, z: number): number => { // (v − Q/DQ(v))² in float32 arithmetic
    let q = f(nearestEven(f(v / s)) + z);
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    const e = f(v - f(f(q - z) * s));
    return f(e * e);
  };
  for (let g = 0; g < groups; g++) {
    const s = scales[g]!, z = zps[g]!, first = starts[g]!, len = starts[g + 1]! - first, body = len & ~15;
    let acc0 = 0, acc1 = 0, i = 0;
    while (i < body) {
      const a = [0, 0, 0, 0].map(() => [0, 0, 0, 0]);
      for (const end = Math.min(body, i + 128); i < end; i += 16) {
        for (let m = 0; m < 4; m++) for (let l = 0; l < 4; l++) a[m]![l] = f(a[m]![l]! + sq(x[first + i + 4 * m + l]!, s, z));
      }
      const lane = (l: number) => f(f(a[0]![l]! + a[1]![l]!) + f(a[2]![l]! + a[3]![l]!));
      acc0 += lane(0); acc1 += lane(1);
      acc0 += lane(2); acc1 += lane(3);
    }
    let t = 0;
    for (; i < len; i++) {
      const v = x[first + i]!;
      const e = v - qdqValue(v, s, z, qmin, qmax);
      t += e * e;
    }
    out[g] = (out[g]! + (acc0 + acc1)) + t;
  }
}

/** Q/DQ of a whole run with one (s, z): the scalar fake-quantize used by tests before/besides the public API. */
export function fakeQuantizeRunRef(x: Float32Array, s: number, z: number, qmin: number, qmax: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = qdqValue(x[i]!, s, z, qmin, qmax);
  return y;
}
