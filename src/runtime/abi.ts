/**
 * The kernels' exported ABI as the host sees it (mirrors assembly/index.ts).
 * Pointers are byte offsets into the host-owned memory; counts are elements.
 */
/** Float32 → integer quantize entry points of one storage type (assembly/quant/quantize.ts). Return: first NaN index or −1. */
export type QuantizeRunFn = (x: number, q: number, n: number, s: number, z: number, qmin: number, qmax: number) => number;
/** rows × rowLen cut into blocks of blockLen per row (the last one of a row may be shorter); block b uses scales[b mod nScales]. */
export type QuantizeBlocksFn = (x: number, q: number, rows: number, rowLen: number, blockLen: number, scales: number, zps: number, nScales: number, qmin: number, qmax: number) => number;
/** rows × cols, a new scale row per group of groupRows rows, restarting every sliceRows rows (a short last group per slice). */
export type QuantizeColsFn = (x: number, q: number, rows: number, cols: number, scales: number, zps: number, groupRows: number, sliceRows: number, qmin: number, qmax: number) => number;
/** Integer → float32 dequantize entry points of one storage type (assembly/quant/dequantize.ts). */
export type DequantizeRunFn = (q: number, y: number, n: number, s: number, z: number) => void;
export type DequantizeBlocksFn = (q: number, y: number, rows: number, rowLen: number, blockLen: number, scales: number, zps: number, nScales: number) => void;
export type DequantizeColsFn = (q: number, y: number, rows: number, cols: number, scales: number, zps: number, groupRows: number, sliceRows: number) => void;

/** Element-wise quantization kernels (assembly/quant/, assembly/pack/). */
export interface QuantKernelExports {
  quantize_f32_i8: QuantizeRunFn; quantize_f32_u8: QuantizeRunFn; quantize_f32_i16: QuantizeRunFn; quantize_f32_u16: QuantizeRunFn;
  quantize_f32_i8_blocks: QuantizeBlocksFn; quantize_f32_u8_blocks: QuantizeBlocksFn;
  quantize_f32_i16_blocks: QuantizeBlocksFn; quantize_f32_u16_blocks: QuantizeBlocksFn;
  quantize_f32_i8_cols: QuantizeColsFn; quantize_f32_u8_cols: QuantizeColsFn;
  quantize_f32_i16_cols: QuantizeColsFn; quantize_f32_u16_cols: QuantizeColsFn;
  dequantize_i8_f32: DequantizeRunFn; dequantize_u8_f32: DequantizeRunFn; dequantize_i16_f32: DequantizeRunFn; dequantize_u16_f32: DequantizeRunFn;
  dequantize_i8_f32_blocks: DequantizeBlocksFn; dequantize_u8_f32_blocks: DequantizeBlocksFn;
  dequantize_i16_f32_blocks: DequantizeBlocksFn; dequantize_u16_f32_blocks: DequantizeBlocksFn;
  dequantize_i8_f32_cols: DequantizeColsFn; dequantize_u8_f32_cols: DequantizeColsFn;
  dequantize_i16_f32_cols: DequantizeColsFn; dequantize_u16_f32_cols: DequantizeColsFn;
  fake_quantize_f32: QuantizeRunFn; fake_quantize_f32_blocks: QuantizeBlocksFn; fake_quantize_f32_cols: QuantizeColsFn;
  /** Writes [min, max] as float32 at `out`; returns the first NaN index or −1. */
  minmax_f32(x: number, n: number, out: number): number;
  first_outside_i8(q: number, n: number, lo: number, hi: number): number;
  first_outside_u8(q: number, n: number, lo: number, hi: number): number;
  pack_int4(q: number, packed: number, n: number): void;
  unpack_int4_s(packed: number, q: number, n: number): void;
  unpack_int4_u(packed: number, q: number, n: number): void;
  pack_int2(q: number, packed: number, n: number): void;
  unpack_int2_s(packed: number, q: number, n: number): void;
  unpack_int2_u(packed: number, q: number, n: number): void;
}

export interface KernelExports extends QuantKernelExports {
  abiVersion(): number;
}

/**
 * Exact int8 GEMV/GEMM kernels and their output stages (assembly/gemv/, assembly/output/;
 * docs/quantization.md eq. 10–16, layouts in docs/kernels.md). `wz` is the weight zero point in
 * the int8 storage domain; K is the true reduction length, Kp = K rounded up to 16.
 */
/** xw: scratch for the activations widened to int16 (2·Kp bytes for the GEMV, 2·M·Kp for the GEMM). */
export type GemvFn = (packed: number, x: number, xw: number, out: number, N: number, K: number, Kp: number, wz: number) => void;
export type GemmFn = (packed: number, X: number, xw: number, out: number, M: number, N: number, K: number, Kp: number, wz: number) => void;
/** Row ranges of a matrix (a pool thread's share): packed and bias' offset to the first row (a multiple of 4). */
export type GemvRowsFn = (packed: number, bias: number, x: number, xw: number, out: number, N: number, K: number, Kp: number, wz: number) => void;
/** ldo: bytes between the tokens' output rows. */
export type GemmRowsFn = (packed: number, bias: number, X: number, xw: number, out: number, ldo: number, M: number, N: number, K: number, Kp: number, wz: number) => void;
export interface GemvKernelExports {
  i8_gemv_4x2__xs8: GemvFn; i8_gemv_4x2__xu8: GemvFn;
  i8_gemm_4x2__xs8: GemmFn; i8_gemm_4x2__xu8: GemmFn;
  i8_gemv_4x2_rows__xs8: GemvRowsFn; i8_gemv_4x2_rows__xu8: GemvRowsFn;
  i8_gemm_4x2_rows__xs8: GemmRowsFn; i8_gemm_4x2_rows__xu8: GemmRowsFn;
  /** Dynamic symmetric int8 quantization of K floats at x into q; returns the scale. */
  f32_qs8_dynamic(x: number, q: number, K: number): number;
  /** out[m,n] = f32(acc[m,n])·f32(xs[m]·ws[n]) + bias[n] (bias 0 = none); out may equal acc. */
  qs32_f32_scale_bias(acc: number, out: number, M: number, N: number, xs: number, ws: number, bias: number): void;
}
// Declaration merging: adds the GEMV kernels to the runtime's KernelExports.
export interface KernelExports extends GemvKernelExports {}

/**
 * Calibration kernels (assembly/calibrate/; docs/quantization.md eq. 22–26, 52). Pointers are byte
 * offsets; `starts` is int32[groups + 1] of element offsets from x: group g is x[starts[g] … starts[g+1]).
 */
export interface CalibrateKernelExports {
  /** dst[s][c][r][k] = src[s][r][c][k] over [slabs, rows, cols, run] float32. */
  cal_permute_f32(src: number, dst: number, slabs: number, rows: number, cols: number, run: number): void;
  /** x as [outer, dim, inner]: every [L_j, inner] tile of block j (L_j = min(B, dim − j·B)) transposed in place-position; 1 ≤ blockSize ≤ dim. */
  cal_permute_blocks_f32(src: number, dst: number, outer: number, dim: number, inner: number, blockSize: number): void;
  /** Folds each group's run into out (float32 pairs min, max); first NaN index (into x) or −1. */
  cal_minmax_rows_f32(x: number, groups: number, starts: number, out: number): number;
  /** counts (int32[groups·nbins·4]) += per-group histograms with float32 lo/invw per group; zeros (int32[groups]) += exact zeros. */
  cal_histogram_rows_f32(x: number, groups: number, starts: number, lo: number, invw: number, nbins: number, absolute: number, counts: number, zeros: number): void;
  /** out (float64[groups]) += Σ (x − Q/DQ(x))² with float32 scales/zero points per group. */
  cal_qdq_sqerr_rows_f32(x: number, groups: number, starts: number, scales: number, zps: number, qmin: number, qmax: number, out: number): void;
  /** C (M×N) += α·A (M×K)·B (K×N), float64 row-major with row strides in elements (GPTQ, eq. 72, 77–78). */
  cal_gemm_acc_f64(c: number, ldc: number, a: number, lda: number, b: number, ldb: number, M: number, N: number, K: number, alpha: number): void;
}
// Declaration merging: adds the calibration kernels to the runtime's KernelExports.
export interface KernelExports extends CalibrateKernelExports {}

/** Packed int4 kernels (assembly/gemv/q4-*.ts; docs/quantization.md eq. 40–44). */
export type Q4GemvFn = (packed: number, xq: number, xs: number, xcorr: number, xsum: number, out: number, N: number, Kp: number, G: number) => void;
export type Q4GemmFn = (packed: number, xq: number, xs: number, xcorr: number, xsum: number, out: number, M: number, N: number, Kp: number, G: number, tmp: number) => void;
/** Q4GemmFn without scratch (the two-token register-sharing GEMM). */
export type Q4Gemm2Fn = (packed: number, xq: number, xs: number, xcorr: number, xsum: number, out: number, M: number, N: number, Kp: number, G: number) => void;
export type Q4F32GemvFn = (packed: number, xp: number, xc: number, xs: number, out: number, N: number, Kp: number, G: number) => void;
export interface Int4KernelExports {
  q4_gemv_4x32__sym: Q4GemvFn;
  q4_gemv_4x32__asym: Q4GemvFn;
  /** Two weight streams (panel p with p + P/2): same results, better from DRAM. */
  q4_gemv_4x32_ms__sym: Q4GemvFn;
  q4_gemv_4x32_ms__asym: Q4GemvFn;
  /** M tokens at once; tmp: (G/32)·256 + 16·M bytes of scratch. */
  q4_gemm_4x32__sym: Q4GemmFn;
  q4_gemm_4x32__asym: Q4GemmFn;
  /** simd128: M tokens, two per pass sharing each weight load and unpack; G must be 32; no scratch. */
  q4_gemm_2x4x32__sym: Q4Gemm2Fn;
  q4_gemm_2x4x32__asym: Q4Gemm2Fn;
  q4_gemv_4x32__groupsums(packed: number, xq: number, xcorr: number, out: number, N: number, Kp: number, G: number, asym: number): void;
  /** Per-group int8 quantization of Kp (zero-padded) floats into the W4A8 activation layout; first NaN/±Inf index or −1. */
  q4_act_quantize(x: number, Kp: number, G: number, xq: number, sx: number, xcorr: number, xsum: number): number;
  /** The same layout, xcorr and xsum from Kp int8 codes (zero-padded). */
  q4_act_from_int8(q8: number, Kp: number, G: number, xq: number, xcorr: number, xsum: number): void;
  q4f32_gemv_4x32__sym: Q4F32GemvFn;
  q4f32_gemv_4x32__asym: Q4F32GemvFn;
  /** Scales K floats into the weight-only activation layout; first NaN index or −1. */
  q4f32_act_prepare(x: number, K: number, G: number, xp: number, xc: number, xs: number): number;
}
// Declaration merging: adds the int4 kernels to the runtime's KernelExports.
export interface KernelExports extends Int4KernelExports {}

/**
 * The dot-add build's kernels (assembly/index-dotadd.ts; docs/quantization.md eq. 45–46): same
 * signatures as their simd128 counterparts, their own packed layouts (src/ops/layouts.ts).
 * Present only in build/intquant-dotadd.wasm.
 */
export interface DotAddKernelExports {
  i8_gemv_4x4_dotadd__xs8: GemvFn; i8_gemv_4x4_dotadd__xu8: GemvFn;
  i8_gemm_4x4_dotadd__xs8: GemmFn; i8_gemm_4x4_dotadd__xu8: GemmFn;
  /** The unsigned-operand forms: only where the self-test shows the engine computes the operand as uint8. */
  i8_gemv_4x4_dotadd_u8__xs8: GemvFn; i8_gemv_4x4_dotadd_u8__xu8: GemvFn;
  i8_gemm_4x4_dotadd_u8__xs8: GemmFn; i8_gemm_4x4_dotadd_u8__xu8: GemmFn;
  q4_gemv_4x8_dotadd__sym: Q4GemvFn; q4_gemv_4x8_dotadd__asym: Q4GemvFn;
  q4_gemm_4x8_dotadd__sym: Q4Gemm2Fn; q4_gemm_4x8_dotadd__asym: Q4Gemm2Fn;
  q4_gemv_4x8_dotadd__groupsums(packed: number, xq: number, xcorr: number, out: number, N: number, Kp: number, G: number, asym: number): void;
  q4f32_gemv_4x8_dotadd__sym: Q4F32GemvFn; q4f32_gemv_4x8_dotadd__asym: Q4F32GemvFn;
}
// Declaration merging: the dot-add kernels, optional (other builds lack them).
export interface KernelExports extends Partial<DotAddKernelExports> {}
