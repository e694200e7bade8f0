/**
 * Splitting a kernel call into shares for the pool (docs/threads.md): contiguous ranges of
 * output rows (or elements, or groups), one per thread, so every output value is computed by
 * exactly one thread with the same operations as on one thread — results are bit-identical
 * whatever the thread count. Problems below the measured threshold stay on the calling thread.
 */
import { rt, type Build } from './wasm.js';
import type { KernelCall } from './pool.js';
import { runCall } from './pool-protocol.js';

export interface Range { readonly start: number; readonly count: number }

/**
 * Least work per share, in bytes streamed (weights for the matrix kernels, input + output for
 * the element-wise ones): a call smaller than 2× this stays on the calling thread. Handing a
 * share to a worker and waiting for it costs ~3 µs when the workers are awake and tens of µs
 * when they sleep or share a core with other work; 1 MiB is ~50 µs of one core at 1024² int8
 * (measured on a loaded 2-core machine: 1024² split over 2 threads at 512 KiB per share ran
 * 0.4× one thread there, so 1024² now stays on one thread). docs/threads.md.
 */
export const DEFAULT_MIN_SHARE_BYTES = 1024 * 1024;
let minShareBytes = DEFAULT_MIN_SHARE_BYTES;

/** @internal Tests: force tiny problems onto every thread (0) or restore the default (undefined). */
export function setMinShareBytes(bytes: number | undefined): void {
  minShareBytes = bytes ?? DEFAULT_MIN_SHARE_BYTES;
}

/** How many shares a call of `workBytes` should use: ≤ the threads available, ≤ maxShares, ≥ 1. */
export function sharesFor(workBytes: number, maxShares: number): number {
  const avail = rt().pool.available();
  if (avail === 1 || maxShares <= 1) return 1;
  const byWork = minShareBytes === 0 ? avail : Math.floor(workBytes / minShareBytes);
  return Math.max(1, Math.min(avail, maxShares, byWork));
}

/**
 * `count` units split into `shares` contiguous ranges as even as whole multiples of `align`
 * allow (every start a multiple of align; only the last range may end unaligned). Empty ranges
 * are dropped, so fewer may come back.
 */
export function splitRange(count: number, shares: number, align = 1): Range[] {
  const units = Math.ceil(count / align);
  const n = Math.max(1, Math.min(shares, units));
  const out: Range[] = [];
  let u = 0;
  for (let i = 0; i < n; i++) {
    const take = Math.floor(units / n) + (i < units % n ? 1 : 0);
    const start = u * align, end = Math.min(count, (u + take) * align);
    if (end > start) out.push({ start, count: end - start });
    u += take;
  }
  if (out.length === 0) out.push({ start: 0, count });
  return out;
}

let shareLog: number[] | undefined;

/** Run one list of calls per share (share 0 on the calling thread); each share's results. */
export function runShares(shares: readonly (readonly KernelCall[])[]): number[][] {
  shareLog?.push(shares.length);
  return rt().pool.run(shares);
}

/** @internal Tests and benchmarks: run fn and return the share count of every pool call it made, in order. */
export function sharesUsedBy(fn: () => void): number[] {
  const saved = shareLog;
  const log: number[] = [];
  shareLog = log;
  try { fn(); } finally { shareLog = saved; }
  return log;
}

/**
 * runShares for the kernels of `build`: the pool when it is the runtime's build; else (a matrix a
 * benchmark bound to another build with withBuild) every share in turn on the calling thread.
 */
export function runSharesOn(build: Build, shares: readonly (readonly KernelCall[])[]): number[][] {
  if (build.kernels === rt().kernels) return runShares(shares);
  const k = build.kernels as unknown as Record<string, (...args: number[]) => number>;
  return shares.map((calls) => calls.map((c) => runCall(k[c.fn]!, c.args, c.repeat, c.strides)));
}

/**
 * The first index ≥ 0 reported by any call of any share (NaN positions), each shifted by its
 * call's start `starts[s][c]` (omitted: the calls report absolute indices); −1 for none.
 */
export function firstReported(results: readonly number[][], starts?: readonly (readonly number[])[]): number {
  let first = -1;
  for (let s = 0; s < results.length; s++) {
    for (let c = 0; c < results[s]!.length; c++) {
      const r = results[s]![c]!;
      if (r < 0) continue;
      const at = r + (starts ? starts[s]![c]! : 0);
      if (first < 0 || at < first) first = at;
    }
  }
  return first;
}
