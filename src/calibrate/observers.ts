/**
 * Calibration observers (PyTorch vocabulary): stream batches through `observe(x, shape)`, then
 * `qparams()` returns ONNX-style QParams for quantize() / fakeQuantize() / packed matrices.
 * docs/quantization.md, "Range setting (calibration)", eq. 20–28.
 *
 * Every observer works per tensor (no `axis`), per axis (`axis`) and per block (`axis` +
 * `blockSize`). Each observe() copies x into wasm memory once, gathered group-major
 * (src/calibrate/layout.ts), runs the range kernel there (which also rejects NaN) and, for the
 * histogram and MSE observers, the histogram kernel or retains the batch for the MSE search.
 */
import { IntquantError, InvalidArgumentError } from '../errors.js';
import type { QParams } from '../quant/params.js';
import { qtypeInfo, type QType, type QTypeInfo } from '../quant/qtypes.js';
import { batchRange, releaseBatch, stageBatch, type StagedBatch } from './kernels.js';
import { checkSameGroups, groupLayout, type GroupLayout } from './layout.js';
import { GroupHistograms } from './histogram.js';
import { mseSearch, rangesToParams } from './mse-search.js';

export interface ObserverProgress {
  /** 'observe': one observe() call finished; 'search': one step of the range search in qparams(). */
  stage: 'observe' | 'search';
  done: number;
  total: number;
}

export interface ObserverOptions {
  qtype: QType;
  /** Symmetric range [−T, T] (zero point 0, or the grid's midpoint for unsigned types). Default false. */
  symmetric?: boolean;
  /** Drop the lowest code (int8 → [−127, 127]). Default false. */
  narrowRange?: boolean;
  /** Per-axis (per-channel) parameters along this axis; negative counts from the end. */
  axis?: number;
  /** Per-block parameters: blocks of this many elements along `axis`; ⌈shape[axis] / blockSize⌉ blocks, the last one shorter when it does not divide (eq. 50). */
  blockSize?: number;
  /** Progress reports (observe calls; search steps inside qparams()). */
  onProgress?: (p: ObserverProgress) => void;
}

/** A clipping range per group (length 1 per tensor). */
export interface ClippingRange {
  min: Float32Array;
  max: Float32Array;
}

function checkBool(v: unknown, argument: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(argument, `must be a boolean, got ${String(v)}`);
  return v;
}

export abstract class Observer {
  readonly qtype: QType;
  readonly symmetric: boolean;
  readonly narrowRange: boolean;
  readonly axis: number | undefined;
  readonly blockSize: number | undefined;
  protected readonly info: QTypeInfo;
  protected readonly onProgress: ((p: ObserverProgress) => void) | undefined;
  protected layout: GroupLayout | undefined;
  /** Running observed min / max per group. */
  protected seenMin: Float32Array | undefined;
  protected seenMax: Float32Array | undefined;
  /** Batches and elements observed. */
  batches = 0;
  elements = 0;

  constructor(options: ObserverOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options', 'must be { qtype, symmetric?, narrowRange?, axis?, blockSize?, onProgress? }');
    }
    this.info = qtypeInfo(options.qtype, 'options.qtype');
    this.qtype = this.info.name;
    this.symmetric = checkBool(options.symmetric, 'options.symmetric');
    this.narrowRange = checkBool(options.narrowRange, 'options.narrowRange');
    if (options.axis !== undefined && (typeof options.axis !== 'number' || !Number.isInteger(options.axis))) {
      throw new InvalidArgumentError('options.axis', `must be an integer (negative counts from the end), got ${String(options.axis)}`);
    }
    if (options.blockSize !== undefined) {
      if (typeof options.blockSize !== 'number' || !Number.isSafeInteger(options.blockSize) || options.blockSize < 1) {
        throw new InvalidArgumentError('options.blockSize', `must be a positive integer (elements per block along the axis), got ${String(options.blockSize)}`);
      }
      if (options.axis === undefined) throw new InvalidArgumentError('options.axis', 'blocked quantization needs the axis the blocks run along (e.g. axis: -1 with blockSize: 32)');
    }
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new InvalidArgumentError('options.onProgress', 'must be a function ({ stage, done, total }) => void');
    }
    this.axis = options.axis;
    this.blockSize = options.blockSize;
    this.onProgress = options.onProgress;
  }

  /** Fold one batch in. `shape` is x's shape; per axis / per block, every batch must have the same groups. */
  observe(x: Float32Array | readonly number[], shape: readonly number[]): this {
    if (!(x instanceof Float32Array) && !Array.isArray(x)) {
      throw new InvalidArgumentError('x', 'must be a Float32Array (or an array of numbers)');
    }
    const layout = groupLayout(x.length, shape, this.axis, this.blockSize);
    if (this.layout) checkSameGroups(this.layout, layout);
    const batch = stageBatch(x, layout);
    let retained = false;
    try {
      const r = batchRange(batch, layout, 'x');
      for (let g = 0; g < layout.groups; g++) {
        if (!Number.isFinite(r.min[g]!) || !Number.isFinite(r.max[g]!)) {
          let i = 0;
          while (Number.isFinite(x[i]!)) i++;
          throw new InvalidArgumentError('x', `contains ${x[i]! > 0 ? '+' : '−'}Infinity (first at index ${i}); an infinite value has no finite range — clip or mask it first`);
        }
      }
      const first = !this.layout;
      retained = this.consume(batch, r.min, r.max, first);
      if (first) {
        this.layout = layout;
        this.seenMin = r.min.slice();
        this.seenMax = r.max.slice();
      } else {
        for (let g = 0; g < layout.groups; g++) {
          this.seenMin![g] = Math.min(this.seenMin![g]!, r.min[g]!);
          this.seenMax![g] = Math.max(this.seenMax![g]!, r.max[g]!);
        }
      }
    } finally {
      if (!retained) releaseBatch(batch);
    }
    this.batches++;
    this.elements += layout.size;
    this.onProgress?.({ stage: 'observe', done: this.batches, total: this.batches });
    return this;
  }

  /** The range each group's parameters will cover (before qparams' widening to include 0). */
  clippingRange(): ClippingRange {
    this.requireData('clippingRange');
    return this.computeRange();
  }

  /** The observed min / max per group (what a MinMaxObserver would use). */
  observedRange(): ClippingRange {
    this.requireData('observedRange');
    return { min: this.seenMin!.slice(), max: this.seenMax!.slice() };
  }

  /** Quantization parameters for everything observed so far (eq. 20–21 on the clipping range). */
  qparams(): QParams {
    this.requireData('qparams');
    const r = this.computeRange();
    const { scale, zeroPoint } = rangesToParams(r.min, r.max, this.info, this.symmetric, this.narrowRange);
    const layout = this.layout!;
    if (layout.granularity === 'tensor') return { qtype: this.qtype, scale: scale[0]!, zeroPoint: zeroPoint[0]! };
    const p: QParams = { qtype: this.qtype, scale, zeroPoint, axis: layout.axis };
    if (layout.granularity === 'blocked') p.blockSize = layout.blockSize;
    return p;
  }

  /** Forget everything observed (and free retained wasm memory); the observer can be reused. */
  reset(): void {
    this.layout = undefined;
    this.seenMin = this.seenMax = undefined;
    this.batches = this.elements = 0;
    this.clear();
  }

  /** Free wasm memory held by the observer (same as reset()). */
  dispose(): void {
    this.reset();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  protected requireData(method: string): void {
    if (!this.layout) {
      throw new IntquantError('IQ_NO_OBSERVATIONS', `${this.constructor.name}.${method}(): nothing observed yet; call observe(x, shape) with at least one batch first`);
    }
  }

  /** Widen to include 0 and fold to [−T, T] when symmetric: the range qparams() is computed from. */
  protected finishRange(lo: ArrayLike<number>, hi: ArrayLike<number>): ClippingRange {
    const n = lo.length;
    const min = new Float32Array(n), max = new Float32Array(n);
    for (let g = 0; g < n; g++) {
      const l = Math.min(lo[g]!, 0), h = Math.max(hi[g]!, 0);
      if (this.symmetric) { const t = Math.max(-l, h); min[g] = -t; max[g] = t; } else { min[g] = l; max[g] = h; }
    }
    return { min, max };
  }

  /** Fold a staged batch into the observer's state; return true to keep (own) the batch. */
  protected abstract consume(batch: StagedBatch, bmin: Float32Array, bmax: Float32Array, first: boolean): boolean;
  protected abstract computeRange(): ClippingRange;
  protected clear(): void {}
}

/** Running min / max (eq. 22). */
export class MinMaxObserver extends Observer {
  protected consume(): boolean { return false; }
  protected computeRange(): ClippingRange { return this.finishRange(this.seenMin!, this.seenMax!); }
}

export interface MovingAverageOptions extends ObserverOptions {
  /** Weight c of the newest batch in min ← min + c·(batch min − min) (eq. 22). Default 0.01. */
  averagingConstant?: number;
}

/** Exponential moving average of each batch's min and max (eq. 22); the first batch sets them. */
export class MovingAverageMinMaxObserver extends Observer {
  readonly averagingConstant: number;
  private avgMin: Float64Array | undefined;
  private avgMax: Float64Array | undefined;
  constructor(options: MovingAverageOptions) {
    super(options);
    const c = options.averagingConstant ?? 0.01;
    if (typeof c !== 'number' || !(c > 0 && c <= 1)) {
      throw new InvalidArgumentError('options.averagingConstant', `must be a number in (0, 1], got ${String(c)}`);
    }
    this.averagingConstant = c;
  }
  protected consume(_b: StagedBatch, bmin: Float32Array, bmax: Float32Array, first: boolean): boolean {
    if (first || !this.avgMin) {
      this.avgMin = Float64Array.from(bmin);
      this.avgMax = Float64Array.from(bmax);
    } else {
      const c = this.averagingConstant;
      for (let g = 0; g < bmin.length; g++) {
        this.avgMin[g]! += c * (bmin[g]! - this.avgMin[g]!);
        this.avgMax![g]! += c * (bmax[g]! - this.avgMax![g]!);
      }
    }
    return false;
  }
  protected computeRange(): ClippingRange { return this.finishRange(this.avgMin!, this.avgMax!); }
  protected override clear(): void { this.avgMin = this.avgMax = undefined; }
}

export interface HistogramOptions extends ObserverOptions {
  /** Histogram bins per group (default 2048; ≥ 2048 recommended; at most 2^24 bins in all groups together). */
  bins?: number;
}

const MAX_TOTAL_BINS = 1 << 24;

abstract class HistogramObserver extends Observer {
  readonly bins: number;
  protected hist: GroupHistograms | undefined;
  constructor(options: HistogramOptions) {
    super(options);
    const bins = options.bins ?? 2048;
    if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 16 || bins > MAX_TOTAL_BINS) {
      throw new InvalidArgumentError('options.bins', `must be an integer in [16, ${MAX_TOTAL_BINS}], got ${String(bins)}`);
    }
    this.bins = bins;
  }
  protected consume(b: StagedBatch, bmin: Float32Array, bmax: Float32Array, first: boolean): boolean {
    if (first) {
      if (b.groups * this.bins > MAX_TOTAL_BINS) {
        throw new InvalidArgumentError('options.bins', `${b.groups} groups × ${this.bins} bins exceeds ${MAX_TOTAL_BINS} histogram cells; ` +
          'use fewer bins, larger blocks, or MseObserver / MinMaxObserver for small blocks');
      }
      this.hist = new GroupHistograms(b.groups, this.bins, this.symmetric);
    }
    this.hist!.add(b, bmin, bmax);
    return false;
  }
  protected override clear(): void { this.hist = undefined; }
}

export interface PercentileOptions extends HistogramOptions {
  /** Percentile of the data the range covers, in (0, 100] (default 99.99). Symmetric: of |x|; asymmetric: both tails. */
  percentile?: number;
}

/** Clip at a percentile of a streaming histogram (eq. 23–25). */
export class PercentileObserver extends HistogramObserver {
  readonly percentile: number;
  constructor(options: PercentileOptions) {
    super(options);
    const p = options.percentile ?? 99.99;
    if (typeof p !== 'number' || !(p > 0 && p <= 100)) throw new InvalidArgumentError('options.percentile', `must be in (0, 100], got ${String(p)}`);
    this.percentile = p;
  }
  protected computeRange(): ClippingRange {
    const h = this.hist!, q = this.percentile / 100;
    const lo = new Float64Array(h.groups), hi = new Float64Array(h.groups);
    for (let g = 0; g < h.groups; g++) {
      if (this.symmetric) { hi[g] = h.quantile(g, q); lo[g] = -hi[g]!; } else { lo[g] = h.quantile(g, 1 - q); hi[g] = h.quantile(g, q); }
    }
    return this.finishRange(lo, hi);
  }
}

export interface EntropyOptions extends HistogramOptions {
  /**
   * Leave exact zeros out of the KL search (default true). Zero is on every grid, so zeros say
   * nothing about the range, and a spike of them (post-ReLU data) otherwise drives the search
   * to clip far too much.
   */
  skipZeros?: boolean;
}

/** Groups with fewer (non-skipped) samples than this × levels keep their min-max range. */
export const MIN_SAMPLES_PER_LEVEL = 64;

/**
 * TensorRT-style entropy (KL divergence) calibration over a streaming histogram (eq. 28).
 * A group needs at least 64 samples per quantization level (512 for int4, 8192 for int8
 * symmetric) for the KL search; groups with fewer keep their observed min-max range.
 */
export class EntropyObserver extends HistogramObserver {
  readonly skipZeros: boolean;
  /** Quantization levels the KL search compares against: (qmax − qmin)/2 rounded for |x| (128 for int8), qmax − qmin + 1 otherwise. */
  readonly levels: number;
  constructor(options: EntropyOptions) {
    super(options);
    this.skipZeros = options.skipZeros === undefined ? true : checkBool(options.skipZeros, 'options.skipZeros');
    const qlo = this.info.qmin + (this.narrowRange ? 1 : 0), qhi = this.info.qmax;
    this.levels = this.symmetric ? Math.round((qhi - qlo) / 2) : qhi - qlo + 1;
    if (this.bins < 2 * this.levels) {
      throw new InvalidArgumentError('options.bins', `${this.bins} bins cannot resolve ${this.levels} quantization levels of ${this.qtype}; ` +
        `use bins ≥ ${2 * this.levels} (e.g. ${Math.max(2048, 16 * this.levels)}) or another observer`);
    }
  }
  protected computeRange(): ClippingRange {
    const h = this.hist!;
    const lo = new Float64Array(h.groups), hi = new Float64Array(h.groups);
    for (let g = 0; g < h.groups; g++) {
      const samples = h.total[g]! - (this.skipZeros ? h.zeros[g]! : 0);
      if (samples < MIN_SAMPLES_PER_LEVEL * this.levels) {
        // Too few samples: every bin is a spike, the narrowest window always matches best, and KL
        // would clip almost everything. Keep the observed range (min-max) for this group.
        lo[g] = this.seenMin![g]!; hi[g] = this.seenMax![g]!;
      } else {
        const r = h.entropyRange(g, this.levels, this.skipZeros);
        lo[g] = this.symmetric ? -r.hi : r.lo;
        hi[g] = r.hi;
      }
      this.onProgress?.({ stage: 'search', done: g + 1, total: h.groups });
    }
    return this.finishRange(lo, hi);
  }
}

/**
 * Minimum-MSE clipping (eq. 26–27): keeps every observed batch in wasm memory (4 bytes per
 * element until reset()/dispose()) and searches, in qparams(), the range minimising
 * Σ‖x − Q/DQ(x)‖² over all of them with the fused Q/DQ-error kernel.
 */
export class MseObserver extends Observer {
  private kept: StagedBatch[] = [];
  private cached: ClippingRange | undefined;
  /** Σ squared error per group at the chosen range (after qparams()/clippingRange()). */
  lastError: Float64Array | undefined;
  protected consume(b: StagedBatch): boolean {
    this.kept.push(b);
    this.cached = undefined;
    return true;
  }
  protected computeRange(): ClippingRange {
    if (this.cached) return { min: this.cached.min.slice(), max: this.cached.max.slice() };
    const r = this.finishRange(this.seenMin!, this.seenMax!);
    const res = mseSearch({
      batches: this.kept, lo: Float64Array.from(r.min), hi: Float64Array.from(r.max),
      info: this.info, symmetric: this.symmetric, narrow: this.narrowRange,
      onPass: (done, total) => this.onProgress?.({ stage: 'search', done, total }),
    });
    this.lastError = res.error;
    this.cached = this.finishRange(res.lo, res.hi);
    return { min: this.cached.min.slice(), max: this.cached.max.slice() };
  }
  protected override clear(): void {
    for (const b of this.kept) releaseBatch(b);
    this.kept = [];
    this.cached = undefined;
    this.lastError = undefined;
  }
}
