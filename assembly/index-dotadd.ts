// The dot-add build's ABI (build/intquant-dotadd.wasm): every entry point of the relaxed build
// (assembly/index.ts, compiled with relaxed SIMD) plus the kernels on relaxed SIMD's fused
// dot-add, which have packed layouts of their own (rows in lanes; see each file's contract).
export * from './index';
export {
  i8_gemv_4x4_dotadd__xs8, i8_gemv_4x4_dotadd__xu8, i8_gemv_4x4_dotadd_u8__xs8, i8_gemv_4x4_dotadd_u8__xu8,
  i8_gemv_4x4_dotadd_rows__xs8, i8_gemv_4x4_dotadd_rows__xu8, i8_gemv_4x4_dotadd_u8_rows__xs8, i8_gemv_4x4_dotadd_u8_rows__xu8,
} from './gemv/i8-gemv-4x4-dotadd';
export {
  i8_gemm_4x4_dotadd__xs8, i8_gemm_4x4_dotadd__xu8, i8_gemm_4x4_dotadd_u8__xs8, i8_gemm_4x4_dotadd_u8__xu8,
  i8_gemm_4x4_dotadd_rows__xs8, i8_gemm_4x4_dotadd_rows__xu8, i8_gemm_4x4_dotadd_u8_rows__xs8, i8_gemm_4x4_dotadd_u8_rows__xu8,
} from './gemv/i8-gemm-4x4-dotadd';
export { q4_gemv_4x8_dotadd__sym, q4_gemv_4x8_dotadd__asym, q4_gemv_4x8_dotadd__groupsums } from './gemv/q4-gemv-4x8-dotadd';
export { q4_gemm_4x8_dotadd__sym, q4_gemm_4x8_dotadd__asym } from './gemv/q4-gemm-4x8-dotadd';
export { q4f32_gemv_4x8_dotadd__sym, q4f32_gemv_4x8_dotadd__asym } from './gemv/q4f32-gemv-4x8-dotadd';
