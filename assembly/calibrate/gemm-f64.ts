// gemm-f64 — float64 rank-k update C += α·A·B, the hot loop of GPTQ (docs/quantization.md
// eq. 72, 77–78: the Hessian 2XᵀX/M, the blocked Cholesky's trailing update and the lazy block
// update of the error feedback).
//
// CONTRACT
//   for m in [0, M), n in [0, N):
//     c = C[m·ldc + n]
//     for k in [0, K) ascending:  c = c + (α·A[m·lda + k])·B[k·ldb + n]      (float64; each
//                                 product and sum rounded once: no fused multiply-add)
//     C[m·ldc + n] = c
//   So every element is the same sequence of IEEE-754 double operations as the scalar twin
//   (src/reference/gemm-f64.ts): the results are bit-identical, whatever the tiling.
// LAYOUT     A, B, C: float64, row-major with row strides lda, ldb, ldc (in elements, ≥ the row
//            length used); byte offsets a, b, c. No element of C may be an element of A or B
//            (they may lie in one buffer, e.g. a matrix and its own panel).
// ALIGNMENT  none required (8-byte alignment is what the host gives; loads are unaligned-capable).
// OVER-READ  none: the column tail is handled by a 2-wide and a scalar step.
// ACCUMULATOR float64, one per output element, held in registers over the whole k loop.
// LARGEST K  any (no integer accumulation; float64 rounding only).
// Tiling: C in chunks of 64 rows (their A rows, 64·K·8 bytes, stay in L2 while every column
// goes by); inside a chunk 4 rows × 4 columns of C in eight f64x2 registers, each k loading 2
// vectors of B and 4 scalars of A (the B panel of 4 columns stays in L1 while the rows go by).

const ROW_CHUNK = 64;

// @ts-ignore: decorator
@inline function ld(p: usize): v128 { return v128.load(p); }

export function cal_gemm_acc_f64(c: usize, ldc: i32, a: usize, lda: i32, b: usize, ldb: i32,
                                 M: i32, N: i32, K: i32, alpha: f64): void {
  for (let m0 = 0; m0 < M; m0 += ROW_CHUNK) {
    const rows = min<i32>(ROW_CHUNK, M - m0);
    gemmRows(c + <usize>m0 * (<usize>ldc << 3), ldc, a + <usize>m0 * (<usize>lda << 3), lda, b, ldb, rows, N, K, alpha);
  }
}

function gemmRows(c: usize, ldc: i32, a: usize, lda: i32, b: usize, ldb: i32, M: i32, N: i32, K: i32, alpha: f64): void {
  const sc = <usize>ldc << 3, sa = <usize>lda << 3, sb = <usize>ldb << 3;
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const bn = b + (<usize>n << 3), cn = c + (<usize>n << 3);
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const c0 = cn + <usize>m * sc, c1 = c0 + sc, c2 = c1 + sc, c3 = c2 + sc;
      const a0 = a + <usize>m * sa, a1 = a0 + sa, a2 = a1 + sa, a3 = a2 + sa;
      let x00 = ld(c0), x01 = ld(c0 + 16), x10 = ld(c1), x11 = ld(c1 + 16);
      let x20 = ld(c2), x21 = ld(c2 + 16), x30 = ld(c3), x31 = ld(c3 + 16);
      let bp = bn;
      for (let k = 0; k < K; k++) {
        const ko = <usize>k << 3;
        const b0 = ld(bp), b1 = ld(bp + 16);
        const v0 = f64x2.splat(alpha * load<f64>(a0 + ko));
        const v1 = f64x2.splat(alpha * load<f64>(a1 + ko));
        const v2 = f64x2.splat(alpha * load<f64>(a2 + ko));
        const v3 = f64x2.splat(alpha * load<f64>(a3 + ko));
        x00 = f64x2.add(x00, f64x2.mul(v0, b0)); x01 = f64x2.add(x01, f64x2.mul(v0, b1));
        x10 = f64x2.add(x10, f64x2.mul(v1, b0)); x11 = f64x2.add(x11, f64x2.mul(v1, b1));
        x20 = f64x2.add(x20, f64x2.mul(v2, b0)); x21 = f64x2.add(x21, f64x2.mul(v2, b1));
        x30 = f64x2.add(x30, f64x2.mul(v3, b0)); x31 = f64x2.add(x31, f64x2.mul(v3, b1));
        bp += sb;
      }
      v128.store(c0, x00); v128.store(c0 + 16, x01); v128.store(c1, x10); v128.store(c1 + 16, x11);
      v128.store(c2, x20); v128.store(c2 + 16, x21); v128.store(c3, x30); v128.store(c3 + 16, x31);
    }
    for (; m < M; m++) {
      const c0 = cn + <usize>m * sc, a0 = a + <usize>m * sa;
      let x00 = ld(c0), x01 = ld(c0 + 16);
      let bp = bn;
      for (let k = 0; k < K; k++) {
        const v0 = f64x2.splat(alpha * load<f64>(a0 + (<usize>k << 3)));
        x00 = f64x2.add(x00, f64x2.mul(v0, ld(bp))); x01 = f64x2.add(x01, f64x2.mul(v0, ld(bp + 16)));
        bp += sb;
      }
      v128.store(c0, x00); v128.store(c0 + 16, x01);
    }
  }
  for (; n + 2 <= N; n += 2) {
    const bn = b + (<usize>n << 3), cn = c + (<usize>n << 3);
    for (let m = 0; m < M; m++) {
      const c0 = cn + <usize>m * sc, a0 = a + <usize>m * sa;
      let x = ld(c0);
      let bp = bn;
      for (let k = 0; k < K; k++) {
        x = f64x2.add(x, f64x2.mul(f64x2.splat(alpha * load<f64>(a0 + (<usize>k << 3))), ld(bp)));
        bp += sb;
      }
      v128.store(c0, x);
    }
  }
  for (; n < N; n++) {
    const bn = b + (<usize>n << 3), cn = c + (<usize>n << 3);
    for (let m = 0; m < M; m++) {
      const c0 = cn + <usize>m * sc, a0 = a + <usize>m * sa;
      let x = load<f64>(c0);
      let bp = bn;
      for (let k = 0; k < K; k++) {
        x = x + (alpha * load<f64>(a0 + (<usize>k << 3))) * load<f64>(bp);
        bp += sb;
      }
      store<f64>(c0, x);
    }
  }
}
