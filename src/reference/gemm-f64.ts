/**
 * Scalar twin of cal_gemm_acc_f64 (assembly/calibrate/gemm-f64.ts): C += α·A·B in float64, each
 * element's products added in ascending k, one rounding per product and per sum — the same IEEE
 * operations as the kernel, so the tests compare the two bit for bit.
 */
export function refGemmAccF64(C: Float64Array, ldc: number, A: Float64Array, lda: number, B: Float64Array, ldb: number,
  M: number, N: number, K: number, alpha: number): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let c = C[m * ldc + n]!;
      for (let k = 0; k < K; k++) c = c + (alpha * A[m * lda + k]!) * B[k * ldb + n]!;
      C[m * ldc + n] = c;
    }
  }
}
