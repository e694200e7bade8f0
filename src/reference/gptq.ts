/**
 * Textbook GPTQ (Frantar et al. 2022, Algorithm 1 without lazy batches), the test oracle for
 * src/calibrate/gptq.ts: H⁻¹ formed explicitly from a plain Cholesky, its upper Cholesky factor U,
 * then every column's error (w̃_i − ŵ_i)/U_ii subtracted from all later columns at once, in
 * float64. Shares no code with the blocked implementation or its kernel (the group fit and the
 * code of one value are the same functions: they are not what is under test).
 */
import { codeInt4Value, fitInt4Group, type Int4Method } from '../calibrate/int4-groups.js';

/** Lower Cholesky factor of a K×K SPD matrix (row-major), unblocked; throws if not positive definite. */
export function refCholeskyLower(A: Float64Array, K: number): Float64Array {
  const L = new Float64Array(K * K);
  for (let j = 0; j < K; j++) {
    let d = A[j * K + j]!;
    for (let k = 0; k < j; k++) d -= L[j * K + k]! ** 2;
    if (!(d > 0)) throw new Error(`not positive definite at ${j}`);
    L[j * K + j] = Math.sqrt(d);
    for (let i = j + 1; i < K; i++) {
      let v = A[i * K + j]!;
      for (let k = 0; k < j; k++) v -= L[i * K + k]! * L[j * K + k]!;
      L[i * K + j] = v / L[j * K + j]!;
    }
  }
  return L;
}

/** H⁻¹ of an SPD matrix through its Cholesky factor: H⁻¹ = L⁻ᵀ·L⁻¹. */
export function refSpdInverse(H: Float64Array, K: number): Float64Array {
  const L = refCholeskyLower(H, K);
  const Li = new Float64Array(K * K); // L⁻¹, lower, by forward substitution per column
  for (let c = 0; c < K; c++) {
    for (let i = c; i < K; i++) {
      let v = i === c ? 1 : 0;
      for (let k = c; k < i; k++) v -= L[i * K + k]! * Li[k * K + c]!;
      Li[i * K + c] = v / L[i * K + i]!;
    }
  }
  const inv = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
    let s = 0;
    for (let k = Math.max(i, j); k < K; k++) s += Li[k * K + i]! * Li[k * K + j]!;
    inv[i * K + j] = s;
  }
  return inv;
}

export interface RefGptqOptions { bits: 4 | 8; groupSize: number; symmetric: boolean; actOrder: boolean; dampening: number; groupMethod: Int4Method }

export function refGptq(w: Float32Array, N: number, K: number, X: Float32Array, o: RefGptqOptions): { q: Int8Array | Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array } {
  const M = X.length / K;
  const H = new Float64Array(K * K);
  for (let m = 0; m < M; m++) for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) H[a * K + b] += (2 / M) * X[m * K + a]! * X[m * K + b]!;
  let tr = 0;
  for (let k = 0; k < K; k++) { if (H[k * K + k] === 0) H[k * K + k] = 1; tr += H[k * K + k]!; }
  for (let k = 0; k < K; k++) H[k * K + k] += o.dampening * tr / K;
  const perm = Array.from({ length: K }, (_, k) => k);
  if (o.actOrder) perm.sort((a, b) => H[b * K + b]! - H[a * K + a]! || a - b); // λ shifts every diagonal alike
  const pos = new Int32Array(K);
  perm.forEach((c, i) => { pos[c] = i; });
  const Hp = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) Hp[i * K + j] = H[perm[i]! * K + perm[j]!]!;
  const Lu = refCholeskyLower(refSpdInverse(Hp, K), K); // H⁻¹ = Lu·Luᵀ, so U = Luᵀ
  const U = (i: number, j: number) => Lu[j * K + i]!;
  const Wp = new Float64Array(N * K);
  for (let n = 0; n < N; n++) for (let i = 0; i < K; i++) Wp[n * K + i] = w[n * K + perm[i]!]!;
  const G = o.bits === 4 ? o.groupSize : K, groups = Math.ceil(K / G);
  const signed = o.bits === 8 || o.symmetric;
  const scales = new Float32Array(N * groups), zps = signed ? undefined : new Uint8Array(N * groups);
  const fitted = new Uint8Array(groups);
  const q = signed ? new Int8Array(N * K) : new Uint8Array(N * K);
  if (o.bits === 8) {
    for (let n = 0; n < N; n++) { let a = 0; for (let k = 0; k < K; k++) a = Math.max(a, Math.abs(w[n * K + k]!)); scales[n] = Math.fround(a / 127); }
    fitted[0] = 1;
  }
  if (o.bits === 4 && o.actOrder) {
    for (let n = 0; n < N; n++) for (let g = 0; g < groups; g++) {
      const p = fitInt4Group(w, n * K + g * G, Math.min(G, K - g * G), signed, o.groupMethod);
      scales[n * groups + g] = p.s;
      if (zps) zps[n * groups + g] = p.z;
    }
    fitted.fill(1);
  }
  const buf = new Float32Array(G);
  for (let i = 0; i < K; i++) {
    const c = perm[i]!, g = Math.floor(c / G);
    if (!fitted[g]) {
      fitted[g] = 1;
      const len = Math.min(G, K - g * G);
      for (let n = 0; n < N; n++) {
        for (let t = 0; t < len; t++) buf[t] = Wp[n * K + pos[g * G + t]!]!;
        const p = fitInt4Group(buf, 0, len, signed, o.groupMethod);
        scales[n * groups + g] = p.s;
        if (zps) zps[n * groups + g] = p.z;
      }
    }
    for (let n = 0; n < N; n++) {
      const j = n * groups + g, s = scales[j]!, z = zps ? zps[j]! : 0;
      const v = Wp[n * K + i]!;
      let code: number;
      if (o.bits === 4) code = codeInt4Value(v, s, z, signed);
      else if (s === 0) code = 0;
      else { const t = Math.max(-127, Math.min(127, Math.fround(v / s))); code = Math.round(t); if (code - t === 0.5 && code % 2 !== 0) code -= 1; }
      q[n * K + c] = code;
      const err = (v - Math.fround((code - z) * s)) / U(i, i);
      for (let jj = i + 1; jj < K; jj++) Wp[n * K + jj] -= err * U(i, jj);
    }
  }
  return zps ? { q, scales, zeroPoints: zps } : { q, scales };
}
