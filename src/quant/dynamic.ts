/**
 * ONNX DynamicQuantizeLinear (docs/quantization.md eq. 8): uint8 parameters from the data's own
 * range, then quantize. The range comes from the minmax kernel, the parameters from eq. (7) in
 * float32 arithmetic, the values from the quantize kernel. Both passes split a large tensor into
 * element ranges over the pool's threads (docs/threads.md; the values through quantize()'s own
 * split): min and max are exact, each value is quantized by one thread, so the result is the same
 * on any thread count.
 *
 * Where ONNX Runtime answers silently with something unusable, intquant differs on purpose:
 * NaN throws NaNInputError; ±Inf throws InvalidArgumentError (the range would be infinite);
 * an all-zero input gets scale 1 (ONNX: 0); a subnormal-only range whose scale underflows gets the
 * smallest float32 (2^−149) instead of 0.
 */
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../runtime/tensor.js';
import { firstReported, runShares, sharesFor, splitRange } from '../runtime/parallel.js';
import { rt } from '../runtime/wasm.js';
import { callQuantLike, quantizeNames, throwIfNaN } from './kernels.js';
import { resolveParams } from './params.js';
import { QTYPES } from './qtypes.js';
import { affineParams } from './range.js';

export interface DynamicQuantized { q: Uint8Array; scale: number; zeroPoint: number }
export interface DynamicQuantizedTensor { q: Tensor<'uint8'>; scale: number; zeroPoint: number }

/** minmax kernel over `n` floats at `offset` (one range per thread) → uint8 parameters (eq. 8). */
function paramsAt(offset: number, n: number, argument: string): { scale: number; zeroPoint: number } {
  const { mem } = rt();
  const ranges = splitRange(n, sharesFor(4 * n, Math.ceil(n / 16)), 16); // 16-element steps
  const box = mem.alloc(8 * ranges.length);
  let lo = 0, hi = 0;
  try {
    const results = runShares(ranges.map(({ start, count }, i) => [{ fn: 'minmax_f32', args: [offset + 4 * start, count, box + 8 * i] }]));
    throwIfNaN(firstReported(results, ranges.map(({ start }) => [start])), argument);
    const r = mem.f32(box, 2 * ranges.length);
    for (let i = 0; i < ranges.length; i++) {
      if (ranges[i]!.count === 0) continue;
      lo = Math.min(lo, r[2 * i]!);
      hi = Math.max(hi, r[2 * i + 1]!);
    }
  } finally {
    mem.release(box);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new InvalidArgumentError(argument, `contains ${Number.isFinite(lo) ? '+' : '-'}Infinity: the dynamic range is unbounded; clip the input or choose parameters with qparamsFromRange()`);
  }
  return affineParams(lo, hi, QTYPES.uint8, false, false);
}

/** The uint8 values with the parameters found: the per-tensor quantize, over the pool like quantize(). */
function quantizeAt(xo: number, qo: number, n: number, scale: number, zeroPoint: number, argument: string): void {
  const rp = resolveParams({ qtype: 'uint8', scale, zeroPoint }, [n]);
  throwIfNaN(callQuantLike(quantizeNames(rp.info), rp, undefined, xo, qo, 1), argument);
}

/** ONNX DynamicQuantizeLinear on a float32 array: uint8 values, float32 scale, zero point. */
export function dynamicQuantize(x: Float32Array): DynamicQuantized {
  if (!(x instanceof Float32Array)) throw new InvalidArgumentError('x', `must be a Float32Array, got ${Object.prototype.toString.call(x)}`);
  const { mem } = rt();
  const n = x.length;
  const xo = mem.alloc(n * 4);
  let qo = 0;
  try {
    mem.f32(xo, n).set(x);
    const { scale, zeroPoint } = paramsAt(xo, n, 'x');
    qo = mem.alloc(n);
    quantizeAt(xo, qo, n, scale, zeroPoint, 'x');
    return { q: new Uint8Array(mem.bytes(qo, n)), scale, zeroPoint };
  } finally {
    mem.release(xo);
    if (qo) mem.release(qo);
  }
}

/** DynamicQuantizeLinear on a float32 tensor in wasm memory (zero-copy); `out` may be given. */
export function dynamicQuantizeTensor(x: Tensor<'float32'>, out?: Tensor<'uint8'>): DynamicQuantizedTensor {
  if (!(x instanceof Tensor) || x.dtype !== 'float32') throw new InvalidArgumentError('x', 'must be a float32 Tensor');
  if (out !== undefined && (!(out instanceof Tensor) || out.dtype !== 'uint8' || out.size !== x.size)) {
    throw new InvalidArgumentError('out', `must be a uint8 Tensor with ${x.size} elements`);
  }
  const { scale, zeroPoint } = paramsAt(x.byteOffset, x.size, 'x');
  const q = out ?? Tensor.empty('uint8', x.shape);
  quantizeAt(x.byteOffset, q.byteOffset, x.size, scale, zeroPoint, 'x');
  return { q, scale, zeroPoint };
}
