/**
 * The one registry of quantized types. Kernels' wrappers, tests and benchmarks loop over it;
 * a new type is one row here. See docs/quantization.md (eq. 1–3) for the grid each row defines.
 *
 * `storage` is how the host holds one value per element (unpacked); `packedBits` is how many bits
 * one value takes when packed (ONNX order: element 2i in the low nibble for 4-bit, element 4i in
 * the lowest two bits for 2-bit).
 */
import { InvalidArgumentError } from '../errors.js';
import type { DType } from '../runtime/tensor.js';

export type QType = 'int8' | 'uint8' | 'int4' | 'uint4' | 'int2' | 'uint2' | 'int16' | 'uint16';

export interface QTypeInfo {
  readonly name: QType;
  readonly bits: number;
  readonly signed: boolean;
  readonly qmin: number;
  readonly qmax: number;
  /** Typed array holding one value per element. */
  readonly storage: 'int8' | 'uint8' | 'int16' | 'uint16';
  /** Bits per value when packed. */
  readonly packedBits: number;
}

function row(name: QType, bits: number, signed: boolean, storage: QTypeInfo['storage']): QTypeInfo {
  const qmin = signed ? -(2 ** (bits - 1)) : 0;
  const qmax = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return Object.freeze({ name, bits, signed, qmin, qmax, storage, packedBits: bits });
}

export const QTYPES: Readonly<Record<QType, QTypeInfo>> = Object.freeze({
  int8: row('int8', 8, true, 'int8'),
  uint8: row('uint8', 8, false, 'uint8'),
  int4: row('int4', 4, true, 'int8'),
  uint4: row('uint4', 4, false, 'uint8'),
  int2: row('int2', 2, true, 'int8'),
  uint2: row('uint2', 2, false, 'uint8'),
  int16: row('int16', 16, true, 'int16'),
  uint16: row('uint16', 16, false, 'uint16'),
});

export const QTYPE_NAMES = Object.freeze(Object.keys(QTYPES) as QType[]);

export function qtypeInfo(qtype: unknown, argument = 'qtype'): QTypeInfo {
  if (typeof qtype !== 'string' || !Object.prototype.hasOwnProperty.call(QTYPES, qtype)) {
    throw new InvalidArgumentError(argument, `unknown quantized type '${String(qtype)}'; use one of ${QTYPE_NAMES.join(', ')}`);
  }
  return QTYPES[qtype as QType];
}

export type QStorageArray = Int8Array | Uint8Array | Int16Array | Uint16Array;

export function storageArray(info: QTypeInfo, n: number): QStorageArray {
  switch (info.storage) {
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
  }
}

export function storageDType(info: QTypeInfo): DType {
  return info.storage;
}
