/**
 * Choosing quantization parameters from a float range (docs/quantization.md eq. 7).
 *
 * Every step is rounded to float32, as ONNX DynamicQuantizeLinear computes it, so
 * `qparamsFromRange(min, max, { qtype: 'uint8' })` reproduces DynamicQuantizeLinear's scale and
 * zero point exactly (eq. 8).
 */
import { InvalidArgumentError } from '../errors.js';
import { roundHalfEvenF32 } from './round.js';
import type { QParams } from './params.js';
import { qtypeInfo, type QType, type QTypeInfo } from './qtypes.js';

export interface RangeOptions {
  qtype: QType;
  /** z = 0 (signed) or the grid's midpoint (unsigned), s = max(|min|, |max|) / ((qmax' − qmin') / 2). Default false. */
  symmetric?: boolean;
  /** Drop the lowest code: qmin' = qmin + 1 (int8 → [−127, 127], uint8 → [1, 255]). Default false. */
  narrowRange?: boolean;
  /** With per-channel (array) min/max: the axis to put in the returned QParams. */
  axis?: number;
  /** With per-block (array) min/max: the block size to put in the returned QParams. */
  blockSize?: number;
}

const SMALLEST_F32 = 2 ** -149;

/** One (scale, zero point) from one range (eq. 7). lo ≤ 0 ≤ hi, finite. */
export function affineParams(lo: number, hi: number, info: QTypeInfo, symmetric: boolean, narrow: boolean): { scale: number; zeroPoint: number } {
  const f = Math.fround;
  const qlo = info.qmin + (narrow ? 1 : 0), qhi = info.qmax;
  let scale: number, zeroPoint: number;
  if (symmetric) {
    const amax = Math.max(-lo, hi);
    const half = (qhi - qlo) / 2;
    scale = f(amax / half);
    if (scale === 0) scale = amax === 0 ? 1 : SMALLEST_F32;
    zeroPoint = roundHalfEvenF32((qlo + qhi) / 2) + 0; // + 0 turns −0 into 0
  } else {
    const steps = qhi - qlo;
    scale = f(f(hi - lo) / steps);
    if (scale === Infinity) scale = f(f(hi / steps) - f(lo / steps)); // hi − lo overflowed float32
    if (scale === 0) scale = hi === lo ? 1 : SMALLEST_F32;            // zero-width / subnormal range
    const z = roundHalfEvenF32(f(qlo - f(lo / scale))) + 0;
    zeroPoint = z < qlo ? qlo : z > qhi ? qhi : z;
  }
  return { scale, zeroPoint };
}

function checkBound(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidArgumentError(argument, `must be a finite number, got ${String(v)}`);
  }
  return Math.fround(v);
}

/**
 * Scale and zero point covering [min, max] widened to include 0 (eq. 7). `min`/`max` are numbers
 * (per tensor) or equal-length arrays (one range per channel or block: pass `axis`, and
 * `blockSize` for blocks, which are copied into the result).
 */
export function qparamsFromRange(min: number | ArrayLike<number>, max: number | ArrayLike<number>, options: RangeOptions): QParams {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be { qtype, symmetric?, narrowRange?, axis?, blockSize? }');
  const info = qtypeInfo(options.qtype, 'options.qtype');
  const symmetric = options.symmetric ?? false, narrow = options.narrowRange ?? false;
  if (typeof symmetric !== 'boolean') throw new InvalidArgumentError('options.symmetric', `must be a boolean, got ${String(symmetric)}`);
  if (typeof narrow !== 'boolean') throw new InvalidArgumentError('options.narrowRange', `must be a boolean, got ${String(narrow)}`);
  const one = (mn: unknown, mx: unknown, where: string) => {
    const a = checkBound(mn, `min${where}`), b = checkBound(mx, `max${where}`);
    if (a > b) throw new InvalidArgumentError(`min${where}`, `${a} is greater than max${where} = ${b}`);
    return affineParams(Math.min(a, 0), Math.max(b, 0), info, symmetric, narrow);
  };
  if (typeof min === 'number' && typeof max === 'number') {
    if (options.blockSize !== undefined) throw new InvalidArgumentError('options.blockSize', 'blocked parameters need one range per block (arrays for min and max)');
    const { scale, zeroPoint } = one(min, max, '');
    return { qtype: info.name, scale, zeroPoint };
  }
  const isArr = (v: unknown): v is ArrayLike<number> => ArrayBuffer.isView(v) || Array.isArray(v);
  if (!isArr(min) || !isArr(max)) {
    throw new InvalidArgumentError(isArr(min) ? 'max' : 'min', 'min and max must both be numbers or both be arrays of the same length');
  }
  if (min.length !== max.length) throw new InvalidArgumentError('max', `has ${max.length} values, min has ${min.length}`);
  if (min.length === 0) throw new InvalidArgumentError('min', 'is empty');
  if (options.axis === undefined) {
    throw new InvalidArgumentError('options.axis', 'per-channel or per-block ranges (arrays) need the axis they run along');
  }
  if (typeof options.axis !== 'number' || !Number.isInteger(options.axis)) {
    throw new InvalidArgumentError('options.axis', `must be an integer, got ${String(options.axis)}`);
  }
  const scale = new Float32Array(min.length);
  const zeroPoint = new Int32Array(min.length);
  for (let i = 0; i < min.length; i++) {
    const r = one(min[i], max[i], `[${i}]`);
    scale[i] = r.scale;
    zeroPoint[i] = r.zeroPoint;
  }
  const p: QParams = { qtype: info.name, scale, zeroPoint, axis: options.axis };
  if (options.blockSize !== undefined) p.blockSize = options.blockSize;
  return p;
}
