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
  /** With per-block (array) min/max: the block size to put in the returned QParams (a positive integer; need not divide the axis). */
  blockSize?: number;
}

const SMALLEST_F32 = 2 ** -149;
const LARGEST_F32 = 3.4028234663852886e38;

const f32Bits = new Float32Array(1), f32Int = new Int32Array(f32Bits.buffer);
/** The float32 just below a positive, finite float32. */
function nextDownF32(v: number): number {
  f32Bits[0] = v;
  f32Int[0] = f32Int[0]! - 1;
  return f32Bits[0]!;
}

/**
 * eq. 53: keep every code of the type finite. With k = max(z − q_min, q_max − z), the extreme
 * code dequantizes to ±f32(s·k); when that overflows float32 (ranges within a step of ±3.4e38),
 * s becomes the largest float32 with f32(s·k) finite, so values past the grid's ends saturate
 * there (within one step of the range) instead of dequantizing to ±Infinity.
 */
function finiteGridScale(scale: number, zeroPoint: number, info: QTypeInfo): number {
  const k = Math.max(zeroPoint - info.qmin, info.qmax - zeroPoint);
  if (Number.isFinite(Math.fround(scale * k))) return scale; // s·k is exact in double: f32 bits × ≤ 17-bit k
  let s = Math.fround(LARGEST_F32 / k);
  while (!Number.isFinite(Math.fround(s * k))) s = nextDownF32(s);
  return s;
}

/** One (scale, zero point) from one range (eq. 7, 53). lo ≤ 0 ≤ hi, finite. */
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
  return { scale: finiteGridScale(scale, zeroPoint, info), zeroPoint };
}

function checkBound(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidArgumentError(argument, `must be a finite number, got ${String(v)}`);
  }
  return Math.fround(v);
}

/**
 * Scale and zero point covering [min, max] widened to include 0 (eq. 7, 53). `min`/`max` are numbers
 * (per tensor) or equal-length arrays (one range per channel or block: pass `axis`, and
 * `blockSize` for blocks, which are copied into the result). Blocked ranges are in the ONNX scale
 * layout: x's shape with the axis dimension D replaced by ⌈D / blockSize⌉, row-major (eq. 50);
 * the count is checked when the parameters meet a shape.
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
  const b = options.blockSize as unknown;
  if (b !== undefined && (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 1)) {
    throw new InvalidArgumentError('options.blockSize', `must be a positive integer (elements per block along the axis), got ${String(b)}`);
  }
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
