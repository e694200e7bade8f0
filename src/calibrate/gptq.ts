/**
 * GPTQ (Frantar et al. 2022): weight codes chosen with calibration activations so that the layer's
 * outputs on them change least (docs/quantization.md eq. 70–79).
 *
 *   H = (2/M)·XᵀX + λ·I,  λ = dampening · mean(diag H)                         (eq. 70–71)
 *   the columns are quantized one at a time (in order, or by decreasing diag H with actOrder), and
 *   each one's rounding error is fed into the columns not yet quantized, weighted by the rows of the
 *   upper Cholesky factor U of H⁻¹ (eq. 73–74).
 *
 * Computed here without forming H⁻¹: with H = V·Vᵀ (V upper triangular, the Cholesky factor of H
 * in reversed column order, eq. 75) one has U = V⁻¹, and the value column i has when it is
 * quantized is (eq. 76)
 *   w̃_i = w_i + (1/V_ii) · Σ_{j<i} (w_j − ŵ_j)·V_ji       (w original, ŵ dequantized codes)
 * kept as T_i = V_ii·w̃_i, updated column by column inside a block of columns and, for the columns
 * after the block, by one rank-B product per block (the "lazy batch" update, eq. 77).
 *
 * Float64 throughout (H, its factor, T); the three products of O(K³) and O(N·K²) work — the
 * Hessian, the Cholesky's trailing updates and the lazy block updates — run in the wasm kernel
 * cal_gemm_acc_f64 (eq. 72, 78); the rest is JS. Group parameters (int4) are fixed when the sweep
 * reaches the group, from its columns' current values (eq. 79); with actOrder, whose order
 * scatters a group's columns over the sweep, from the original weights up front ("static groups",
 * as GPTQ's reference code does with act-order). int8 rows use max-abs scales of the original row.
 *
 * Memory: K·K + K·N float64 in wasm memory plus a few blocks of scratch, all released on return.
 */
import { InvalidArgumentError, NaNInputError } from '../errors.js';
import { rt } from '../runtime/wasm.js';
import { assertFiniteValues, codeInt4Value, fitInt4Group, type Int4Method } from './int4-groups.js';

export interface GptqOptions {
  weightType: 'int4' | 'int8';
  /** int4: values per group along K (any length ≥ 1; the packed matrix takes 32–256). */
  groupSize: number;
  /** int4: signed int4 (true) or uint4 with zero points (false). */
  symmetric: boolean;
  /** Quantize columns by decreasing Hessian diagonal (default false). */
  actOrder?: boolean;
  /** λ = dampening · mean(diag H), default 0.01; finite and ≥ 0. */
  dampening?: number;
  /** int4: how a group's scale (and zero point) is fitted when the sweep reaches it (default 'mse'). */
  groupMethod?: Int4Method;
}

export interface GptqResult {
  /** int8: Int8Array in [−127, 127]; int4: Int8Array in [−8, 7] or Uint8Array in [0, 15]. Row-major N×K. */
  q: Int8Array | Uint8Array;
  /** int8: one scale per row (N); int4: N × ceil(K/groupSize). */
  scales: Float32Array;
  /** uint4 only. */
  zeroPoints?: Uint8Array;
}

/** The default relative dampening (eq. 71), as in the GPTQ paper. */
export const DEFAULT_DAMPENING = 0.01;

const f = Math.fround;
/** Columns per lazy block: the in-block updates cost N·K·B/2, the lazy ones run in the kernel. */
const BLOCK = 128;
/** Calibration rows per kernel call when forming H. */
const ROWS_PER_PASS = 64;
/** Cholesky panel width and row chunk of its trailing update. */
const PANEL = 64, CHUNK = 128;

/** A Hessian that has no Cholesky factor even after dampening. */
export class NotPositiveDefiniteError extends InvalidArgumentError {
  constructor(column: number, pivot: number, lambda: number) {
    super('calibration', `gives a Hessian 2XᵀX/M + λI (λ = ${lambda.toPrecision(3)}) that is not positive definite: pivot ${pivot.toPrecision(3)} at sweep column ${column}; raise dampening (e.g. 0.1) or pass more, linearly independent rows`, 'IQ_NOT_POSITIVE_DEFINITE');
  }
}

/** Checks the calibration activations; returns M. */
export function calibrationRows(X: unknown, K: number): number {
  if (!(X instanceof Float32Array)) throw new InvalidArgumentError('calibration', `must be a Float32Array of M×K activations (M rows of the layer's K = ${K} inputs, row-major)`);
  if (X.length === 0) throw new InvalidArgumentError('calibration', 'is empty (M = 0 rows); GPTQ needs at least one row of activations');
  if (X.length % K !== 0) throw new InvalidArgumentError('calibration', `has ${X.length} values, not a multiple of K = ${K}; pass M×K activations (M rows of the layer's inputs)`);
  for (let i = 0; i < X.length; i++) {
    const v = X[i]!;
    if (!Number.isFinite(v)) {
      if (Number.isNaN(v)) throw new NaNInputError('calibration', i);
      throw new InvalidArgumentError('calibration', `contains ${v} at index ${i} (row ${Math.floor(i / K)}); activations must be finite`);
    }
  }
  return X.length / K;
}

/** GPTQ codes and parameters for row-major N×K weights w with M×K calibration activations X. */
export function gptqQuantize(w: Float32Array, N: number, K: number, X: Float32Array, options: GptqOptions): GptqResult {
  assertFiniteValues('w', w);
  const M = calibrationRows(X, K);
  const damp = options.dampening ?? DEFAULT_DAMPENING;
  if (typeof damp !== 'number' || !Number.isFinite(damp) || damp < 0) throw new InvalidArgumentError('dampening', `must be a finite number ≥ 0 (a fraction of the mean Hessian diagonal), got ${String(damp)}`);
  const int4 = options.weightType === 'int4';
  const G = int4 ? options.groupSize : K;
  if (!Number.isInteger(G) || G < 1) throw new InvalidArgumentError('groupSize', `must be a positive integer, got ${String(G)}`);
  const signed = int4 ? options.symmetric : true;
  const groupMethod = options.groupMethod ?? 'mse';

  // eq. 70: diag H first (for act-order and the dead columns), then the sweep order σ
  const diag = new Float64Array(K);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) { const v = X[m * K + k]!; diag[k] += v * v; }
  const order = Array.from({ length: K }, (_, k) => k);
  if (options.actOrder) order.sort((a, b) => diag[b]! - diag[a]! || a - b);
  const pos = new Int32Array(K); // original column → sweep position
  order.forEach((c, i) => { pos[c] = i; });

  const mem = rt().mem;
  const kern = rt().kernels;
  const Bk = int4 ? Math.max(G, Math.ceil(BLOCK / G) * G) : BLOCK; // whole groups per block
  const scratchLen = Math.max(K * ROWS_PER_PASS, K * Bk, PANEL * K);
  const blocks: number[] = []; // released in `finally`, also when a later allocation fails (budget)
  const alloc = (bytes: number): number => { const o = mem.alloc(bytes); blocks.push(o); return o; };
  try {
    const hOff = alloc(8 * K * K), tOff = alloc(8 * K * N), dOff = alloc(8 * Bk * N);
    const aOff = alloc(8 * scratchLen), bOff = alloc(8 * ROWS_PER_PASS * K);
    // views once, after every allocation: nothing below allocates (kernels never do)
    const H = mem.f64(hOff, K * K), T = mem.f64(tOff, K * N), D = mem.f64(dOff, Bk * N);
    const A = mem.f64(aOff, scratchLen), Bs = mem.f64(bOff, ROWS_PER_PASS * K);

    // eq. 72: H' = (2/M)·X'ᵀX' with X' the columns in reversed sweep order (so that the plain
    // lower Cholesky factor of H' is V read backwards, eq. 75)
    H.fill(0);
    for (let m0 = 0; m0 < M; m0 += ROWS_PER_PASS) {
      const rows = Math.min(ROWS_PER_PASS, M - m0);
      for (let m = 0; m < rows; m++) {
        const xo = (m0 + m) * K;
        for (let r = 0; r < K; r++) {
          const v = X[xo + order[K - 1 - r]!]!;
          Bs[m * K + r] = v;      // B = X' chunk, rows × K
          A[r * rows + m] = v;    // A = X'ᵀ chunk, K × rows
        }
      }
      kern.cal_gemm_acc_f64(hOff, K, aOff, rows, bOff, K, K, K, rows, 2 / M);
    }
    // eq. 71: an input that is always 0 gets H_kk = 1 (its weights meet no data: no feedback), then λ
    let trace = 0;
    for (let r = 0; r < K; r++) { if (H[r * K + r] === 0) H[r * K + r] = 1; trace += H[r * K + r]!; }
    const lambda = damp * (trace / K);
    for (let r = 0; r < K; r++) H[r * K + r] += lambda;
    choleskyLowerInPlace(H, K, hOff, aOff, A, lambda);

    // V_ij = L'[K−1−i, K−1−j] (i ≤ j, sweep positions)
    const V = (i: number, j: number): number => H[(K - 1 - i) * K + (K - 1 - j)]!;

    const groups = Math.ceil(K / G);
    const scales = new Float32Array(N * groups);
    const zeroPoints = int4 && !signed ? new Uint8Array(N * groups) : undefined;
    const fitted = new Uint8Array(groups);
    const q = int4 && !signed ? new Uint8Array(N * K) : new Int8Array(N * K);
    if (!int4) {
      for (let n = 0; n < N; n++) {
        let a = 0;
        for (let k = 0; k < K; k++) a = Math.max(a, Math.abs(w[n * K + k]!));
        scales[n] = f(a / 127);
      }
      fitted[0] = 1;
    }
    for (let i = 0; i < K; i++) {
      const vii = V(i, i), c = order[i]!;
      for (let n = 0; n < N; n++) T[i * N + n] = vii * w[n * K + c]!;
    }

    if (int4 && options.actOrder) {
      // act-order visits a group's columns at scattered times: its parameters are fitted once,
      // up front, from the original weights ("static groups", eq. 79)
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < groups; g++) {
          const len = Math.min(G, K - g * G);
          const { s, z } = fitInt4Group(w, n * K + g * G, len, signed, groupMethod);
          scales[n * groups + g] = s;
          if (zeroPoints) zeroPoints[n * groups + g] = z;
        }
      }
      fitted.fill(1);
    }
    const gbuf = new Float32Array(G), ybuf = new Float64Array(G);
    for (let i1 = 0; i1 < K; i1 += Bk) {
      const i2 = Math.min(K, i1 + Bk);
      for (let i = i1; i < i2; i++) {
        const c = order[i]!, g = Math.floor(c / G);
        const vii = V(i, i);
        if (!fitted[g]) {
          // eq. 79: the group's parameters from its columns' current values. In GPTQ's column
          // sweep a later column p holds w̃_p(i) = w_p − Σ_{j<i} E_j·U_jp; with R_p = T_p − V_pp·w_p
          // (what the feedback has added so far) that is w_p + y_p, y·V[i.., i..] = R (eq. 79):
          // one forward substitution over the group's columns, which lie in this block.
          fitted[g] = 1;
          const len = Math.min(G, K - c);
          for (let n = 0; n < N; n++) {
            for (let t = 0; t < len; t++) {
              const p = i + t;
              let y = T[p * N + n]! - V(p, p) * w[n * K + c + t]!;
              for (let u = 0; u < t; u++) y -= ybuf[u]! * V(i + u, p);
              y /= V(p, p);
              ybuf[t] = y;
              gbuf[t] = w[n * K + c + t]! + y;
            }
            const { s, z } = fitInt4Group(gbuf, 0, len, signed, groupMethod);
            scales[n * groups + g] = s;
            if (zeroPoints) zeroPoints[n * groups + g] = z;
          }
        }
        // quantize column i (eq. 74 with eq. 76's w̃), keep D_i = w_i − ŵ_i
        const drow = (i - i1) * N;
        for (let n = 0; n < N; n++) {
          const wt = T[i * N + n]! / vii;
          const j = n * groups + g;
          const s = scales[j]!, z = zeroPoints ? zeroPoints[j]! : 0;
          const code = int4 ? codeInt4Value(wt, s, z, signed) : codeInt8(wt, s);
          q[n * K + c] = code;
          D[drow + n] = w[n * K + c]! - f((code - z) * s);
        }
        // in-block feedback: T_i' += D_i·V_ii' for the block's later columns
        for (let ip = i + 1; ip < i2; ip++) {
          const v = V(i, ip);
          if (v === 0) continue;
          const to = ip * N;
          for (let n = 0; n < N; n++) T[to + n] += D[drow + n]! * v;
        }
      }
      // eq. 77–78, the lazy update of every later column: T[i2:] += Vᵀ[i2:, i1:i2]·D
      if (i2 < K) {
        const rows = K - i2, bw = i2 - i1;
        for (let m = 0; m < rows; m++) for (let k = 0; k < bw; k++) A[m * bw + k] = V(i1 + k, i2 + m);
        kern.cal_gemm_acc_f64(tOff + 8 * i2 * N, N, aOff, bw, dOff, N, rows, N, bw, 1);
      }
    }
    return zeroPoints ? { q, scales, zeroPoints } : { q, scales };
  } finally {
    for (const o of blocks) mem.release(o);
  }
}

/** int8 code of eq. 2 with zero point 0 and the narrow range [−127, 127]; an all-zero row (s = 0) codes 0. */
function codeInt8(v: number, s: number): number {
  if (s === 0) return 0;
  let t = f(v / s);
  t = t < -127 ? -127 : t > 127 ? 127 : t;
  const r = Math.round(t);
  return r - t === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * In-place lower Cholesky factor of the K×K matrix H (row-major; the lower triangle is read and
 * overwritten, eq. 75), blocked: each panel of PANEL columns is factored in JS, and the trailing
 * lower triangle updated with cal_gemm_acc_f64 (eq. 78) in row chunks.
 */
function choleskyLowerInPlace(H: Float64Array, K: number, hOff: number, sOff: number, S: Float64Array, lambda: number): void {
  const kern = rt().kernels;
  // A pivot this small against its diagonal entry means H is singular to working precision: its
  // factor would hold errors larger than the values (the dampening must then be raised).
  const tiny = Float64Array.from({ length: K }, (_, j) => H[j * K + j]! * K * 2 ** -52);
  for (let j0 = 0; j0 < K; j0 += PANEL) {
    const j1 = Math.min(K, j0 + PANEL), nb = j1 - j0;
    for (let j = j0; j < j1; j++) {
      let d = H[j * K + j]!;
      for (let k = j0; k < j; k++) d -= H[j * K + k]! * H[j * K + k]!;
      if (!(d > tiny[j]!) || !Number.isFinite(d)) throw new NotPositiveDefiniteError(K - 1 - j, d, lambda);
      const l = Math.sqrt(d);
      H[j * K + j] = l;
      for (let i = j + 1; i < K; i++) {
        let v = H[i * K + j]!;
        for (let k = j0; k < j; k++) v -= H[i * K + k]! * H[j * K + k]!;
        H[i * K + j] = v / l;
      }
    }
    if (j1 === K) break;
    // S = L[j1:, j0:j1]ᵀ (nb × rows), then H[r, j1..r] −= L[r, j0:j1]·S for each row chunk
    const rows = K - j1;
    for (let r = 0; r < rows; r++) for (let k = 0; k < nb; k++) S[k * rows + r] = H[(j1 + r) * K + j0 + k]!;
    for (let r0 = j1; r0 < K; r0 += CHUNK) {
      const r1 = Math.min(K, r0 + CHUNK);
      // C = H[r0:r1, j1:r1], A = L[r0:r1, j0:j1] (lda K), B = S[:, 0 : r1−j1] (ldb rows)
      kern.cal_gemm_acc_f64(hOff + 8 * (r0 * K + j1), K, hOff + 8 * (r0 * K + j0), K, sOff, rows, r1 - r0, r1 - j1, nb, -1);
    }
  }
}

/** @internal For tests: the lower Cholesky factor of a K×K float64 matrix via the blocked kernel path. */
export function choleskyLowerForTest(H: Float64Array, K: number): Float64Array {
  const mem = rt().mem;
  const hOff = mem.alloc(8 * K * K), sOff = mem.alloc(8 * Math.max(PANEL * K, 1));
  try {
    mem.f64(hOff, K * K).set(H);
    choleskyLowerInPlace(mem.f64(hOff, K * K), K, hOff, sOff, mem.f64(sOff, PANEL * K), 0);
    const L = mem.f64(hOff, K * K).slice();
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) L[i * K + j] = 0;
    return L;
  } finally {
    mem.release(hOff);
    mem.release(sOff);
  }
}
