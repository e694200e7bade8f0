/**
 * Quantization parameters: the public `QParams`, their validation, and the resolved form the
 * kernels' wrappers use (docs/quantization.md eq. 1, 4).
 *
 * Granularity follows ONNX QuantizeLinear / DequantizeLinear:
 * - per tensor: `scale` is a number (or a 1-element array) and `zeroPoint` a number;
 * - per axis:   `scale` has `shape[axis]` values; `axis` may be negative (counts from the end) and
 *               defaults to 1 as in ONNX;
 * - blocked:    `axis` + `blockSize` (ONNX opset 21): the scale tensor has x's shape with the axis
 *               dimension D replaced by ⌈D / blockSize⌉, flattened row-major; element d along the
 *               axis uses block ⌊d / blockSize⌋, so when blockSize does not divide D the last
 *               block is shorter (eq. 4, 50). A scale count other than that is an error.
 */
import { InvalidArgumentError } from '../errors.js';
import { shapeSize } from '../runtime/tensor.js';
import { qtypeInfo, type QType, type QTypeInfo } from './qtypes.js';

export interface QParams {
  qtype: QType;
  /** Per tensor: a number. Per axis / blocked: one float32 per channel / block. Finite, > 0. */
  scale: number | Float32Array;
  /** Integers in the type's range; default 0. A number, or one per scale. */
  zeroPoint?: number | ArrayLike<number>;
  /** The quantized axis for per-axis and blocked parameters (negative counts from the end; default 1, as ONNX). */
  axis?: number;
  /** Block length along `axis` (blocked quantization, ONNX opset 21). */
  blockSize?: number;
}

export type Granularity = 'tensor' | 'axis' | 'blocked';

/** Validated parameters tied to one shape: everything a kernel call needs. */
export interface ResolvedParams {
  readonly info: QTypeInfo;
  readonly granularity: Granularity;
  /** Element count of the data. */
  readonly size: number;
  /** Normalised axis (−1 for per tensor). */
  readonly axis: number;
  /** 0 unless blocked. */
  readonly blockSize: number;
  /** Blocks along the axis, ⌈dim / blockSize⌉ (eq. 50); 0 unless blocked. */
  readonly blocks: number;
  /** The data viewed as [outer, dim, inner] around the axis (1, size, 1 for per tensor). */
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** Scales as float32 (length 1 for per tensor). */
  readonly scale: Float32Array;
  /** Zero points, integers held as float32 (exact: |z| ≤ 65535); same length as `scale`. */
  readonly zeroPoint: Float32Array;
}

const describe = (v: unknown): string => (typeof v === 'number' ? String(v) : typeof v === 'string' ? `'${v}'` : Object.prototype.toString.call(v));

function checkScaleValue(v: number, argument: string): number {
  const f = Math.fround(v);
  if (typeof v !== 'number' || !(f > 0) || f === Infinity) {
    const why = typeof v !== 'number' ? `got ${describe(v)}`
      : Number.isNaN(v) ? 'got NaN'
      : v <= 0 ? `got ${v}; a scale must be > 0`
      : f === 0 ? `${v} underflows to 0 in float32`
      : `${v} is not a finite float32`;
    throw new InvalidArgumentError(argument, `must be a finite float32 > 0 (${why}); pick a scale with qparamsFromRange()`);
  }
  return f;
}

function checkZeroPoint(v: unknown, info: QTypeInfo, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < info.qmin || v > info.qmax) {
    throw new InvalidArgumentError(argument,
      `must be an integer in [${info.qmin}, ${info.qmax}] for ${info.name}, got ${describe(v)}`);
  }
  return v;
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) || Array.isArray(v);
}

/** Normalise an axis in [−rank, rank − 1]. */
export function normaliseAxis(axis: unknown, rank: number, argument = 'p.axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new InvalidArgumentError(argument, rank === 0
      ? `a scalar (shape []) has no axis; use a per-tensor scale`
      : `must be an integer in [${-rank}, ${rank - 1}] for a rank-${rank} tensor, got ${describe(axis)}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Validate `p` against `shape` and resolve it for the kernels. */
export function resolveParams(p: QParams, shape: readonly number[], argument = 'p'): ResolvedParams {
  if (p === null || typeof p !== 'object') throw new InvalidArgumentError(argument, 'must be a QParams object { qtype, scale, zeroPoint?, axis?, blockSize? }');
  const info = qtypeInfo(p.qtype, `${argument}.qtype`);
  const size = shapeSize(shape as number[], 'shape');
  const rank = shape.length;
  const scaleIn = p.scale as unknown;

  // ---- per tensor ------------------------------------------------------------------------------
  const scalarScale = typeof scaleIn === 'number' || (isArrayLike(scaleIn) && scaleIn.length === 1 && p.blockSize === undefined);
  if (scalarScale) {
    if (p.blockSize !== undefined) {
      throw new InvalidArgumentError(`${argument}.blockSize`, 'blocked quantization needs one scale per block (a Float32Array), not a single number');
    }
    if (p.axis !== undefined && rank > 0) normaliseAxis(p.axis, rank, `${argument}.axis`);
    const s = checkScaleValue(typeof scaleIn === 'number' ? scaleIn : (scaleIn as ArrayLike<number>)[0]!, `${argument}.scale`);
    let z = 0;
    const zp = p.zeroPoint as unknown;
    if (zp !== undefined) {
      if (isArrayLike(zp)) {
        if (zp.length !== 1) throw new InvalidArgumentError(`${argument}.zeroPoint`, `a per-tensor scale takes one zero point, got ${zp.length}`);
        z = checkZeroPoint(zp[0], info, `${argument}.zeroPoint[0]`);
      } else z = checkZeroPoint(zp, info, `${argument}.zeroPoint`);
    }
    return {
      info, granularity: 'tensor', size, axis: -1, blockSize: 0, blocks: 0, outer: 1, dim: size, inner: 1,
      scale: Float32Array.of(s), zeroPoint: Float32Array.of(z),
    };
  }
  if (!isArrayLike(scaleIn)) {
    throw new InvalidArgumentError(`${argument}.scale`, `must be a number (per tensor) or a Float32Array (per axis / blocked), got ${describe(scaleIn)}`);
  }
  if (scaleIn.length === 0) throw new InvalidArgumentError(`${argument}.scale`, 'is empty; give one scale per channel or block');

  // ---- per axis / blocked ----------------------------------------------------------------------
  if (rank === 0) throw new InvalidArgumentError(`${argument}.scale`, `a scalar (shape []) takes one scale, got ${scaleIn.length}`);
  const axis = normaliseAxis(p.axis ?? 1, rank, `${argument}.axis`);
  const dim = shape[axis]!;
  let outer = 1, inner = 1;
  for (let k = 0; k < axis; k++) outer *= shape[k]!;
  for (let k = axis + 1; k < rank; k++) inner *= shape[k]!;

  let blockSize = 0, blocks = 0;
  let expected: number;
  if (p.blockSize !== undefined) {
    const b = p.blockSize as unknown;
    if (typeof b !== 'number' || !Number.isSafeInteger(b) || b < 1) {
      throw new InvalidArgumentError(`${argument}.blockSize`, `must be a positive integer (elements per block along the axis), got ${describe(b)}`);
    }
    blockSize = b;
    blocks = Math.ceil(dim / b); // eq. 50: the last block holds the remaining dim − (blocks − 1)·b elements
    expected = outer * blocks * inner;
    if (scaleIn.length !== expected) {
      const sshape = shape.map((d, k) => (k === axis ? blocks : d));
      throw new InvalidArgumentError(`${argument}.scale`,
        `blocked scales for shape [${shape.join(', ')}], axis ${axis}, blockSize ${b} must have shape [${sshape.join(', ')}] ` +
        `(⌈${dim}/${b}⌉ = ${blocks} blocks along the axis, ${expected} values), got ${scaleIn.length}`);
    }
  } else {
    expected = dim;
    if (scaleIn.length !== dim) {
      throw new InvalidArgumentError(`${argument}.scale`,
        `per-axis scales need shape[${axis}] = ${dim} values, got ${scaleIn.length}` +
        (p.axis === undefined ? ' (axis defaults to 1 as in ONNX; pass p.axis)' : ''));
    }
  }

  const scale = new Float32Array(expected);
  for (let i = 0; i < expected; i++) scale[i] = checkScaleValue(scaleIn[i]!, `${argument}.scale[${i}]`);
  const zeroPoint = new Float32Array(expected);
  const zp = p.zeroPoint as unknown;
  if (zp !== undefined) {
    if (isArrayLike(zp)) {
      if (zp.length !== expected) {
        throw new InvalidArgumentError(`${argument}.zeroPoint`, `needs one zero point per scale (${expected}), got ${zp.length}`);
      }
      for (let i = 0; i < expected; i++) zeroPoint[i] = checkZeroPoint(zp[i], info, `${argument}.zeroPoint[${i}]`);
    } else {
      zeroPoint.fill(checkZeroPoint(zp, info, `${argument}.zeroPoint`));
    }
  }
  return { info, granularity: blockSize ? 'blocked' : 'axis', size, axis, blockSize, blocks, outer, dim, inner, scale, zeroPoint };
}
