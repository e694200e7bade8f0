/**
 * MSE range search (docs/quantization.md eq. 26–27): the clipping range per group that minimises
 * ‖x − Q/DQ(x)‖² over everything observed, each candidate scored by the fused wasm kernel.
 *
 * All groups search in lockstep: one pass of the kernel over the retained batches scores one
 * candidate for every group at once.
 *   symmetric   range [−f·M, f·M], M = max|x|; f from a geometric grid 2^(−k/4), k = 0…28
 *               (1 down to 1/128), then golden-section search between the best grid point's
 *               neighbours (10 steps);
 *   asymmetric  range [f_lo·min, f_hi·max]; first f_lo = f_hi searched as above, then two rounds
 *               of coordinate descent: each end alone over a grid [f/2, min(1, 2f)] (9 points,
 *               ratio 2^(1/4)) plus 8 golden steps. An end whose bound is 0 (one-sided data)
 *               is not searched.
 * The best point seen is kept, so the result is never worse than the grid's best (nor than
 * f = 1, which is min-max).
 */
import { affineParams } from '../quant/range.js';
import type { QTypeInfo } from '../quant/qtypes.js';
import { qdqSquaredError, type StagedBatch } from './kernels.js';

const PHI = (Math.sqrt(5) - 1) / 2;
const GRID = Array.from({ length: 29 }, (_, k) => 2 ** (-k / 4));

export interface MseSearchInput {
  batches: readonly StagedBatch[];
  /** Observed range per group (lo ≤ 0 ≤ hi). */
  lo: Float64Array;
  hi: Float64Array;
  info: QTypeInfo;
  symmetric: boolean;
  narrow: boolean;
  /** Called after every kernel pass with (passes done, passes planned). */
  onPass?: (done: number, total: number) => void;
  /** Replaces the wasm scorer (the benchmark's scalar baseline passes the JS twin here). */
  scorer?: (scales: Float32Array, zps: Float32Array, qmin: number, qmax: number, err: Float64Array) => void;
}

export interface MseSearchResult {
  lo: Float64Array;
  hi: Float64Array;
  /** Σ squared error per group at the chosen range. */
  error: Float64Array;
  passes: number;
}

/** The (scale, zero point) of each group for ranges [lo, hi] (eq. 20–21 via qparamsFromRange's arithmetic). */
export function rangesToParams(lo: ArrayLike<number>, hi: ArrayLike<number>, info: QTypeInfo, symmetric: boolean, narrow: boolean): { scale: Float32Array; zeroPoint: Int32Array } {
  const n = lo.length;
  const scale = new Float32Array(n), zeroPoint = new Int32Array(n);
  for (let g = 0; g < n; g++) {
    const l = Math.min(Math.fround(lo[g]!), 0), h = Math.max(Math.fround(hi[g]!), 0);
    const r = affineParams(l, h, info, symmetric, narrow);
    scale[g] = r.scale;
    zeroPoint[g] = r.zeroPoint;
  }
  return { scale, zeroPoint };
}

export function mseSearch(inp: MseSearchInput): MseSearchResult {
  const { batches, info, symmetric, narrow } = inp;
  const groups = inp.lo.length;
  const twoSided = !symmetric && inp.lo.some((v) => v < 0);
  const loActive = !symmetric && twoSided;
  const hiActive = symmetric || inp.hi.some((v) => v > 0);
  const planned = (GRID.length + 12) + (symmetric ? 0 : 2 * ((loActive ? 1 : 0) + (hiActive ? 1 : 0)) * (9 + 10));
  let passes = 0;
  const M = new Float64Array(groups);
  for (let g = 0; g < groups; g++) M[g] = Math.max(-inp.lo[g]!, inp.hi[g]!);
  const qlo = info.qmin + (narrow ? 1 : 0);
  const err = new Float64Array(groups);
  const zf = new Float32Array(groups);
  const lo = new Float64Array(groups), hi = new Float64Array(groups);

  /** Score ranges [lo, hi] of every group: one kernel pass. */
  const score = (l: Float64Array, h: Float64Array): Float64Array => {
    const p = rangesToParams(l, h, info, symmetric, narrow);
    for (let g = 0; g < groups; g++) zf[g] = p.zeroPoint[g]!;
    if (inp.scorer) inp.scorer(p.scale, zf, qlo, info.qmax, err);
    else qdqSquaredError(batches, p.scale, zf, qlo, info.qmax, err);
    passes++;
    inp.onPass?.(passes, Math.max(planned, passes));
    return err;
  };

  // factors fLo, fHi → ranges; best so far
  const fLo = new Float64Array(groups).fill(1), fHi = new Float64Array(groups).fill(1);
  const best = new Float64Array(groups).fill(Infinity);
  const apply = (a: Float64Array, b: Float64Array) => {
    for (let g = 0; g < groups; g++) {
      if (symmetric) { lo[g] = -b[g]! * M[g]!; hi[g] = b[g]! * M[g]!; } else { lo[g] = a[g]! * inp.lo[g]!; hi[g] = b[g]! * inp.hi[g]!; }
    }
    return score(lo, hi);
  };

  /**
   * One-dimensional search of the factor selected by `which` (joint moves both ends), grid then
   * golden section, in lockstep over groups. Updates fLo/fHi/best where a candidate improves.
   */
  const search = (which: 'joint' | 'lo' | 'hi', grid: (g: number) => number[]) => {
    const cand = new Float64Array(groups);
    const a = new Float64Array(groups), b = new Float64Array(groups);
    const trial = (c: Float64Array): Float64Array => {
      const A = which === 'hi' ? fLo : c, B = which === 'lo' ? fHi : c;
      const e = apply(A, B);
      for (let g = 0; g < groups; g++) {
        if (e[g]! < best[g]!) {
          best[g] = e[g]!;
          if (which !== 'hi') fLo[g] = c[g]!;
          if (which !== 'lo') fHi[g] = c[g]!;
        }
      }
      return e;
    };
    const grids = Array.from({ length: groups }, (_, g) => grid(g));
    const npts = grids[0]!.length;
    const bestK = new Int32Array(groups), bestE = new Float64Array(groups).fill(Infinity);
    for (let k = 0; k < npts; k++) {
      for (let g = 0; g < groups; g++) cand[g] = grids[g]![k]!;
      const e = trial(cand);
      for (let g = 0; g < groups; g++) if (e[g]! < bestE[g]!) { bestE[g] = e[g]!; bestK[g] = k; }
    }
    // bracket: the neighbours of the best grid point (grids run from large to small factors)
    for (let g = 0; g < groups; g++) {
      const gr = grids[g]!, k = bestK[g]!;
      b[g] = Math.min(1, k > 0 ? gr[k - 1]! : gr[k]!);
      a[g] = k < npts - 1 ? gr[k + 1]! : gr[k]! / 2 ** 0.25;
    }
    const iters = which === 'joint' ? 10 : 8;
    const c = new Float64Array(groups), d = new Float64Array(groups);
    for (let g = 0; g < groups; g++) { c[g] = b[g]! - PHI * (b[g]! - a[g]!); d[g] = a[g]! + PHI * (b[g]! - a[g]!); }
    const ec = trial(c).slice(), ed = trial(d).slice();
    for (let it = 0; it < iters; it++) {
      const left = new Uint8Array(groups);
      for (let g = 0; g < groups; g++) {
        if (ec[g]! < ed[g]!) { // minimum in [a, d]
          left[g] = 1; b[g] = d[g]!; d[g] = c[g]!; ed[g] = ec[g]!; c[g] = b[g]! - PHI * (b[g]! - a[g]!); cand[g] = c[g]!;
        } else {
          a[g] = c[g]!; c[g] = d[g]!; ec[g] = ed[g]!; d[g] = a[g]! + PHI * (b[g]! - a[g]!); cand[g] = d[g]!;
        }
      }
      const e = trial(cand);
      for (let g = 0; g < groups; g++) { if (left[g]) ec[g] = e[g]!; else ed[g] = e[g]!; }
    }
  };

  search('joint', () => GRID);
  if (!symmetric) {
    const local = (f: Float64Array) => (g: number) => Array.from({ length: 9 }, (_, k) => Math.min(1, f[g]! * 2 ** ((4 - k) / 4)));
    for (let round = 0; round < 2; round++) {
      if (hiActive) search('hi', local(fHi));
      if (loActive) search('lo', local(fLo));
    }
  }
  for (let g = 0; g < groups; g++) {
    if (symmetric) { lo[g] = -fHi[g]! * M[g]!; hi[g] = fHi[g]! * M[g]!; } else { lo[g] = fLo[g]! * inp.lo[g]!; hi[g] = fHi[g]! * inp.hi[g]!; }
  }
  return { lo, hi, error: best, passes };
}
