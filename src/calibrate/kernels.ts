/**
 * Host wrappers for the calibration kernels (assembly/calibrate/). They move one batch into wasm
 * memory in group-major order, and call the range, histogram and Q/DQ-error kernels on it.
 * Every view on wasm memory is re-derived after an allocation (views taken before growth cannot reach new bytes).
 */
import { NaNInputError } from '../errors.js';
import { rt } from '../runtime/wasm.js';
import type { GroupLayout } from './layout.js';

/** A batch resident in wasm memory, group-major: groups × len float32 at `offset`. */
export interface StagedBatch {
  readonly offset: number;
  readonly groups: number;
  readonly len: number;
}

/**
 * Copy x into wasm memory once, gathered group-major (cal_permute_f32 when the groups are
 * strided). Returns the staged batch; the caller owns it and must `releaseBatch` it.
 */
export function stageBatch(x: ArrayLike<number>, layout: GroupLayout): StagedBatch {
  const { kernels, mem } = rt();
  const n = layout.size;
  const off = mem.alloc(n * 4);
  if (layout.permute === null) {
    mem.f32(off, n).set(x);
    return { offset: off, groups: layout.groups, len: layout.len };
  }
  let tmp = 0;
  try {
    tmp = mem.alloc(n * 4);
    mem.f32(tmp, n).set(x);
    const p = layout.permute;
    kernels.cal_permute_f32(tmp, off, p.slabs, p.rows, p.cols, p.run);
  } catch (e) {
    mem.release(off);
    throw e;
  } finally {
    if (tmp) mem.release(tmp);
  }
  return { offset: off, groups: layout.groups, len: layout.len };
}

export function releaseBatch(b: StagedBatch): void {
  rt().mem.release(b.offset);
}

/** Map a group-major flat index back to the caller's flat index (for NaN error messages). */
function callerIndex(layout: GroupLayout, gm: number): number {
  if (layout.permute === null) return gm;
  const { slabs, rows, cols, run } = layout.permute;
  const slab = rows * cols * run;
  const s = Math.floor(gm / slab);
  let rem = gm - s * slab;
  const k = rem % run; rem = (rem - k) / run;
  const r = rem % rows; const c = (rem - r) / rows;
  void slabs;
  return s * slab + (r * cols + c) * run + k;
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
    const nan = kernels.cal_minmax_rows_f32(b.offset, b.groups, b.len, out);
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
      kernels.cal_histogram_rows_f32(b.offset + 4 * g0 * b.len, ng, b.len, params, params + 4 * chunk, nbins, absolute ? 1 : 0, scratch, params + 8 * chunk);
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
    for (const b of batches) kernels.cal_qdq_sqerr_rows_f32(b.offset, groups, b.len, params, params + 4 * groups, qmin, qmax, out);
    err.set(new Float64Array(mem.memory.buffer, out, groups));
  } finally {
    mem.release(out);
    mem.release(params);
  }
}
