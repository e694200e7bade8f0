/**
 * Sub-byte packing in ONNX order (docs/quantization.md eq. 9): int4/uint4 two to a byte,
 * element 2i in the low nibble of byte i; int2/uint2 four to a byte from the low bits.
 * Values are range-checked (a value outside the type's grid cannot be packed faithfully).
 */
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from '../runtime/tensor.js';
import { rt } from '../runtime/wasm.js';

function packWith(q: Int8Array | Uint8Array, bits: 4 | 2): Uint8Array {
  const signed = q instanceof Int8Array;
  if (!signed && !(q instanceof Uint8Array)) {
    throw new InvalidArgumentError('q', `must be an Int8Array (int${bits}) or a Uint8Array (uint${bits}), got ${Object.prototype.toString.call(q)}`);
  }
  const lo = signed ? -(1 << (bits - 1)) : 0, hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  const n = q.length, per = 8 / bits, bytes = Math.ceil(n / per);
  const { kernels, mem } = rt();
  const qo = mem.alloc(n);
  let po = 0;
  try {
    po = mem.alloc(bytes);
    mem.bytes(qo, n).set(new Uint8Array(q.buffer, q.byteOffset, n));
    const bad = signed ? kernels.first_outside_i8(qo, n, lo, hi) : kernels.first_outside_u8(qo, n, lo, hi);
    if (bad >= 0) {
      throw new InvalidArgumentError('q', `element ${bad} is ${q[bad]}, outside ${signed ? '' : 'u'}int${bits}'s range [${lo}, ${hi}]`);
    }
    if (bits === 4) kernels.pack_int4(qo, po, n); else kernels.pack_int2(qo, po, n);
    return new Uint8Array(mem.bytes(po, bytes));
  } finally {
    mem.release(qo);
    if (po) mem.release(po);
  }
}

function unpackWith(packed: Uint8Array, count: number, signed: boolean, bits: 4 | 2): Int8Array | Uint8Array {
  if (!(packed instanceof Uint8Array)) throw new InvalidArgumentError('packed', `must be a Uint8Array, got ${Object.prototype.toString.call(packed)}`);
  const per = 8 / bits;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || Math.ceil(count / per) > packed.length) {
    throw new InvalidArgumentError('count', `must be an integer in [0, ${packed.length * per}] (${per} values per byte of packed), got ${String(count)}`);
  }
  if (typeof signed !== 'boolean') throw new InvalidArgumentError('signed', `must be true (int${bits}) or false (uint${bits}), got ${String(signed)}`);
  const bytes = Math.ceil(count / per);
  const { kernels, mem } = rt();
  const po = mem.alloc(bytes);
  let qo = 0;
  try {
    qo = mem.alloc(count);
    mem.bytes(po, bytes).set(packed.subarray(0, bytes));
    if (bits === 4) (signed ? kernels.unpack_int4_s : kernels.unpack_int4_u)(po, qo, count);
    else (signed ? kernels.unpack_int2_s : kernels.unpack_int2_u)(po, qo, count);
    return signed ? new Int8Array(mem.i8(qo, count)) : new Uint8Array(mem.bytes(qo, count));
  } finally {
    mem.release(po);
    if (qo) mem.release(qo);
  }
}

/** Pack int4 (Int8Array, [−8, 7]) or uint4 (Uint8Array, [0, 15]) values two to a byte, ONNX order. */
export function packInt4(q: Int8Array | Uint8Array): Uint8Array { return packWith(q, 4); }
/** Unpack `count` 4-bit values (sign-extended when `signed`). */
export function unpackInt4(packed: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array { return unpackWith(packed, count, signed, 4); }
/** Pack int2 (Int8Array, [−2, 1]) or uint2 (Uint8Array, [0, 3]) values four to a byte, ONNX order. */
export function packInt2(q: Int8Array | Uint8Array): Uint8Array { return packWith(q, 2); }
/** Unpack `count` 2-bit values (sign-extended when `signed`). */
export function unpackInt2(packed: Uint8Array, count: number, signed: boolean): Int8Array | Uint8Array { return unpackWith(packed, count, signed, 2); }

// ---- tensor form (zero-copy) -------------------------------------------------------------------

function packTensorWith(q: Tensor, bits: 4 | 2): Tensor<'uint8'> {
  if (!(q instanceof Tensor) || (q.dtype !== 'int8' && q.dtype !== 'uint8')) {
    throw new InvalidArgumentError('q', `must be an int8 (int${bits}) or uint8 (uint${bits}) Tensor`);
  }
  const signed = q.dtype === 'int8';
  const lo = signed ? -(1 << (bits - 1)) : 0, hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  const { kernels } = rt();
  const n = q.size;
  const bad = signed ? kernels.first_outside_i8(q.byteOffset, n, lo, hi) : kernels.first_outside_u8(q.byteOffset, n, lo, hi);
  if (bad >= 0) throw new InvalidArgumentError('q', `element ${bad} is ${q.view().get(bad)}, outside ${signed ? '' : 'u'}int${bits}'s range [${lo}, ${hi}]`);
  const out = Tensor.empty('uint8', [Math.ceil(n / (8 / bits))]);
  if (bits === 4) kernels.pack_int4(q.byteOffset, out.byteOffset, n); else kernels.pack_int2(q.byteOffset, out.byteOffset, n);
  return out;
}

function unpackTensorWith(packed: Tensor, shape: readonly number[], signed: boolean, bits: 4 | 2): Tensor<'int8'> | Tensor<'uint8'> {
  if (!(packed instanceof Tensor) || packed.dtype !== 'uint8') throw new InvalidArgumentError('packed', 'must be a uint8 Tensor');
  if (typeof signed !== 'boolean') throw new InvalidArgumentError('signed', `must be true (int${bits}) or false (uint${bits}), got ${String(signed)}`);
  const out = Tensor.empty(signed ? 'int8' : 'uint8', shape); // validates shape
  if (Math.ceil(out.size / (8 / bits)) > packed.size) {
    out.dispose();
    throw new InvalidArgumentError('shape', `[${shape.join(', ')}] needs ${Math.ceil(out.size / (8 / bits))} packed bytes, packed has ${packed.size}`);
  }
  const { kernels } = rt();
  if (bits === 4) (signed ? kernels.unpack_int4_s : kernels.unpack_int4_u)(packed.byteOffset, out.byteOffset, out.size);
  else (signed ? kernels.unpack_int2_s : kernels.unpack_int2_u)(packed.byteOffset, out.byteOffset, out.size);
  return out as Tensor<'int8'> | Tensor<'uint8'>;
}

/** packInt4 on a tensor in wasm memory: an int8 (int4) or uint8 (uint4) tensor → a new uint8 tensor of ⌈n/2⌉ bytes. */
export function packInt4Tensor(q: Tensor): Tensor<'uint8'> { return packTensorWith(q, 4); }
/** unpackInt4 on a tensor in wasm memory: a new int8 (signed) or uint8 tensor of `shape`. */
export function unpackInt4Tensor(packed: Tensor, shape: readonly number[], signed: boolean): Tensor<'int8'> | Tensor<'uint8'> { return unpackTensorWith(packed, shape, signed, 4); }
/** packInt2 on a tensor in wasm memory (⌈n/4⌉ bytes). */
export function packInt2Tensor(q: Tensor): Tensor<'uint8'> { return packTensorWith(q, 2); }
/** unpackInt2 on a tensor in wasm memory. */
export function unpackInt2Tensor(packed: Tensor, shape: readonly number[], signed: boolean): Tensor<'int8'> | Tensor<'uint8'> { return unpackTensorWith(packed, shape, signed, 2); }
