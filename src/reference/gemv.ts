/**
 * Scalar JS twins of the integer matrix-product kernels (docs/quantization.md eq. 10–16).
 * Plain loops over typed arrays, sharing no code with the kernels or their host wrappers:
 * the test oracle and the benchmark baseline. Int32 results wrap modulo 2^32 (Math.imul, |0),
 * exactly like ONNX MatMulInteger's int32 arithmetic.
 */
import { roundHalfEven } from './quant.js';

export type Int8Like = Int8Array | Uint8Array;

export interface RefGemmOptions {
  /** Weight zero point z_w (default 0). */
  wZeroPoint?: number;
  /** Activation zero point z_x (default 0). */
  xZeroPoint?: number;
  /** int32 bias b[n] (default 0). */
  bias?: Int32Array;
}

/**
 * acc[m,n] = b[n] + Σ_k (W[n,k] − z_w)·(X[m,k] − z_x) mod 2^32   (eq. 10)
 * W is N×K row-major (rows = output channels), X is M×K row-major, result M×N.
 */
export function refGemmInt8(w: Int8Like, N: number, K: number, X: Int8Like, M: number, o: RefGemmOptions = {}): Int32Array {
  const zw = o.wZeroPoint ?? 0, zx = o.xZeroPoint ?? 0;
  const out = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    const xo = m * K;
    for (let n = 0; n < N; n++) {
      let acc = o.bias ? o.bias[n]! : 0;
      const wo = n * K;
      for (let k = 0; k < K; k++) acc = (acc + Math.imul(w[wo + k]! - zw, X[xo + k]! - zx)) | 0;
      out[m * N + n] = acc;
    }
  }
  return out;
}

/** The GEMV case (M = 1) of refGemmInt8. */
export function refGemvInt8(w: Int8Like, N: number, K: number, x: Int8Like, o: RefGemmOptions = {}): Int32Array {
  return refGemmInt8(w, N, K, x, 1, o);
}

/**
 * The bench baseline: symmetric int8 GEMV as a JS engineer would write it (no zero points,
 * no bias), y[n] = Σ_k W[n,k]·x[k] with int32 wrapping.
 */
export function refGemvInt8Plain(w: Int8Array, N: number, K: number, x: Int8Array, out: Int32Array = new Int32Array(N)): Int32Array {
  for (let n = 0; n < N; n++) {
    let acc = 0;
    const wo = n * K;
    for (let k = 0; k < K; k++) acc = (acc + w[wo + k]! * x[k]!) | 0;
    out[n] = acc;
  }
  return out;
}

/** The plain JS float32 GEMV baseline: y[n] = Σ_k W[n,k]·x[k] (accumulated in double, stored f32). */
export function refGemvF32(w: Float32Array, N: number, K: number, x: Float32Array, out: Float32Array = new Float32Array(N)): Float32Array {
  for (let n = 0; n < N; n++) {
    let acc = 0;
    const wo = n * K;
    for (let k = 0; k < K; k++) acc += w[wo + k]! * x[k]!;
    out[n] = acc;
  }
  return out;
}

/** MatMulInteger in ONNX layout: A M×K, B K×N, scalar zero points (eq. 10 with W = Bᵀ). */
export function refMatMulInteger(A: Int8Like, B: Int8Like, M: number, K: number, N: number, aZero = 0, bZero = 0): Int32Array {
  const out = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc = (acc + Math.imul(A[m * K + k]! - aZero, B[k * N + n]! - bZero)) | 0;
      out[m * N + n] = acc;
    }
  }
  return out;
}

/** Float output stage twin (eq. 15): y = f32(acc)·f32(xs[m]·ws[n]) + bias[n], all float32. */
export function refOutputF32(acc: Int32Array, M: number, N: number, xs: Float32Array, ws: Float32Array, bias?: Float32Array): Float32Array {
  const f = Math.fround;
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let v = f(f(acc[m * N + n]!) * f(xs[m]! * ws[n]!));
      if (bias) v = f(v + bias[n]!);
      y[m * N + n] = v;
    }
  }
  return y;
}


/**
 * Requantize output stage twin (eq. 17), ONNX QLinearMatMul: the multiplier
 * f32(f32(a_scale·b_scale) / y_scale) is applied to the exact int32 in double, then
 * round half to even, add y_zero_point, saturate to [qmin, qmax].
 */
export function refRequantize(acc: Int32Array, aScale: number, bScale: number, yScale: number, yZero: number, qmin: number, qmax: number): Int32Array {
  const f = Math.fround;
  const mult = f(f(f(aScale) * f(bScale)) / f(yScale));
  const out = new Int32Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const v = roundHalfEven(acc[i]! * mult) + yZero;
    out[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return out;
}

/** Dynamic symmetric int8 quantization twin (eq. 16). Returns the scale and the codes. */
export function refDynamicQuantS8(x: Float32Array): { scale: number; q: Int8Array } {
  const f = Math.fround;
  let a = 0;
  for (let i = 0; i < x.length; i++) { const v = Math.abs(x[i]!); if (v > a || Number.isNaN(v)) a = v; }
  const s = f(a / 127);
  const q = new Int8Array(x.length);
  if (s === 0 || !Number.isFinite(s)) return { scale: s, q };
  for (let i = 0; i < x.length; i++) {
    const v = roundHalfEven(f(x[i]! / s));
    q[i] = v < -127 ? -127 : v > 127 ? 127 : v;
  }
  return { scale: s, q };
}
