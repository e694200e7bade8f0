/**
 * Host wrappers for the calibration kernels (assembly/calibrate/). They move one batch into wasm
 * memory in group-major order, and call the range, histogram and Q/DQ-error kernels on it, split
 * over the thread pool (docs/threads.md).
 * Groups are runs of varying length (a ragged last block is shorter), described by a table of
 * start offsets staged with the batch (docs/quantization.md eq. 52).
 * Every view on wasm memory is re-derived after an allocation (views taken before growth cannot reach new bytes).
 */
import { NaNInputError } from '../errors.js';
import type { WasmMemory } from '../runtime/memory.js';
import { firstReported, runShares, sharesFor, splitRange, type Range } from '../runtime/parallel.js';
import { MAX_CALLS, type KernelCall } from '../runtime/pool-protocol.js';
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
 * index in the caller's x (the first NaN in group-major order, as on one thread). Returns fresh
 * arrays (min[g], max[g]).
 */
export function batchRange(b: StagedBatch, layout: GroupLayout, argument = 'x'): { min: Float32Array; max: Float32Array } {
  const { mem } = rt();
  const G = b.groups;
  const split = scanSplit(b.groupStarts, 0, G, true);
  const copies = Math.max(1, split.pieces); // one (min, max) pair per group and share when groups are cut
  const pairs = 2 * G * copies;
  const out = mem.alloc(4 * pairs + (split.pieces > 0 ? 8 * G * copies : 0));
  try {
    const seed = mem.f32(out, pairs);
    for (let i = 0; i < pairs; i += 2) { seed[i] = Infinity; seed[i + 1] = -Infinity; }
    let shares: KernelCall[][];
    if (split.pieces === 0) {
      shares = split.byGroups.map(({ start: g, count }) => [{ fn: 'cal_minmax_rows_f32', args: [b.offset, count, b.starts + 4 * g, out + 8 * g] }]);
    } else {
      const table = out + 4 * pairs;
      shares = pieceTable(mem, table, b.groupStarts, 0, G, split.pieces).map((has, s) => has.flatMap((h, g) => (h
        ? [{ fn: 'cal_minmax_rows_f32', args: [b.offset, 1, table + 8 * (s * G + g), out + 8 * (s * G + g)] }] : [])));
    }
    // every call reports a batch offset (the start tables hold them), so no shift
    const results = runShares(shares);
    const nan = firstReported(results);
    if (nan >= 0) throw new NaNInputError(argument, callerIndex(layout, nan));
    // min/max do not depend on the order (−0 < +0, in wasm and in Math.min / Math.max alike)
    const r = mem.f32(out, pairs);
    const min = new Float32Array(G).fill(Infinity), max = new Float32Array(G).fill(-Infinity);
    for (let s = 0; s < copies; s++) {
      for (let g = 0; g < G; g++) {
        const o = 2 * (s * G + g);
        min[g] = Math.min(min[g]!, r[o]!);
        max[g] = Math.max(max[g]!, r[o + 1]!);
      }
    }
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
 * chunks so the int32 scratch stays ≤ 4 MiB per share; the 4 lane copies (and the shares' copies
 * when groups are cut into pieces) are summed as integers, then added once, as on one thread.
 */
export function accumulateHistogram(b: StagedBatch, lo: Float32Array, invw: Float32Array, nbins: number, absolute: boolean,
                                    counts: Float64Array, zeros: Float64Array): void {
  const { mem } = rt();
  const chunk = Math.max(1, Math.min(b.groups, Math.floor(HIST_CHUNK_CELLS / (4 * nbins))));
  const plans: { g0: number; ng: number; split: ScanSplit }[] = [];
  for (let g0 = 0; g0 < b.groups; g0 += chunk) {
    const ng = Math.min(chunk, b.groups - g0);
    plans.push({ g0, ng, split: scanSplit(b.groupStarts, g0, ng, true) });
  }
  const copies = Math.max(1, ...plans.map((p) => p.split.pieces));
  const cells = chunk * nbins * 4;
  const scratch = mem.alloc(cells * 4 * copies);
  const params = mem.alloc(8 * chunk + 4 * chunk * copies + (copies > 1 ? 8 * chunk * copies : 0));
  const zerosOff = params + 8 * chunk, table = zerosOff + 4 * chunk * copies;
  const abs = absolute ? 1 : 0;
  try {
    for (const { g0, ng, split } of plans) {
      mem.i32(scratch, cells * copies).fill(0);
      mem.f32(params, ng).set(lo.subarray(g0, g0 + ng));
      mem.f32(params + 4 * chunk, ng).set(invw.subarray(g0, g0 + ng));
      mem.i32(zerosOff, chunk * copies).fill(0);
      const call = (g: number, x: { groups: number; starts: number }, s: number): KernelCall => ({
        fn: 'cal_histogram_rows_f32',
        args: [b.offset, x.groups, x.starts, params + 4 * g, params + 4 * chunk + 4 * g, nbins, abs,
          scratch + 4 * cells * s + 16 * nbins * g, zerosOff + 4 * chunk * s + 4 * g],
      });
      // the start table holds offsets from the batch's first element, so groups g0 + g start at entry g0 + g
      runShares(split.pieces === 0
        ? split.byGroups.map(({ start: g, count }) => [call(g, { groups: count, starts: b.starts + 4 * (g0 + g) }, 0)])
        : pieceTable(mem, table, b.groupStarts, g0, ng, split.pieces).map((has, s) => has.flatMap((h, g) => (h
          ? [call(g, { groups: 1, starts: table + 8 * (s * ng + g) }, s)] : []))));
      const used = Math.max(1, split.pieces);
      const cs = Array.from({ length: used }, (_, s) => mem.i32(scratch + 4 * cells * s, ng * nbins * 4));
      const zs = Array.from({ length: used }, (_, s) => mem.i32(zerosOff + 4 * chunk * s, ng));
      for (let g = 0; g < ng; g++) {
        let z = 0;
        for (const zc of zs) z += zc[g]!;
        zeros[g0 + g]! += z;
      }
      const base = g0 * nbins;
      for (let k = 0, m = ng * nbins; k < m; k++) {
        const q = k << 2;
        let t = 0; // exact: integer counts (counts[] may hold fractions after re-binning, so add once)
        for (const c of cs) t += c[q]! + c[q + 1]! + c[q + 2]! + c[q + 3]!;
        counts[base + k]! += t;
      }
    }
  } finally {
    mem.release(params);
    mem.release(scratch);
  }
}

/**
 * Add Σ (x − Q/DQ(x))² per group of each staged batch into `err` (float64[groups]) for one
 * (scale, zero point) per group (cal_qdq_sqerr_rows_f32, eq. 26). Whole groups per share, the
 * batches in order within each: every group's float64 sum is added in its one-thread order.
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
    const elems = batches.reduce((n, b) => n + b.groupStarts[groups]!, 0);
    const { byGroups } = scanSplitWork(groups, elems, 0, false);
    for (let i = 0; i < batches.length; i += MAX_CALLS) {
      const some = batches.slice(i, i + MAX_CALLS);
      runShares(byGroups.map(({ start: g, count }) => some.map((b): KernelCall => ({
        fn: 'cal_qdq_sqerr_rows_f32', args: [b.offset, count, b.starts + 4 * g, params + 4 * g, params + 4 * groups + 4 * g, qmin, qmax, out + 8 * g],
      }))));
    }
    err.set(new Float64Array(mem.memory.buffer, out, groups));
  } finally {
    mem.release(out);
    mem.release(params);
  }
}

// ---- the split over the pool ------------------------------------------------------------------

/** Groups a within-group split handles: one call per group and share (a share holds MAX_CALLS). */
const MAX_PIECE_GROUPS = MAX_CALLS;

/** Whole groups per share (byGroups), or every group cut into `pieces` pieces, one per share (pieces > 0). */
interface ScanSplit { readonly byGroups: Range[]; readonly pieces: number }

/** scanSplit of groups g0 … g0+ng−1 of a start table. */
function scanSplit(starts: Int32Array, g0: number, ng: number, orderFree: boolean): ScanSplit {
  let longest = 0;
  for (let g = g0; g < g0 + ng; g++) longest = Math.max(longest, starts[g + 1]! - starts[g]!);
  return scanSplitWork(ng, starts[g0 + ng]! - starts[g0]!, longest, orderFree);
}

/**
 * How a scan of ng groups (elems elements in all, the longest group `longest`) is split over the
 * pool (docs/threads.md): whole groups per share when there are at least as many groups as
 * shares, or when the result depends on the order of the sums (each group's sums stay on one
 * thread, in their one-thread order); else — min/max and histograms, whose results do not depend
 * on the visiting order — every group is cut into one 16-aligned piece per share, each folded into
 * that share's own output and combined on the calling thread.
 */
function scanSplitWork(ng: number, elems: number, longest: number, orderFree: boolean): ScanSplit {
  const cut = orderFree && ng <= MAX_PIECE_GROUPS;
  const shares = sharesFor(4 * elems, cut ? Math.max(ng, Math.ceil(longest / 16)) : ng);
  if (shares <= ng) return { byGroups: splitRange(ng, shares), pieces: 0 };
  return { byGroups: [], pieces: shares };
}

/**
 * Share s's piece of every group g0 + g (16-aligned from the group's start) as a one-group start
 * table, the pair (start, end) of batch offsets at int32 entry 2·(s·ng + g) of `table`
 * (int32[2·shares·ng]). Returns which (share, group) pairs have a piece (a group shorter than
 * the cut has none for the last shares).
 */
function pieceTable(mem: WasmMemory, table: number, starts: Int32Array, g0: number, ng: number, shares: number): boolean[][] {
  const t = mem.i32(table, 2 * shares * ng);
  const has = Array.from({ length: shares }, () => new Array<boolean>(ng).fill(false));
  for (let g = 0; g < ng; g++) {
    const a = starts[g0 + g]!;
    splitRange(starts[g0 + g + 1]! - a, shares, 16).forEach(({ start, count }, s) => {
      if (count === 0) return;
      t[2 * (s * ng + g)] = a + start;
      t[2 * (s * ng + g) + 1] = a + start + count;
      has[s]![g] = true;
    });
  }
  return has;
}
