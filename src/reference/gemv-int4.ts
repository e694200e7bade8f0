/**
 * Scalar JS twins of the packed-int4 kernels (docs/quantization.md eq. 40–44): the test oracle
 * and the benchmark baseline. Plain loops over one-value-per-element arrays; shares no code with
 * the kernels or their packing.
 *
 * Weights are given as `q` (N×K, signed int4 values −8..7, or unsigned 0..15 with zero points),
 * `scales` (N × groups float32) and optional `zeroPoints` (N × groups, unsigned only).
 */
import { roundHalfEven } from './quant.js';

export interface RefInt4Weights {
  q: Int8Array | Uint8Array;
  N: number;
  K: number;
  groupSize: number;
  scales: Float32Array;
  zeroPoints?: Uint8Array;
}

const groupsOf = (K: number, G: number) => Math.ceil(K / G);


/** Per-group dynamic int8 activation quantization (eq. 43): q = roundHalfEven(f32(x / f32(amax/127))). */
export function refActQuantize(x: Float32Array, G: number): { q: Int8Array; scales: Float32Array } {
  const K = x.length;
  const groups = groupsOf(K, G);
  const q = new Int8Array(K);
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let amax = 0;
    for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) amax = Math.max(amax, Math.abs(x[k]!));
    const s = Math.fround(amax / 127);
    scales[g] = s;
    if (s > 0) for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) q[k] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(x[k]! / s))));
  }
  return { q, scales };
}

/** The signed weight value w − z of element (n, k) (z = 0 for signed weights). */
function wv(w: RefInt4Weights, n: number, k: number): number {
  const g = Math.floor(k / w.groupSize);
  const z = w.zeroPoints ? w.zeroPoints[n * groupsOf(w.K, w.groupSize) + g]! : 0;
  return w.q[n * w.K + k]! - z;
}

/** Exact int32 group sums Σ_{k∈g} (q[n,k] − 8·unsigned)·xq[k] in the kernel's signed domain (eq. 41), N × groups. */
export function refInt4GroupSums(w: RefInt4Weights, xq: Int8Array): Int32Array {
  const groups = groupsOf(w.K, w.groupSize);
  const out = new Int32Array(w.N * groups);
  const shift = w.q instanceof Uint8Array ? 8 : 0;
  for (let n = 0; n < w.N; n++) {
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let k = g * w.groupSize; k < Math.min(w.K, (g + 1) * w.groupSize); k++) s += (w.q[n * w.K + k]! - shift) * xq[k]!;
      out[n * groups + g] = s;
    }
  }
  return out;
}

/** W4A8 (eq. 40): y[n] = Σ_g sx[g]·s[n,g]·Σ_{k∈g} (q − z)·xq, in double. */
export function refInt4GemvW4A8(w: RefInt4Weights, x: Float32Array): Float64Array {
  const { q: xq, scales: sx } = refActQuantize(x, w.groupSize);
  const groups = groupsOf(w.K, w.groupSize);
  const y = new Float64Array(w.N);
  for (let n = 0; n < w.N; n++) {
    let acc = 0;
    for (let g = 0; g < groups; g++) {
      let d = 0;
      for (let k = g * w.groupSize; k < Math.min(w.K, (g + 1) * w.groupSize); k++) d += wv(w, n, k) * xq[k]!;
      acc += sx[g]! * w.scales[n * groups + g]! * d;
    }
    y[n] = acc;
  }
  return y;
}

/** Weight-only (eq. 44): y[n] = Σ_k s[n,g(k)]·(q − z)·x[k] in double — the exact float product. */
export function refInt4GemvW4A32(w: RefInt4Weights, x: Float32Array): Float64Array {
  const groups = groupsOf(w.K, w.groupSize);
  const y = new Float64Array(w.N);
  for (let n = 0; n < w.N; n++) {
    let acc = 0;
    for (let k = 0; k < w.K; k++) acc += w.scales[n * groups + Math.floor(k / w.groupSize)]! * wv(w, n, k) * x[k]!;
    y[n] = acc;
  }
  return y;
}

/** Σ_k |s·(q − z)·x| per row: the scale against which float rounding error is judged. */
export function refInt4AbsProduct(w: RefInt4Weights, x: Float32Array): Float64Array {
  const groups = groupsOf(w.K, w.groupSize);
  const y = new Float64Array(w.N);
  for (let n = 0; n < w.N; n++) {
    let acc = 0;
    for (let k = 0; k < w.K; k++) acc += Math.abs(w.scales[n * groups + Math.floor(k / w.groupSize)]! * wv(w, n, k) * x[k]!);
    y[n] = acc;
  }
  return y;
}
