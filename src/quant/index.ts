/** Element-wise quantization: the public surface of src/quant/ (docs/quantization.md eq. 1–8). */
export { quantize, dequantize, fakeQuantize, quantizeTensor, dequantizeTensor, fakeQuantizeTensor } from './ops.js';
export { dynamicQuantize, dynamicQuantizeTensor } from './dynamic.js';
export type { DynamicQuantized, DynamicQuantizedTensor } from './dynamic.js';
export { qparamsFromRange } from './range.js';
export type { RangeOptions } from './range.js';
export { packInt4, unpackInt4, packInt2, unpackInt2, packInt4Tensor, unpackInt4Tensor, packInt2Tensor, unpackInt2Tensor } from './pack.js';
export { resolveParams } from './params.js';
export type { QParams, ResolvedParams, Granularity } from './params.js';
