/**
 * Calibration groups: which elements share one (scale, zero point), and how a batch is gathered
 * into group-major order for the kernels (docs/quantization.md eq. 22).
 *
 * ONNX granularities, with x viewed as [A, C, I] around `axis` (A = product of the dims before,
 * C = shape[axis], I = product of the dims after):
 *   per tensor  1 group of A·C·I elements;
 *   per axis    C groups (channels), each of A·I elements per batch;
 *   blocked     A·(C/B)·I groups (the scale tensor is x's shape with C replaced by C/B, flattened
 *               row-major), each of B elements; B must divide C.
 * After `cal_permute_f32` every group's elements of a batch are one contiguous run of `len`.
 */
import { InvalidArgumentError } from '../errors.js';
import { shapeSize } from '../runtime/tensor.js';

export type GroupGranularity = 'tensor' | 'axis' | 'blocked';

export interface GroupLayout {
  readonly granularity: GroupGranularity;
  /** Normalised axis, −1 per tensor. */
  readonly axis: number;
  /** 0 unless blocked. */
  readonly blockSize: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** Number of (scale, zero point) pairs. */
  readonly groups: number;
  /** Elements of one group in this batch. */
  readonly len: number;
  /** Arguments of cal_permute_f32 that make the batch group-major, or null when it already is. */
  readonly permute: { slabs: number; rows: number; cols: number; run: number } | null;
}

/** Validate `shape` against x's length and the observer's axis / blockSize, and describe the groups. */
export function groupLayout(length: number, shape: readonly number[], axis: number | undefined, blockSize: number | undefined): GroupLayout {
  const size = shapeSize(shape, 'shape');
  if (size !== length) {
    throw new InvalidArgumentError('shape', `[${shape.join(', ')}] holds ${size} elements but x has ${length}; pass x's true shape`);
  }
  if (size === 0) throw new InvalidArgumentError('x', 'is empty; observe at least one element');
  if (axis === undefined) {
    return { granularity: 'tensor', axis: -1, blockSize: 0, shape: [...shape], size, outer: 1, dim: size, inner: 1, groups: 1, len: size, permute: null };
  }
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new InvalidArgumentError('axis', rank === 0
      ? 'a scalar (shape []) has no axis; observe per tensor (omit axis)'
      : `must be an integer in [${-rank}, ${rank - 1}] for shape [${shape.join(', ')}], got ${String(axis)}`);
  }
  const ax = axis < 0 ? axis + rank : axis;
  const dim = shape[ax]!;
  let outer = 1, inner = 1;
  for (let k = 0; k < ax; k++) outer *= shape[k]!;
  for (let k = ax + 1; k < rank; k++) inner *= shape[k]!;
  if (blockSize === undefined) {
    return {
      granularity: 'axis', axis: ax, blockSize: 0, shape: [...shape], size, outer, dim, inner, groups: dim, len: outer * inner,
      permute: outer === 1 ? null : { slabs: 1, rows: outer, cols: dim, run: inner },
    };
  }
  if (dim % blockSize !== 0) {
    throw new InvalidArgumentError('blockSize', `${blockSize} does not divide shape[${ax}] = ${dim}; choose a block size that divides the axis`);
  }
  const nb = dim / blockSize;
  return {
    granularity: 'blocked', axis: ax, blockSize, shape: [...shape], size, outer, dim, inner, groups: outer * nb * inner, len: blockSize,
    permute: inner === 1 ? null : { slabs: outer * nb, rows: blockSize, cols: inner, run: 1 },
  };
}

/**
 * Streaming rule: the groups must stay the same from one observe() to the next. Per tensor any
 * shape goes; per axis the rank and shape[axis] must match; blocked needs the same shape (the
 * scale tensor's shape is derived from all of it).
 */
export function checkSameGroups(first: GroupLayout, next: GroupLayout): void {
  if (first.granularity === 'tensor') return;
  const same = first.granularity === 'axis'
    ? next.shape.length === first.shape.length && next.dim === first.dim
    : next.shape.length === first.shape.length && next.shape.every((d, k) => d === first.shape[k]);
  if (!same) {
    const what = first.granularity === 'axis' ? `rank ${first.shape.length} with shape[${first.axis}] = ${first.dim}` : `shape [${first.shape.join(', ')}]`;
    throw new InvalidArgumentError('shape', `[${next.shape.join(', ')}] does not match earlier batches (${what}); ` +
      'every batch must have the same channels / blocks (call reset() to start over)');
  }
}

/** Group index of every element in the caller's (row-major) layout: the host-side twin of the permutation. */
export function groupIndexOf(layout: GroupLayout): (flat: number) => number {
  const { granularity, dim, inner, blockSize } = layout;
  if (granularity === 'tensor') return () => 0;
  if (granularity === 'axis') return (e) => Math.floor(e / inner) % dim;
  const nb = dim / blockSize;
  return (e) => {
    const i = e % inner;
    const ac = (e - i) / inner;
    const c = ac % dim, a = (ac - c) / dim;
    return (a * nb + Math.floor(c / blockSize)) * inner + i;
  };
}
