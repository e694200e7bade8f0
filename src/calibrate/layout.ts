/**
 * Calibration groups: which elements share one (scale, zero point), and how a batch is gathered
 * into group-major order for the kernels (docs/quantization.md eq. 22, 50, 52).
 *
 * ONNX granularities, with x viewed as [A, C, I] around `axis` (A = product of the dims before,
 * C = shape[axis], I = product of the dims after):
 *   per tensor  1 group of A·C·I elements;
 *   per axis    C groups (channels), each of A·I elements per batch;
 *   blocked     A·⌈C/B⌉·I groups (the scale tensor is x's shape with C replaced by ⌈C/B⌉,
 *               flattened row-major), each of B elements, except that the last block along
 *               the axis holds C − (⌈C/B⌉ − 1)·B when B does not divide C (eq. 50).
 * After gathering (`cal_permute_f32` per axis, `cal_permute_blocks_f32` per block) group g of a
 * batch is the contiguous run [starts[g], starts[g+1]) of the staged batch, groups in scale
 * order (eq. 52).
 */
import { InvalidArgumentError } from '../errors.js';
import { shapeSize } from '../runtime/tensor.js';

export type GroupGranularity = 'tensor' | 'axis' | 'blocked';

/** How a batch is made group-major: a kernel call's arguments, or null when it already is. */
export type Gather =
  | { readonly kind: 'axis'; readonly slabs: number; readonly rows: number; readonly cols: number; readonly run: number }
  | { readonly kind: 'blocks'; readonly outer: number; readonly dim: number; readonly inner: number; readonly blockSize: number }
  | null;

export interface GroupLayout {
  readonly granularity: GroupGranularity;
  /** Normalised axis, −1 per tensor. */
  readonly axis: number;
  /** 0 unless blocked. */
  readonly blockSize: number;
  /** Blocks along the axis, ⌈dim / blockSize⌉ (0 unless blocked). */
  readonly blocks: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  /** Number of (scale, zero point) pairs. */
  readonly groups: number;
  /** groups + 1 element offsets into the staged batch: group g is [starts[g], starts[g+1]) (eq. 52). */
  readonly starts: Int32Array;
  readonly gather: Gather;
}

/** Offsets of `groups` consecutive runs whose lengths are length(g). */
function runStarts(groups: number, length: (g: number) => number): Int32Array {
  const starts = new Int32Array(groups + 1);
  for (let g = 0; g < groups; g++) starts[g + 1] = starts[g]! + length(g);
  return starts;
}

/** Validate `shape` against x's length and the observer's axis / blockSize, and describe the groups. */
export function groupLayout(length: number, shape: readonly number[], axis: number | undefined, blockSize: number | undefined): GroupLayout {
  const size = shapeSize(shape, 'shape');
  if (size !== length) {
    throw new InvalidArgumentError('shape', `[${shape.join(', ')}] holds ${size} elements but x has ${length}; pass x's true shape`);
  }
  if (size === 0) throw new InvalidArgumentError('x', 'is empty; observe at least one element');
  if (axis === undefined) {
    return {
      granularity: 'tensor', axis: -1, blockSize: 0, blocks: 0, shape: [...shape], size, outer: 1, dim: size, inner: 1, groups: 1,
      starts: Int32Array.of(0, size), gather: null,
    };
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
    const len = outer * inner;
    return {
      granularity: 'axis', axis: ax, blockSize: 0, blocks: 0, shape: [...shape], size, outer, dim, inner, groups: dim,
      starts: runStarts(dim, () => len),
      gather: outer === 1 ? null : { kind: 'axis', slabs: 1, rows: outer, cols: dim, run: inner },
    };
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
    throw new InvalidArgumentError('blockSize', `must be a positive integer (elements per block along the axis), got ${String(blockSize)}`);
  }
  const nb = Math.ceil(dim / blockSize); // eq. 50
  const blockLength = (j: number) => Math.min(blockSize, dim - j * blockSize);
  return {
    granularity: 'blocked', axis: ax, blockSize, blocks: nb, shape: [...shape], size, outer, dim, inner, groups: outer * nb * inner,
    starts: runStarts(outer * nb * inner, (g) => blockLength(Math.floor(g / inner) % nb)),
    gather: inner === 1 ? null : { kind: 'blocks', outer, dim, inner, blockSize: Math.min(blockSize, dim) },
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

/** The group holding staged element gm: the last g with starts[g] ≤ gm (groups are never empty). */
function groupOf(starts: Int32Array, gm: number): number {
  let lo = 0, hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= gm) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Map an index into the staged (group-major) batch back to the caller's flat index (for error messages). */
export function callerIndex(layout: GroupLayout, gm: number): number {
  if (layout.granularity === 'tensor') return gm;
  const g = groupOf(layout.starts, gm), k = gm - layout.starts[g]!;
  const { dim, inner } = layout;
  if (layout.granularity === 'axis') { // group = channel g, element k = a·I + i
    const i = k % inner, a = (k - i) / inner;
    return (a * dim + g) * inner + i;
  }
  const i = g % inner, aj = (g - i) / inner, j = aj % layout.blocks, a = (aj - j) / layout.blocks;
  return (a * dim + j * layout.blockSize + k) * inner + i;
}
