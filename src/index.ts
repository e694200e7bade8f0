/**
 * intquant — the public API. Everything else is internal.
 */
export { init, isInitialized } from './runtime/wasm.js';
export type { InitOptions } from './runtime/wasm.js';
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
} from './quant/index.js';
export type { QParams, RangeOptions, DynamicQuantized, DynamicQuantizedTensor } from './quant/index.js';
export {
  IntquantError, InvalidArgumentError, NaNInputError, DisposedError, MemoryBudgetError, NotInitializedError,
} from './errors.js';
