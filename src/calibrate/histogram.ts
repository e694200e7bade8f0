/**
 * Streaming per-group histograms (docs/quantization.md eq. 23–25, 28): accumulation through the
 * histogram kernel, re-binning when a batch widens the range, percentiles and TensorRT-style
 * KL-divergence threshold search.
 *
 * A group's histogram has `bins` equal bins starting at `lo` with float32 inverse width `invw`
 * (what the kernel multiplies by), so bin k covers [lo + k/invw, lo + (k+1)/invw). Symmetric
 * observers histogram |x| over [0, max|x|]; asymmetric ones x over [min(x, 0), max(x, 0)].
 * Counts are float64 (re-binning splits a bin's count in proportion to its overlap with the
 * new bins, eq. 24, so they become fractional).
 */
import { accumulateHistogram, groupLength, type StagedBatch } from './kernels.js';

const F32_MAX = 3.4028234663852886e38;

export class GroupHistograms {
  readonly counts: Float64Array;
  /** Left edge per group (float32 values). */
  readonly lo: Float32Array;
  /** Inverse bin width per group (float32, 0 while the group has only seen one value). */
  readonly invw: Float32Array;
  readonly total: Float64Array;
  /** Exact zeros seen per group (they are also counted in the bin holding 0). */
  readonly zeros: Float64Array;
  private started = false;

  constructor(readonly groups: number, readonly bins: number, readonly absolute: boolean) {
    this.counts = new Float64Array(groups * bins);
    this.lo = new Float32Array(groups);
    this.invw = new Float32Array(groups);
    this.total = new Float64Array(groups);
    this.zeros = new Float64Array(groups);
  }

  /** The bin that holds the value 0 in group g (kernel arithmetic, eq. 23). */
  zeroBin(g: number): number {
    const t = Math.fround(Math.fround(0 - this.lo[g]!) * this.invw[g]!);
    return Math.min(this.bins - 1, Math.max(0, Math.trunc(t)));
  }

  /** Right edge of group g's histogram. */
  top(g: number): number {
    const w = this.invw[g]!;
    return w === 0 ? this.lo[g]! : this.lo[g]! + this.bins / w;
  }

  /** Bin width of group g (0 for a degenerate, single-valued histogram). */
  width(g: number): number {
    const w = this.invw[g]!;
    return w === 0 ? 0 : 1 / w;
  }

  /** Fold one staged batch in, widening (and re-binning) each group's range to cover the batch's range first. */
  add(b: StagedBatch, bmin: Float32Array, bmax: Float32Array): void {
    for (let g = 0; g < this.groups; g++) {
      let l: number, h: number;
      if (this.absolute) { l = 0; h = Math.max(-bmin[g]!, bmax[g]!); } else { l = Math.min(bmin[g]!, 0); h = Math.max(bmax[g]!, 0); }
      if (!this.started) { this.setRange(g, l, h); continue; }
      const curLo = this.lo[g]!, curTop = this.top(g);
      if (l < curLo || h > curTop) this.rebin(g, Math.min(l, curLo), Math.max(h, curTop));
    }
    this.started = true;
    accumulateHistogram(b, this.lo, this.invw, this.bins, this.absolute, this.counts, this.zeros);
    for (let g = 0; g < this.groups; g++) this.total[g]! += groupLength(b, g); // a ragged last block has fewer
  }

  private setRange(g: number, l: number, h: number): void {
    this.lo[g] = l; // l is 0 or a float32 batch minimum: exact
    const width = h - l;
    let inv = width > 0 ? Math.fround(this.bins / width) : 0;
    if (inv === Infinity) inv = F32_MAX;
    // float32 rounding may shrink the covered range a hair; values past the top clamp to the last bin.
    this.invw[g] = inv;
  }

  /** eq. 24: move group g to [l, h], splitting each old bin's count over the new bins it overlaps. */
  private rebin(g: number, l: number, h: number): void {
    const bins = this.bins, base = g * bins;
    const zc = this.zeros[g]!;
    this.counts[base + this.zeroBin(g)]! -= zc; // exact zeros move as a point mass, not smeared
    const old = this.counts.slice(base, base + bins);
    const oLo = this.lo[g]!, oW = this.width(g);
    this.setRange(g, l, h);
    const nLo = this.lo[g]!, nW = this.width(g);
    this.counts.fill(0, base, base + bins);
    this.counts[base + this.zeroBin(g)]! += zc;
    const binAt = (v: number) => (nW === 0 ? 0 : Math.min(bins - 1, Math.max(0, Math.floor((v - nLo) / nW))));
    if (oW === 0) { // all earlier mass sits at one point
      let s = 0;
      for (let k = 0; k < bins; k++) s += old[k]!;
      this.counts[base + binAt(oLo)]! += s;
      return;
    }
    for (let k = 0; k < bins; k++) {
      const c = old[k]!;
      if (c === 0) continue;
      const a = oLo + k * oW, e = a + oW;
      let j = binAt(a);
      const jEnd = binAt(e - oW * 1e-9);
      if (j === jEnd) { this.counts[base + j]! += c; continue; }
      for (; j <= jEnd; j++) {
        const na = nLo + j * nW, ne = na + nW;
        const ov = Math.min(e, j === bins - 1 ? Infinity : ne) - Math.max(a, j === 0 ? -Infinity : na);
        if (ov > 0) this.counts[base + j]! += (c * ov) / oW;
      }
    }
  }

  /** Value below which a fraction q of group g's mass lies (linear inside a bin; eq. 25). */
  quantile(g: number, q: number): number {
    const bins = this.bins, base = g * bins, total = this.total[g]!;
    const w = this.width(g), lo = this.lo[g]!;
    if (w === 0) return lo;
    const target = q * total;
    let cum = 0;
    for (let k = 0; k < bins; k++) {
      const c = this.counts[base + k]!;
      if (cum + c >= target && c > 0) return lo + (k + Math.min(1, Math.max(0, (target - cum) / c))) * w;
      cum += c;
    }
    return this.top(g);
  }

  /**
   * TensorRT-style entropy calibration of group g (eq. 28): the window of bins [a, b) whose
   * `levels`-level quantized distribution is closest in KL divergence to the clipped histogram.
   * Symmetric (|x|) histograms search b with a = 0 over every candidate b ≥ levels, as TensorRT;
   * signed ones search both ends by coordinate descent (two rounds, b then a), keeping the bin
   * that holds 0 inside the window. With `skipZeros` exact zeros are left out of the histogram
   * first. Returns the window's value range.
   */
  entropyRange(g: number, levels: number, skipZeros: boolean): { lo: number; hi: number } {
    const bins = this.bins;
    const h = this.counts.slice(g * bins, (g + 1) * bins);
    const lo = this.lo[g]!, w = this.width(g);
    const zb = this.zeroBin(g);
    if (skipZeros) h[zb] = Math.max(0, h[zb]! - this.zeros[g]!);
    if (w === 0 || !h.some((c) => c > 0)) return { lo, hi: lo };
    const kl = new WindowKL(h, levels);
    const best = (cands: (m: number) => [number, number], from: number, to: number, fallback: number): number => {
      let bm = fallback, bd = Infinity;
      for (let m = from; m <= to; m++) {
        const [a, b] = cands(m);
        const d = kl.divergence(a, b);
        if (d < bd) { bd = d; bm = m; }
      }
      return bm;
    };
    if (this.absolute) {
      const b = best((m) => [0, m], levels, bins, bins);
      return { lo: 0, hi: b * w };
    }
    let a = 0, b = bins;
    for (let round = 0; round < 2; round++) {
      b = best((m) => [a, m], Math.max(a + levels, zb + 1), bins, b);
      a = best((m) => [m, b], 0, Math.min(b - levels, zb), a);
    }
    return { lo: lo + a * w, hi: lo + b * w };
  }
}

const EPS = 1e-4;
const xlogx = (v: number): number => (v > 0 ? v * Math.log(v) : 0);

/**
 * KL(P‖Q) of windows [a, b) of one histogram h (eq. 28), as TensorRT / MXNet: P is the window
 * with the mass outside folded into its edge bins; Q merges the window's own bins (without the
 * outside mass) into `levels` chunks of ⌊n/levels⌋ bins (the last takes the remainder) and
 * spreads each chunk's mass evenly over the chunk's bins where P is non-zero. Both are
 * normalised; D = Σ_{p>0} p̂ log(p̂/q̂). A chunk with P-mass but no Q-mass (only outside mass
 * folded in) gets EPS per bin instead of 0, a large finite penalty (MXNet smooths likewise).
 * Prefix sums of h, h·log h and [h > 0] make one window O(levels).
 */
export class WindowKL {
  private readonly C: Float64Array;
  private readonly HL: Float64Array;
  private readonly NZ: Float64Array;
  private readonly total: number;
  constructor(private readonly h: Float64Array, private readonly levels: number) {
    const n = h.length;
    this.C = new Float64Array(n + 1);
    this.HL = new Float64Array(n + 1);
    this.NZ = new Float64Array(n + 1);
    for (let k = 0; k < n; k++) {
      const v = h[k]!;
      this.C[k + 1] = this.C[k]! + v;
      this.HL[k + 1] = this.HL[k]! + xlogx(v);
      this.NZ[k + 1] = this.NZ[k]! + (v > 0 ? 1 : 0);
    }
    this.total = this.C[n]!;
  }

  divergence(a: number, b: number): number {
    const { h, C, HL, NZ, levels } = this;
    const n = b - a;
    if (n < levels || n < 2) return Infinity;
    const left = C[a]!, right = this.total - C[b]!;
    const Sp = this.total;
    if (!(Sp > 0)) return Infinity;
    const p0 = h[a]! + left, pl = h[b - 1]! + right;
    // Σ p log p over the window
    const spp = HL[b]! - HL[a]! - xlogx(h[a]!) - xlogx(h[b - 1]!) + xlogx(p0) + xlogx(pl);
    const merged = Math.floor(n / levels);
    let spq = 0, Sq = 0;
    for (let j = 0; j < levels; j++) {
      const s = a + j * merged, e = j === levels - 1 ? b : s + merged;
      const chunk = C[e]! - C[s]!;
      let P = chunk, nz = NZ[e]! - NZ[s]!;
      if (s === a) { P += left; if (h[a]! === 0 && left > 0) nz++; }
      if (e === b) { P += right; if (h[b - 1]! === 0 && right > 0) nz++; }
      if (nz === 0 || P === 0) continue;
      const q = chunk > 0 ? chunk / nz : EPS;
      spq += P * Math.log(q);
      Sq += q * nz;
    }
    return (spp - spq) / Sp - Math.log(Sp) + Math.log(Sq);
  }
}
