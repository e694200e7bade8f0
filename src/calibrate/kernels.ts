/**
 * Host wrappers for the calibration kernels (assembly/calibrate/). They move one batch into wasm
 * memory in group-major order, and call the range, histogram and Q/DQ-error kernels on it.
 * Every view on wasm memory is re-derived after an allocation (views taken before growth cannot reach new bytes).
 */
import { NaNInputError } from '../errors.js';
import { rt } from '../runtime/wasm.js';
import type { GroupLayout } from './layout.js';
import { runShares, sharesFor, splitRange, type Range } from '../runtime/parallel.js';
import type { KernelCall } from '../runtime/pool.js';

/**
 * How a scan of groups × len floats is split over the pool: whole groups per share when there
 * are enough groups (every group's sums on one thread, as on one thread), else — for range and
 * histogram scans, whose results do not depend on the visiting order — every group cut into one
 * 16-aligned piece per share, each piece folded into that share's own output and the outputs
 * combined here. `pieces` is the share count for the second case (0: split by groups).
 */
function scanSplit(groups: number, len: number, orderFree: boolean): { byGroups: Range[]; pieces: Range[] } {
  const shares = sharesFor(4 * groups * len, orderFree ? Infinity : groups);
  if (shares <= groups || !orderFree || groups > MAX_PIECE_GROUPS) return { byGroups: splitRange(groups, Math.min(shares, groups)), pieces: [] };
  return { byGroups: [], pieces: splitRange(len, shares, 16) };
}
/** Groups a within-group split handles (one call per group and share). */
const MAX_PIECE_GROUPS = 16;

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
  const { mem } = rt();
  const out = mem.alloc(8 * b.groups);
  try {
    const v = mem.f32(out, 2 * b.groups);
    for (let g = 0; g < b.groups; g++) { v[2 * g] = Infinity; v[2 * g + 1] = -Infinity; }
    const { byGroups, pieces } = scanSplit(b.groups, b.len, true);
    if (pieces.length === 0) {
      const results = runShares(byGroups.map(({ start: g0, count }) => [{ fn: 'cal_minmax_rows_f32', args: [b.offset + 4 * g0 * b.len, count, b.len, out + 8 * g0] }]));
      const nan = firstIndex(results, byGroups.map((r) => [r.start * b.len]));
      if (nan >= 0) throw new NaNInputError(argument, callerIndex(layout, nan));
      const r = mem.f32(out, 2 * b.groups);
      const min = new Float32Array(b.groups), max = new Float32Array(b.groups);
      for (let g = 0; g < b.groups; g++) { min[g] = r[2 * g]!; max[g] = r[2 * g + 1]!; }
      return { min, max };
    }
    // one (min, max) pair per share and group, folded here (min/max do not depend on the order; −0 < +0 as in the kernel)
    const per = mem.alloc(8 * b.groups * pieces.length);
    try {
      const seed = mem.f32(per, 2 * b.groups * pieces.length);
      for (let i = 0; i < seed.length; i += 2) { seed[i] = Infinity; seed[i + 1] = -Infinity; }
      const results = runShares(pieces.map(({ start: l0, count }, s) => groupCalls(b, (g) => ({
        fn: 'cal_minmax_rows_f32', args: [b.offset + 4 * (g * b.len + l0), 1, count, per + 8 * (s * b.groups + g)],
      }))));
      const nan = firstIndex(results, pieces.map((p) => Array.from({ length: b.groups }, (_, g) => g * b.len + p.start)));
      if (nan >= 0) throw new NaNInputError(argument, callerIndex(layout, nan));
      const r = mem.f32(per, 2 * b.groups * pieces.length);
      const min = new Float32Array(b.groups).fill(Infinity), max = new Float32Array(b.groups).fill(-Infinity);
      for (let s = 0; s < pieces.length; s++) for (let g = 0; g < b.groups; g++) {
        const o = 2 * (s * b.groups + g);
        min[g] = Math.min(min[g]!, r[o]!); max[g] = Math.max(max[g]!, r[o + 1]!);
      }
      return { min, max };
    } finally {
      mem.release(per);
    }
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
  const { mem } = rt();
  const chunk = Math.max(1, Math.min(b.groups, Math.floor(HIST_CHUNK_CELLS / (4 * nbins))));
  const { pieces } = scanSplit(chunk, b.len, true);
  const copies = Math.max(1, pieces.length); // per-share counts when groups are cut into pieces
  const cells = chunk * nbins * 4;
  const scratch = mem.alloc(cells * 4 * copies);
  const params = mem.alloc(8 * chunk + 4 * chunk * copies);
  const zerosOff = params + 8 * chunk;
  const abs = absolute ? 1 : 0;
  try {
    for (let g0 = 0; g0 < b.groups; g0 += chunk) {
      const ng = Math.min(chunk, b.groups - g0);
      mem.i32(scratch, cells * copies).fill(0);
      mem.f32(params, ng).set(lo.subarray(g0, g0 + ng));
      mem.f32(params + 4 * chunk, ng).set(invw.subarray(g0, g0 + ng));
      mem.i32(zerosOff, chunk * copies).fill(0);
      const x0 = b.offset + 4 * g0 * b.len;
      const split = scanSplit(ng, b.len, copies > 1); // pieces only where the scratch has a copy per share
      if (split.pieces.length === 0) {
        runShares(split.byGroups.map(({ start: g, count }) => [{
          fn: 'cal_histogram_rows_f32',
          args: [x0 + 4 * g * b.len, count, b.len, params + 4 * g, params + 4 * chunk + 4 * g, nbins, abs, scratch + 16 * nbins * g, zerosOff + 4 * g],
        }]));
      } else {
        const sub: StagedBatch = { offset: x0, groups: ng, len: b.len };
        runShares(split.pieces.map(({ start: l0, count }, s) => groupCalls(sub, (g) => ({
          fn: 'cal_histogram_rows_f32',
          args: [x0 + 4 * (g * b.len + l0), 1, count, params + 4 * g, params + 4 * chunk + 4 * g, nbins, abs,
            scratch + 4 * cells * s + 16 * nbins * g, zerosOff + 4 * chunk * s + 4 * g],
        }))));
      }
      for (let s = 0; s < copies; s++) {
        const z = mem.i32(zerosOff + 4 * chunk * s, ng);
        for (let g = 0; g < ng; g++) zeros[g0 + g]! += z[g]!;
        const c = mem.i32(scratch + 4 * cells * s, ng * nbins * 4);
        const base = g0 * nbins;
        for (let k = 0, m = ng * nbins; k < m; k++) {
          const q = k << 2;
          counts[base + k]! += c[q]! + c[q + 1]! + c[q + 2]! + c[q + 3]!;
        }
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
  const { mem } = rt();
  const groups = scales.length;
  const params = mem.alloc(8 * groups);
  const out = mem.alloc(8 * groups);
  try {
    mem.f32(params, groups).set(scales);
    mem.f32(params + 4 * groups, groups).set(zps);
    new Float64Array(mem.memory.buffer, out, groups).fill(0);
    // whole groups per share: each group's float64 sum is added in the same order as on one thread
    for (const b of batches) {
      runShares(scanSplit(groups, b.len, false).byGroups.map(({ start: g0, count }) => [{
        fn: 'cal_qdq_sqerr_rows_f32', args: [b.offset + 4 * g0 * b.len, count, b.len, params + 4 * g0, params + 4 * groups + 4 * g0, qmin, qmax, out + 8 * g0],
      }]));
    }
    err.set(new Float64Array(mem.memory.buffer, out, groups));
  } finally {
    mem.release(out);
    mem.release(params);
  }
}

/** One call per group of a batch (a share's pieces of every group). */
function groupCalls(b: StagedBatch, call: (g: number) => KernelCall): KernelCall[] {
  return Array.from({ length: b.groups }, (_, g) => call(g));
}

/** The first flat index ≥ 0 any call reported, each call's result shifted by its base; −1 for none. */
function firstIndex(results: readonly number[][], bases: readonly (readonly number[])[]): number {
  let first = -1;
  for (let s = 0; s < results.length; s++) {
    for (let c = 0; c < results[s]!.length; c++) {
      const r = results[s]![c]!;
      if (r >= 0 && (first < 0 || r + bases[s]![c]! < first)) first = r + bases[s]![c]!;
    }
  }
  return first;
}
