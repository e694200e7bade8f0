/**
 * Requantizing output stage (eq. 17), ONNX QLinearMatMul semantics: the float32 multiplier
 * m = f32(f32(s_a·s_b) / s_y) is applied to the exact int32 accumulator in double precision,
 * rounded half to even, offset by the output zero point and saturated to int8 or uint8.
 * (float16 scales enter as the exact numbers they encode; the ONNX vectors pass this way.)
 */
import { InvalidArgumentError } from '../../errors.js';
import { assertZeroPoint } from '../validate.js';
import { roundHalfEvenF32 } from '../../quant/round.js';

export type QOutType = 'int8' | 'uint8';

export interface RequantizeParams {
  aScale: number;
  bScale: number;
  yScale: number;
  yZeroPoint?: number;
  outType: QOutType;
}


/** The float32 multiplier of eq. 17. */
export function requantizeMultiplier(aScale: number, bScale: number, yScale: number): number {
  for (const [name, s] of [['aScale', aScale], ['bScale', bScale], ['yScale', yScale]] as const) {
    if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) throw new InvalidArgumentError(name, `must be a finite number > 0, got ${String(s)}`);
  }
  const f = Math.fround;
  return f(f(f(aScale) * f(bScale)) / f(yScale));
}

/** Requantize int32 accumulators to int8/uint8 (eq. 17). */
export function requantize(acc: Int32Array, p: RequantizeParams): Int8Array | Uint8Array {
  if (!(acc instanceof Int32Array)) throw new InvalidArgumentError('acc', 'must be an Int32Array');
  if (p.outType !== 'int8' && p.outType !== 'uint8') throw new InvalidArgumentError('outType', `must be 'int8' or 'uint8', got ${String(p.outType)}`);
  const signed = p.outType === 'int8';
  const zy = p.yZeroPoint ?? 0;
  assertZeroPoint('yZeroPoint', zy, signed);
  const mult = requantizeMultiplier(p.aScale, p.bScale, p.yScale);
  const [lo, hi] = signed ? [-128, 127] : [0, 255];
  const out = signed ? new Int8Array(acc.length) : new Uint8Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const v = roundHalfEvenF32(acc[i]! * mult) + zy;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
