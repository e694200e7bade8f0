// The exported ABI: every kernel entry point, in one place.
// Kernels are pure functions over byte offsets into the host-owned memory; none allocates.
export function abiVersion(): i32 { return 2; }

// Element-wise quantization (docs/quantization.md eq. 2–6, 8): float32 ↔ integer storage.
export {
  quantize_f32_i8, quantize_f32_u8, quantize_f32_i16, quantize_f32_u16,
  quantize_f32_i8_blocks, quantize_f32_u8_blocks, quantize_f32_i16_blocks, quantize_f32_u16_blocks,
  quantize_f32_i8_cols, quantize_f32_u8_cols, quantize_f32_i16_cols, quantize_f32_u16_cols,
} from './quant/quantize';
export {
  dequantize_i8_f32, dequantize_u8_f32, dequantize_i16_f32, dequantize_u16_f32,
  dequantize_i8_f32_blocks, dequantize_u8_f32_blocks, dequantize_i16_f32_blocks, dequantize_u16_f32_blocks,
  dequantize_i8_f32_cols, dequantize_u8_f32_cols, dequantize_i16_f32_cols, dequantize_u16_f32_cols,
} from './quant/dequantize';
export { fake_quantize_f32, fake_quantize_f32_blocks, fake_quantize_f32_cols } from './quant/fake-quantize';
export { minmax_f32 } from './quant/minmax';
export { first_outside_i8, first_outside_u8 } from './quant/range';
// Sub-byte packing in ONNX order.
export { pack_int4, unpack_int4_s, unpack_int4_u } from './pack/onnx-int4';
export { pack_int2, unpack_int2_s, unpack_int2_u } from './pack/onnx-int2';
// Calibration (docs/quantization.md eq. 22–27): group layout, running ranges, histograms, Q/DQ error.
export { cal_permute_f32, cal_permute_blocks_f32 } from './calibrate/permute';
export { cal_minmax_rows_f32 } from './calibrate/minmax-rows';
export { cal_histogram_rows_f32 } from './calibrate/histogram';
export { cal_qdq_sqerr_rows_f32 } from './calibrate/qdq-sqerr';
// Exact int8 GEMV/GEMM (docs/quantization.md eq. 10–14; layouts in docs/kernels.md).
export { i8_gemv_4x2__xs8, i8_gemv_4x2__xu8, i8_gemv_4x2_rows__xs8, i8_gemv_4x2_rows__xu8 } from './gemv/i8-gemv-4x2-simd';
export { i8_gemm_4x2__xs8, i8_gemm_4x2__xu8, i8_gemm_4x2_rows__xs8, i8_gemm_4x2_rows__xu8 } from './gemv/i8-gemm-4x2-simd';
export { f32_qs8_dynamic } from './gemv/f32-qs8-dynamic-simd';
// Output stages (eq. 15).
export { qs32_f32_scale_bias } from './output/qs32-f32-scale-bias-simd';
// Packed int4 GEMV: W4A8 and weight-only W4A32 (docs/quantization.md eq. 40–44; layout in the kernel files).
export {
  q4_gemv_4x32__sym, q4_gemv_4x32__asym, q4_gemv_4x32_ms__sym, q4_gemv_4x32_ms__asym, q4_gemv_4x32__groupsums,
} from './gemv/q4-gemv-4x32-simd';
export { q4_gemm_4x32__sym, q4_gemm_4x32__asym } from './gemv/q4-gemm-4x32-simd';
export { q4_gemm_2x4x32__sym, q4_gemm_2x4x32__asym } from './gemv/q4-gemm-2x4x32-simd';
export { q4_act_quantize, q4_act_from_int8 } from './gemv/q4-act-quantize';
export { q4f32_gemv_4x32__sym, q4f32_gemv_4x32__asym, q4f32_act_prepare } from './gemv/q4f32-gemv-4x32-simd';
// GPTQ (docs/quantization.md eq. 72, 77–78): the float64 rank-k update C += α·A·B.
export { cal_gemm_acc_f64 } from './calibrate/gemm-f64';
