/**
 * Host wrappers for the calibration kernels (assembly/calibrate/). They move one batch into wasm
 * memory in group-major order, and call the range, histogram and Q/DQ-error kernels on it.
 * Groups are runs of varying length (a ragged last block is shorter), described by a table of
 * start offsets staged with the batch (docs/quantization.md eq. 52).
 * Every view on wasm memory is re-derived after an allocation (memory.grow detaches them).
 */
import { NaNInputError } from '../errors.js';
import { rt } from '../runtime/wasm.js';
import { callerIndex, type GroupLayout } from './layout.js';

/** A batch resident in wasm memory, group-major, with its start table. */
export interface StagedBatch {
  /** Byte offset of the float32 data: group g is elements [groupStarts[g], groupStarts[g+1]). */
  readonly offset: number;
  readonly groups: number;
  /** Byte offset of the int32[groups + 1] start table in wasm memory (what the kernels read). */
  readonly starts: number;
  /** The same table on the host. */
  readonly groupStarts: Int32Array;
}

/** Elements of group g in a staged batch. */
export function groupLength(b: StagedBatch, g: number): number {
  return b.groupStarts[g + 1]! - b.groupStarts[g]!;
}

/**
 * Copy x into wasm memory once, gathered group-major (cal_permute_f32 / cal_permute_blocks_f32
 * when the groups are strided), followed by its start table, in one allocation. The caller owns
 * the batch and must `releaseBatch` it.
 */
export function stageBatch(x: ArrayLike<number>, layout: GroupLayout): StagedBatch {
  const { kernels, mem } = rt();
  const n = layout.size, table = layout.starts;
  const off = mem.alloc(4 * n + 4 * table.length);
  const batch: StagedBatch = { offset: off, groups: layout.groups, starts: off + 4 * n, groupStarts: table };
  let tmp = 0;
  try {
    mem.i32(batch.starts, table.length).set(table);
    const p = layout.gather;
    if (p === null) {
      mem.f32(off, n).set(x);
      return batch;
    }
    tmp = mem.alloc(n * 4);
    mem.f32(tmp, n).set(x);
    if (p.kind === 'axis') kernels.cal_permute_f32(tmp, off, p.slabs, p.rows, p.cols, p.run);
    else kernels.cal_permute_blocks_f32(tmp, off, p.outer, p.dim, p.inner, p.blockSize);
  } catch (e) {
    mem.release(off);
    throw e;
  } finally {
    if (tmp) mem.release(tmp);
  }
  return batch;
}

export function releaseBatch(b: StagedBatch): void {
  rt().mem.release(b.offset);
}

/**
 * Per-group min and max of a staged batch (cal_minmax_rows_f32). Throws NaNInputError naming the
 * index in the caller's x. Returns fresh arrays (min[g], max[g]).
 */
export function batchRange(b: StagedBatch, layout: GroupLayout, argument = 'x'): { min: Float32Array; max: Float32Array } {
  const { kernels, mem } = rt();
  const out = mem.alloc(8 * b.groups);
  try {
    const v = mem.f32(out, 2 * b.groups);
    for (let g = 0; g < b.groups; g++) { v[2 * g] = Infinity; v[2 * g + 1] = -Infinity; }
    const nan = kernels.cal_minmax_rows_f32(b.offset, b.groups, b.starts, out);
    if (nan >= 0) throw new NaNInputError(argument, callerIndex(layout, nan));
    const r = mem.f32(out, 2 * b.groups);
    const min = new Float32Array(b.groups), max = new Float32Array(b.groups);
    for (let g = 0; g < b.groups; g++) { min[g] = r[2 * g]!; max[g] = r[2 * g + 1]!; }
    return { min, max };
  } finally {
    mem.release(out);
  }
}

/** Largest number of count cells (int32) one histogram kernel call writes; bounds the scratch. */
const HIST_CHUNK_CELLS = 1 << 20;

/**
 * Add the staged batch's per-group histograms into `counts` (float64[groups·nbins]) with the
 * given float32 lo / invw per group (cal_histogram_rows_f32, eq. 23). Groups are processed in
 * chunks so the int32 scratch stays ≤ 4 MiB; the 4 lane copies are summed here.
 */
export function accumulateHistogram(b: StagedBatch, lo: Float32Array, invw: Float32Array, nbins: number, absolute: boolean,
                                    counts: Float64Array, zeros: Float64Array): void {
  const { kernels, mem } = rt();
  const chunk = Math.max(1, Math.min(b.groups, Math.floor(HIST_CHUNK_CELLS / (4 * nbins))));
  const cells = chunk * nbins * 4;
  const scratch = mem.alloc(cells * 4);
  const params = mem.alloc(12 * chunk);
  try {
    for (let g0 = 0; g0 < b.groups; g0 += chunk) {
      const ng = Math.min(chunk, b.groups - g0);
      mem.i32(scratch, ng * nbins * 4).fill(0);
      mem.f32(params, ng).set(lo.subarray(g0, g0 + ng));
      mem.f32(params + 4 * chunk, ng).set(invw.subarray(g0, g0 + ng));
      mem.i32(params + 8 * chunk, ng).fill(0);
      // the start table holds offsets from the batch's first element, so a chunk starts at entry g0
      kernels.cal_histogram_rows_f32(b.offset, ng, b.starts + 4 * g0, params, params + 4 * chunk, nbins, absolute ? 1 : 0, scratch, params + 8 * chunk);
      const z = mem.i32(params + 8 * chunk, ng);
      for (let g = 0; g < ng; g++) zeros[g0 + g]! += z[g]!;
      const c = mem.i32(scratch, ng * nbins * 4);
      const base = g0 * nbins;
      for (let k = 0, m = ng * nbins; k < m; k++) {
        const q = k << 2;
        counts[base + k]! += c[q]! + c[q + 1]! + c[q + 2]! + c[q + 3]!;
      }
    }
  } finally {
    mem.release(params);
    mem.release(scratch);
  }
}

/**
 * Add Σ (x − Q/DQ(x))² per group of each staged batch into `err` (float64[groups]) for one
 * (scale, zero point) per group (cal_qdq_sqerr_rows_f32, eq. 26).
 */
export function qdqSquaredError(batches: readonly StagedBatch[], scales: Float32Array, zps: Float32Array, qmin: number, qmax: number,
                                err: Float64Array): void {
  const { kernels, mem } = rt();
  const groups = scales.length;
  const params = mem.alloc(8 * groups);
  const out = mem.alloc(8 * groups);
  try {
    mem.f32(params, groups).set(scales);
    mem.f32(params + 4 * groups, groups).set(zps);
    new Float64Array(mem.memory.buffer, out, groups).fill(0);
    for (const b of batches) kernels.cal_qdq_sqerr_rows_f32(b.offset, groups, b.starts, params, params + 4 * groups, qmin, qmax, out);
    err.set(new Float64Array(mem.memory.buffer, out, groups));
  } finally {
    mem.release(out);
    mem.release(params);
  }
}
