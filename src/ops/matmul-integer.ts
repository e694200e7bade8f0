/**
 * One-shot ONNX MatMulInteger and QLinearMatMul (2-D): A is M×K, B is K×N (ONNX layout), scalar
 * zero points. B is packed straight from its K×N layout (no transposed copy), multiplied with the
 * exact GEMM kernel, and the packed copy is freed before returning.
 */
import { InvalidArgumentError } from '../errors.js';
import { PackedInt8Matrix } from './packed-int8-matrix.js';
import { requantize, type QOutType } from './output/requantize.js';
import { assertDim, assertInt8Like, assertZeroPoint } from './validate.js';

export interface MatMulIntegerOptions {
  /** Zero point of A (default 0), in A's type range. */
  aZeroPoint?: number;
  /** Zero point of B (default 0), in B's type range. */
  bZeroPoint?: number;
}

/** Y[m,n] = Σ_k (A[m,k] − a_zp)(B[k,n] − b_zp), int32 wrapping (eq. 10). Returns M×N row-major. */
export function matmulInteger(
  A: Int8Array | Uint8Array, B: Int8Array | Uint8Array, M: number, K: number, N: number, options: MatMulIntegerOptions = {},
): Int32Array {
  assertInt8Like('A', A);
  assertInt8Like('B', B);
  assertDim('M', M);
  assertDim('K', K);
  assertDim('N', N);
  if (A.length !== M * K) throw new InvalidArgumentError('A', `has ${A.length} elements but M·K = ${M}·${K} = ${M * K}`);
  if (B.length !== K * N) throw new InvalidArgumentError('B', `has ${B.length} elements but K·N = ${K}·${N} = ${K * N} (ONNX layout: B is K×N)`);
  const aZero = options.aZeroPoint ?? 0;
  assertZeroPoint('aZeroPoint', aZero, A instanceof Int8Array);
  const bZero = options.bZeroPoint ?? 0;
  assertZeroPoint('bZeroPoint', bZero, B instanceof Int8Array);
  const W = PackedInt8Matrix.fromStrided(B, N, K, 1, N, { zeroPoint: bZero, xZeroPoint: aZero });
  try {
    return W.gemm(A, M);
  } finally {
    W.dispose();
  }
}

export interface QLinearMatMulParams {
  aScale: number; aZeroPoint?: number;
  bScale: number; bZeroPoint?: number;
  yScale: number; yZeroPoint?: number;
}

/**
 * ONNX QLinearMatMul (2-D, scalar scales and zero points): exact integer product, then the
 * requantizing output stage (eq. 17). The output type follows A's type, as in ONNX.
 */
export function qlinearMatMul(
  A: Int8Array | Uint8Array, B: Int8Array | Uint8Array, M: number, K: number, N: number, p: QLinearMatMulParams,
): Int8Array | Uint8Array {
  if (typeof p !== 'object' || p === null) throw new InvalidArgumentError('params', 'must be an object with aScale, bScale, yScale and optional zero points');
  const acc = matmulInteger(A, B, M, K, N, { aZeroPoint: p.aZeroPoint ?? 0, bZeroPoint: p.bZeroPoint ?? 0 });
  const outType: QOutType = A instanceof Int8Array ? 'int8' : 'uint8';
  return requantize(acc, { aScale: p.aScale, bScale: p.bScale, yScale: p.yScale, yZeroPoint: p.yZeroPoint ?? 0, outType });
}
