/**
 * Sub-byte packing in ONNX order (docs/quantization.md eq. 9): int4/uint4 two to a byte,
 * element 2i in the low nibble of byte i; int2/uint2 four to a byte from the low bits.
 * Values are range-checked (a value outside the type's grid cannot be packed faithfully).
 */
import { InvalidArgumentError } from '../errors.js';
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
