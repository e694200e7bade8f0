/**
 * The benchmark baselines for int4 GEMV: what a careful JS programmer writes without SIMD —
 * plain loops over one int4 value per Int8Array element, integer sums per group, one float
 * multiply per group. (The oracle for tests is src/reference/gemv-int4.ts, in double.)
 */

/** W4A8: y[n] = Σ_g sx[g]·s[n,g]·Σ_{k∈g} q[n,k]·xq[k]. */
export function scalarW4A8Gemv(q: Int8Array, scales: Float32Array, xq: Int8Array, sx: Float32Array, N: number, K: number, G: number, y: Float32Array): void {
  const groups = Math.ceil(K / G);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    const row = n * K;
    for (let g = 0; g < groups; g++) {
      let s = 0;
      const end = Math.min(K, (g + 1) * G);
      for (let k = g * G; k < end; k++) s += q[row + k]! * xq[k]!;
      acc += sx[g]! * scales[n * groups + g]! * s;
    }
    y[n] = acc;
  }
}

/** Weight-only: y[n] = Σ_g s[n,g]·Σ_{k∈g} q[n,k]·x[k] in float. */
export function scalarW4A32Gemv(q: Int8Array, scales: Float32Array, x: Float32Array, N: number, K: number, G: number, y: Float32Array): void {
  const groups = Math.ceil(K / G);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    const row = n * K;
    for (let g = 0; g < groups; g++) {
      let s = 0;
      const end = Math.min(K, (g + 1) * G);
      for (let k = g * G; k < end; k++) s += q[row + k]! * x[k]!;
      acc += scales[n * groups + g]! * s;
    }
    y[n] = acc;
  }
}
