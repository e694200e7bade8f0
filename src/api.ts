/**
 * intquant's public API, the same in every host; the entry points add their host: src/index.ts
 * (Node, plus the safetensors file reader and writer) and src/index.browser.ts (browsers, Web
 * Workers). Everything else is internal.
 */
export { init, isInitialized, backend } from './runtime/wasm.js';
export { setThreads, threads } from './runtime/threads.js';
export type { InitOptions, Backend, WasmSource } from './runtime/wasm.js';
export { Tensor, TensorView } from './runtime/tensor.js';
export type { DType } from './runtime/tensor.js';
export type { MemoryStats } from './runtime/memory.js';
export { memoryStats, setMemoryBudget } from './runtime/stats.js';
export { sqnr, mse, maxAbsError, cosineSimilarity } from './calibrate/metrics.js';
export { QTYPES, QTYPE_NAMES } from './quant/qtypes.js';
export type { QType, QTypeInfo } from './quant/qtypes.js';
export {
  quantize, dequantize, fakeQuantize, dynamicQuantize, qparamsFromRange, packInt4, unpackInt4, packInt2, unpackInt2,
  quantizeTensor, dequantizeTensor, fakeQuantizeTensor, dynamicQuantizeTensor,
  packInt4Tensor, unpackInt4Tensor, packInt2Tensor, unpackInt2Tensor,
} from './quant/index.js';
export type { QParams, RangeOptions, DynamicQuantized, DynamicQuantizedTensor } from './quant/index.js';
export {
  IntquantError, InvalidArgumentError, NaNInputError, DisposedError, MemoryBudgetError, NotInitializedError, ThreadError, BusyError,
} from './errors.js';
// Exact int8 matrix products: packed matrices, ONNX MatMulInteger/QLinearMatMul, output stages, QuantizedLinear.
export { PackedInt8Matrix } from './ops/packed-int8-matrix.js';
export type { PackedInt8MatrixOptions } from './ops/packed-int8-matrix.js';
export { matmulInteger, qlinearMatMul } from './ops/matmul-integer.js';
export type { MatMulIntegerOptions, QLinearMatMulParams } from './ops/matmul-integer.js';
export { outputFloat32 } from './ops/output/float32.js';
export { requantize, requantizeMultiplier } from './ops/output/requantize.js';
export type { RequantizeParams, QOutType } from './ops/output/requantize.js';
export { QuantizedLinear } from './ops/quantized-linear.js';
export type { QuantizedLinearOptions, LinearWeightType, LinearMethod, PackedWeightsFor } from './ops/quantized-linear.js';
// GPTQ (docs/quantization.md eq. 70–79): QuantizedLinear.fromFloat32({ method: 'gptq', calibration }).
export { NotPositiveDefiniteError } from './calibrate/gptq.js';
// Packed int4 weights: W4A8 and weight-only GEMV/GEMM, ONNX and MatMulNBits interchange.
export { PackedInt4Matrix, INT4_GROUP_SIZES } from './ops/packed-int4-matrix.js';
export type { PackedInt4Options, Int4GemvOptions, Int4QuantizeOptions } from './ops/packed-int4-matrix.js';
// Choosing int4 weights without data (docs/quantization.md eq. 60–68).
export { INT4_METHODS } from './calibrate/int4-groups.js';
export type { Int4Method } from './calibrate/int4-groups.js';
// Calibration observers: range setting per tensor / axis / block (docs/quantization.md eq. 20–28).
export {
  MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver, MseObserver, EntropyObserver,
} from './calibrate/index.js';
export type {
  Observer, ObserverOptions, ObserverProgress, ClippingRange, MovingAverageOptions, HistogramOptions, PercentileOptions, EntropyOptions,
} from './calibrate/index.js';
// Quantization-aware training: STE backward and LSQ gradients (docs/quantization.md eq. 29–32).
export { fakeQuantizeBackward, lsqGradients } from './qat/index.js';
export type { FakeQuantizeBackwardOptions, LsqOptions, LsqGradients } from './qat/index.js';
// safetensors, the format (docs/safetensors.md): header parsing and exact F16/BF16 conversion; the
// file reader and writer are in the Node entry.
export {
  SafetensorsError, parseSafetensorsHeader,
  float16BitsToFloat32, bfloat16BitsToFloat32, float32ToFloat16Bits, float32ToBfloat16Bits,
  SAFETENSORS_DTYPES, DECODABLE_DTYPES, FLOAT_DTYPES, MAX_HEADER_BYTES,
} from './io/safetensors-format.js';
export type { SafetensorsDType, TensorInfo, TensorSpec, TensorEntry, TensorData } from './io/safetensors-format.js';
