/**
 * quantize / dequantize / fakeQuantize on the host side (docs/quantization.md eq. 2–5).
 *
 * Two forms of each:
 * - array form: the user's typed array is copied into wasm memory, the kernel runs, the result is
 *   copied out into a fresh typed array; temporaries are freed before returning (also on error);
 * - tensor form (`…Tensor`): operands are `Tensor`s already resident in wasm memory; nothing is
 *   copied (zero-copy), the result is a new tensor or the `out` tensor you pass.
 */
import { InvalidArgumentError } from '../errors.js';
import { Tensor, dtypeOf, type DType } from '../runtime/tensor.js';
import { rt } from '../runtime/wasm.js';
import { callDequantize, callQuantLike, dequantizeNames, FAKE_QUANTIZE_NAMES, quantizeNames, stageParams, throwIfNaN } from './kernels.js';
import { resolveParams, type QParams, type ResolvedParams } from './params.js';
import { storageArray, type QStorageArray, type QTypeInfo } from './qtypes.js';

const STORAGE_CTOR: Record<QTypeInfo['storage'], { name: string; BYTES_PER_ELEMENT: number }> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
};

function checkFloat32(x: unknown, n: number, argument: string): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    throw new InvalidArgumentError(argument, `must be a Float32Array (convert with Float32Array.from(...)), got ${Object.prototype.toString.call(x)}`);
  }
  if (x.length !== n) throw new InvalidArgumentError(argument, `has ${x.length} elements but shape holds ${n}`);
}

function checkStorage(q: unknown, info: QTypeInfo, n: number, argument: string): asserts q is QStorageArray {
  const ctor = STORAGE_CTOR[info.storage];
  if (!(ArrayBuffer.isView(q) && dtypeOf(q) === info.storage)) {
    throw new InvalidArgumentError(argument,
      `must be a ${ctor.name} for ${info.name} (one value per element; unpack packed data first), got ${Object.prototype.toString.call(q)}`);
  }
  if ((q as QStorageArray).length !== n) throw new InvalidArgumentError(argument, `has ${(q as QStorageArray).length} elements but shape holds ${n}`);
}

/** Sub-byte types live one per byte: a byte outside the type's grid is a caller error (eq. 1). */
function checkSubByteRange(info: QTypeInfo, offset: number, n: number, argument: string): void {
  if (info.bits >= 8 || n === 0) return;
  const k = rt().kernels;
  const bad = info.signed ? k.first_outside_i8(offset, n, info.qmin, info.qmax) : k.first_outside_u8(offset, n, info.qmin, info.qmax);
  if (bad >= 0) {
    const v = info.signed ? rt().mem.i8(offset + bad, 1)[0] : rt().mem.bytes(offset + bad, 1)[0];
    throw new InvalidArgumentError(argument, `element ${bad} is ${v}, outside ${info.name}'s range [${info.qmin}, ${info.qmax}]`);
  }
}

function storageView(info: QTypeInfo, offset: number, n: number): QStorageArray {
  const mem = rt().mem;
  switch (info.storage) {
    case 'int8': return mem.i8(offset, n);
    case 'uint8': return mem.bytes(offset, n);
    case 'int16': return mem.i16(offset, n);
    case 'uint16': return mem.u16(offset, n);
  }
}

/** Allocate blocks, run `body`, free them all (also when body throws). */
function withBlocks<T>(sizes: number[], body: (offsets: number[]) => T): T {
  const mem = rt().mem;
  const offsets: number[] = [];
  try {
    for (const s of sizes) offsets.push(mem.alloc(s));
    return body(offsets);
  } finally {
    for (const o of offsets) mem.release(o);
  }
}

function runQuantize(rp: ResolvedParams, src: number, dst: number, argument: string): void {
  const { mem } = rt();
  const pb = stageParams(mem, rp);
  try {
    throwIfNaN(callQuantLike(quantizeNames(rp.info), rp, pb, src, dst, STORAGE_CTOR[rp.info.storage].BYTES_PER_ELEMENT), argument);
  } finally {
    if (pb) mem.release(pb.offset);
  }
}

function runFakeQuantize(rp: ResolvedParams, src: number, dst: number, argument: string): void {
  const { mem } = rt();
  const pb = stageParams(mem, rp);
  try {
    throwIfNaN(callQuantLike(FAKE_QUANTIZE_NAMES, rp, pb, src, dst, 4), argument);
  } finally {
    if (pb) mem.release(pb.offset);
  }
}

function runDequantize(rp: ResolvedParams, src: number, dst: number, argument: string): void {
  const { mem } = rt();
  checkSubByteRange(rp.info, src, rp.size, argument);
  const pb = stageParams(mem, rp);
  try {
    callDequantize(dequantizeNames(rp.info), rp, pb, src, dst, STORAGE_CTOR[rp.info.storage].BYTES_PER_ELEMENT);
  } finally {
    if (pb) mem.release(pb.offset);
  }
}

// ---- array form --------------------------------------------------------------------------------

/**
 * Quantize float32 data (eq. 2, 4): one integer per element in the qtype's storage array
 * (Int8Array for int8/int4/int2, Uint8Array for uint8/uint4/uint2, Int16Array, Uint16Array).
 * Throws NaNInputError on NaN; ±Inf saturate.
 */
export function quantize(x: Float32Array, shape: readonly number[], p: QParams): QStorageArray {
  const rp = resolveParams(p, shape);
  checkFloat32(x, rp.size, 'x');
  const bpe = STORAGE_CTOR[rp.info.storage].BYTES_PER_ELEMENT;
  return withBlocks([rp.size * 4, rp.size * bpe], ([xo, qo]) => {
    rt().mem.f32(xo!, rp.size).set(x);
    runQuantize(rp, xo!, qo!, 'x');
    const out = storageArray(rp.info, rp.size);
    out.set(storageView(rp.info, qo!, rp.size));
    return out;
  });
}

/** Dequantize (eq. 3, 4): `q` is the qtype's storage array, one value per element. */
export function dequantize(q: QStorageArray, shape: readonly number[], p: QParams): Float32Array {
  const rp = resolveParams(p, shape);
  checkStorage(q, rp.info, rp.size, 'q');
  return withBlocks([q.byteLength, rp.size * 4], ([qo, yo]) => {
    storageView(rp.info, qo!, rp.size).set(q);
    runDequantize(rp, qo!, yo!, 'q');
    return new Float32Array(rt().mem.f32(yo!, rp.size));
  });
}

/** Fake quantization (eq. 5): dequantize(quantize(x)), fused, bit-identical to the two steps. */
export function fakeQuantize(x: Float32Array, shape: readonly number[], p: QParams): Float32Array {
  const rp = resolveParams(p, shape);
  checkFloat32(x, rp.size, 'x');
  return withBlocks([rp.size * 4], ([xo]) => {
    rt().mem.f32(xo!, rp.size).set(x);
    runFakeQuantize(rp, xo!, xo!, 'x');
    return new Float32Array(rt().mem.f32(xo!, rp.size));
  });
}

// ---- tensor form (zero-copy) -------------------------------------------------------------------

function checkTensor(t: unknown, dtype: DType, argument: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError(argument, 'must be a Tensor (create one with Tensor.from(...))');
  if (t.dtype !== dtype) throw new InvalidArgumentError(argument, `must be a ${dtype} tensor, got ${t.dtype}`);
  void t.byteOffset; // DisposedError if disposed
}

function checkOut(out: Tensor | undefined, dtype: DType, size: number): void {
  if (out === undefined) return;
  checkTensor(out, dtype, 'out');
  if (out.size !== size) throw new InvalidArgumentError('out', `has ${out.size} elements, the result has ${size}`);
}

function outTensor<D extends DType>(out: Tensor | undefined, dtype: D, shape: readonly number[]): Tensor<D> {
  return (out ?? Tensor.empty(dtype, shape)) as Tensor<D>;
}

/** Run `body` on a possibly fresh output tensor; dispose it if body throws and we created it. */
function produce<D extends DType>(out: Tensor | undefined, dtype: D, shape: readonly number[], body: (o: Tensor<D>) => void): Tensor<D> {
  const o = outTensor(out, dtype, shape);
  try {
    body(o);
  } catch (e) {
    if (o !== out) o.dispose();
    throw e;
  }
  return o;
}

/** Quantize a float32 tensor in wasm memory (eq. 2, 4) into `out` or a new tensor of the qtype's storage dtype. */
export function quantizeTensor(x: Tensor<'float32'>, p: QParams, out?: Tensor): Tensor<QTypeInfo['storage']> {
  checkTensor(x, 'float32', 'x');
  const rp = resolveParams(p, x.shape);
  checkOut(out, rp.info.storage, rp.size);
  return produce(out, rp.info.storage, x.shape, (o) => runQuantize(rp, x.byteOffset, o.byteOffset, 'x'));
}

/** Dequantize a tensor of the qtype's storage dtype (eq. 3, 4) into `out` or a new float32 tensor. */
export function dequantizeTensor(q: Tensor, p: QParams, out?: Tensor<'float32'>): Tensor<'float32'> {
  if (!(q instanceof Tensor)) throw new InvalidArgumentError('q', 'must be a Tensor (create one with Tensor.from(...))');
  const rp = resolveParams(p, q.shape);
  checkTensor(q, rp.info.storage, 'q');
  checkOut(out, 'float32', rp.size);
  return produce(out, 'float32', q.shape, (o) => runDequantize(rp, q.byteOffset, o.byteOffset, 'q'));
}

/** Fake-quantize a float32 tensor (eq. 5) into `out` (which may be `x` itself) or a new tensor. */
export function fakeQuantizeTensor(x: Tensor<'float32'>, p: QParams, out?: Tensor<'float32'>): Tensor<'float32'> {
  checkTensor(x, 'float32', 'x');
  const rp = resolveParams(p, x.shape);
  checkOut(out, 'float32', rp.size);
  return produce(out, 'float32', x.shape, (o) => runFakeQuantize(rp, x.byteOffset, o.byteOffset, 'x'));
}
