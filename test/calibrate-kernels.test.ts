// The calibration kernels against their scalar twins (src/reference/calibrate.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { Rng } from '../src/data/random.js';
import { QTYPES } from '../src/quant/qtypes.js';
import {
  histogramRowsRef, minmaxRowsRef, permuteBlocksRef, permuteRef, qdqSqerrRowsExactRef, qdqSqerrRowsRef, qdqValue, binOf,
} from '../src/reference/calibrate.js';

beforeAll(async () => { await init(); });

function put(a: Float32Array | Int32Array | Float64Array): number {
  const mem = rt().mem;
  const off = mem.alloc(a.byteLength);
  new (a.constructor as Float32ArrayConstructor)(mem.memory.buffer, off, a.length).set(a as Float32Array);
  return off;
}
function get<T extends Float32Array | Int32Array | Float64Array>(ctor: { new(b: ArrayBuffer, o: number, n: number): T }, off: number, n: number): T {
  return new ctor(rt().mem.memory.buffer as ArrayBuffer, off, n).slice() as T;
}
/** Start table of runs with these lengths (a ragged run among equal ones, empty runs allowed). */
function startsOf(lengths: readonly number[]): Int32Array {
  const t = new Int32Array(lengths.length + 1);
  lengths.forEach((l, g) => { t[g + 1] = t[g]! + l; });
  return t;
}
/** Group lengths to test: equal runs, and runs with a short one every `period` (a ragged last block). */
function runLengths(groups: number, len: number, tail = len, period = 1): number[] {
  return Array.from({ length: groups }, (_, g) => ((g + 1) % period === 0 ? tail : len));
}
function data(rng: Rng, n: number, scale = 3): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = scale * rng.laplace();
  return x;
}

/** A gather kernel and its scalar twin on the same n random floats must agree bit for bit. */
function expectSameGather(rng: Rng, n: number, kernel: (src: number, dst: number) => void, twin: (src: Float32Array, dst: Float32Array) => void): void {
  const mem = rt().mem;
  const src = data(rng, n);
  const want = new Float32Array(n);
  twin(src, want);
  const a = put(src), b = mem.alloc(4 * n);
  kernel(a, b);
  expect(get(Float32Array, b, n)).toEqual(want);
  mem.release(a); mem.release(b);
}

describe('cal_permute_f32', () => {
  it('equals the scalar permutation for runs of 1 (4×4 tiles + edges) and longer runs', () => {
    const rng = new Rng(1);
    for (const [slabs, rows, cols, run] of [[1, 7, 9, 1], [3, 4, 8, 1], [2, 13, 5, 1], [1, 5, 3, 7], [2, 3, 4, 2], [1, 1, 17, 1]] as const) {
      expectSameGather(rng, slabs * rows * cols * run, (a, b) => rt().kernels.cal_permute_f32(a, b, slabs, rows, cols, run),
        (src, dst) => permuteRef(src, dst, slabs, rows, cols, run));
    }
  });
});

describe('cal_permute_blocks_f32', () => {
  it('equals the scalar gather for dividing and ragged block sizes, inner 1 … 9', () => {
    const rng = new Rng(11);
    for (const [outer, dim, inner, B] of [[1, 7, 3, 3], [2, 5, 4, 2], [3, 33, 5, 32], [1, 8, 8, 4], [2, 9, 1, 4], [1, 4, 9, 4], [2, 6, 7, 6], [1, 13, 2, 1]] as const) {
      expectSameGather(rng, outer * dim * inner, (a, b) => rt().kernels.cal_permute_blocks_f32(a, b, outer, dim, inner, B),
        (src, dst) => permuteBlocksRef(src, dst, outer, dim, inner, B));
    }
  });
});

describe('minmax_f32 (DynamicQuantizeLinear\'s range)', () => {
  it('orders −0 below +0 and keeps ±Inf, in the SIMD body and the tail, whatever the order; n = 0 gives +Inf, −Inf', () => {
    const { kernels, mem } = rt();
    const cases: number[][] = [
      [], [0], [-0], [0, -0], [-0, 0], Array(8).fill(-0), Array(8).fill(0), [...Array(8).fill(0), -0], [-0, ...Array(8).fill(0)],
      [...Array(9).fill(-0), 0], [3, -0, 0, 2, 1, 5, 4, 6, 7], [-3, -0, -2, -1, -5, -4, -6, -7, -9], [Infinity, 1, -Infinity, ...Array(13).fill(0)],
      [-Infinity, -Infinity], [Infinity], [1.5e-45, -1.5e-45, 3.4e38, -3.4e38, 0, -0, 7, 8, 9, 10, 11, 12],
    ];
    for (const c of cases) {
      const x = new Float32Array(c);
      let lo = Infinity, hi = -Infinity; // the reference: Math.min / Math.max order −0 below +0 too
      for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const xo = put(x), oo = put(new Float32Array(2));
      expect(kernels.minmax_f32(xo, x.length, oo)).toBe(-1);
      const got = get(Float32Array, oo, 2);
      expect([Object.is(got[0], lo), Object.is(got[1], hi)], `[${c.map((v) => (Object.is(v, -0) ? '-0' : v)).join(', ')}] → ${got[0]}, ${got[1]}`).toEqual([true, true]);
      mem.release(xo); mem.release(oo);
    }
  });
});

describe('cal_minmax_rows_f32', () => {
  it('folds each run into the running range, equal to the scalar twin', () => {
    const rng = new Rng(2);
    const { kernels, mem } = rt();
    for (const lengths of [[1], [7], [8], runLengths(3, 33), runLengths(5, 1000), runLengths(17, 9), runLengths(6, 32, 1, 3), runLengths(4, 17, 9, 2), [0, 5, 0]]) {
      const groups = lengths.length, starts = startsOf(lengths);
      const x = data(rng, starts[groups]!);
      const seed = new Float32Array(2 * groups);
      for (let g = 0; g < groups; g++) { seed[2 * g] = g % 2 ? -0.5 : Infinity; seed[2 * g + 1] = g % 2 ? 0.5 : -Infinity; }
      const want = seed.slice();
      expect(minmaxRowsRef(x, groups, starts, want)).toBe(-1);
      const xo = put(x), oo = put(seed), so = put(starts);
      expect(kernels.cal_minmax_rows_f32(xo, groups, so, oo)).toBe(-1);
      expect(get(Float32Array, oo, 2 * groups)).toEqual(want);
      mem.release(xo); mem.release(oo); mem.release(so);
    }
  });

  it('reports the first NaN in SIMD body and tail', () => {
    const { kernels, mem } = rt();
    for (const at of [0, 5, 8, 30, 31]) {
      const x = data(new Rng(3), 2 * 16);
      x[at] = NaN;
      x[31] = at === 31 ? NaN : x[31]!;
      if (at < 30) x[30] = NaN; // a later NaN must not win
      for (const lengths of [[16, 16], [19, 13]]) { // equal runs, and a ragged second one
        const starts = startsOf(lengths);
        const xo = put(x), oo = put(new Float32Array([Infinity, -Infinity, Infinity, -Infinity])), so = put(starts);
        expect(kernels.cal_minmax_rows_f32(xo, 2, so, oo)).toBe(at);
        expect(minmaxRowsRef(x, 2, starts, new Float32Array([Infinity, -Infinity, Infinity, -Infinity]))).toBe(at);
        mem.release(xo); mem.release(oo); mem.release(so);
      }
    }
  });
});

describe('cal_histogram_rows_f32', () => {
  it('gives exactly the scalar twin\'s counts (signed and |x|, per group ranges, edges clamped)', () => {
    const rng = new Rng(4);
    const { kernels, mem } = rt();
    for (const [lengths, nbins] of [[[1001], 2048], [runLengths(4, 37), 64], [runLengths(3, 256), 7], [[3], 2048], [runLengths(6, 37, 6, 3), 64], [runLengths(4, 16, 1, 2), 16]] as const) {
      const groups = lengths.length, starts = startsOf(lengths), len = lengths[0]!;
      const x = data(rng, starts[groups]!);
      for (let i = 0; i < x.length; i += 7) x[i] = i % 2 ? 0 : -0; // exact zeros, in body and tail
      x[0] = 1e30; if (len > 2) x[1] = -1e30; // far outside: must clamp to the edge bins
      const lo = new Float32Array(groups), invw = new Float32Array(groups);
      for (let g = 0; g < groups; g++) { lo[g] = -4 - g; invw[g] = Math.fround(nbins / (8 + 2 * g)); }
      for (const absolute of [false, true]) {
        const want = new Int32Array(groups * nbins * 4), wantZ = new Int32Array(groups).fill(3);
        histogramRowsRef(x, groups, starts, lo, invw, nbins, absolute, want, wantZ);
        const xo = put(x), so = put(starts), lo_ = put(lo), iw = put(invw), co = put(new Int32Array(groups * nbins * 4)), zo = put(new Int32Array(groups).fill(3));
        kernels.cal_histogram_rows_f32(xo, groups, so, lo_, iw, nbins, absolute ? 1 : 0, co, zo);
        const got = get(Int32Array, co, groups * nbins * 4);
        expect(got).toEqual(want);
        expect(got.reduce((a, b) => a + b, 0)).toBe(starts[groups]);
        expect(get(Int32Array, zo, groups)).toEqual(wantZ);
        for (const o of [xo, so, lo_, iw, co, zo]) mem.release(o);
      }
    }
  });

  it('puts values on bin edges where float32 arithmetic says (the reference is not a tautology)', () => {
    // lo = 0, 4 bins over [0, 1): 0.25 → bin 1, 0.2499999 → bin 0, 1 → clamped to 3, −0.1 → 0.
    expect(binOf(0.25, 0, 4, 4)).toBe(1);
    expect(binOf(Math.fround(0.2499999), 0, 4, 4)).toBe(0);
    expect(binOf(1, 0, 4, 4)).toBe(3);
    expect(binOf(-0.1, 0, 4, 4)).toBe(0);
  });
});

describe('cal_qdq_sqerr_rows_f32', () => {
  it('Q/DQ values follow ONNX: f32 division, half to even, saturation', () => {
    expect(qdqValue(2.5, 1, 0, -8, 7)).toBe(2);
    expect(qdqValue(3.5, 1, 0, -8, 7)).toBe(4);
    expect(qdqValue(-2.5, 1, 0, -8, 7)).toBe(-2);
    expect(qdqValue(100, 1, 0, -8, 7)).toBe(7);
    expect(qdqValue(-100, 0.5, 3, 0, 15)).toBe(-1.5);
  });

  it('equals the float64 scalar sum within 2e-6 relative (bound ≈ 13·2⁻²⁴ from the kernel contract), and the order-faithful twin exactly', () => {
    const rng = new Rng(5);
    const { kernels, mem } = rt();
    for (const info of Object.values(QTYPES)) {
      for (const lengths of [[4099], runLengths(6, 128), runLengths(3, 15), runLengths(2, 16), runLengths(5, 300), runLengths(6, 144, 17, 3), runLengths(4, 257, 1, 2)]) {
        const groups = lengths.length, starts = startsOf(lengths);
        const x = data(rng, starts[groups]!);
        const scales = new Float32Array(groups), zps = new Float32Array(groups);
        for (let g = 0; g < groups; g++) {
          scales[g] = Math.fround((12 / (info.qmax - info.qmin)) * (0.3 + rng.next()));
          zps[g] = Math.round(info.signed ? 0 : (info.qmin + info.qmax) / 2 + rng.int(-2, 2));
        }
        const want = new Float64Array(groups).fill(0.25), exact = want.slice();
        qdqSqerrRowsRef(x, groups, starts, scales, zps, info.qmin, info.qmax, want);
        qdqSqerrRowsExactRef(x, groups, starts, scales, zps, info.qmin, info.qmax, exact);
        const xo = put(x), to = put(starts), so = put(scales), zo = put(zps), oo = put(new Float64Array(groups).fill(0.25));
        kernels.cal_qdq_sqerr_rows_f32(xo, groups, to, so, zo, info.qmin, info.qmax, oo);
        const got = get(Float64Array, oo, groups);
        for (let g = 0; g < groups; g++) {
          expect(Math.abs(got[g]! - want[g]!) / want[g]!).toBeLessThan(2e-6);
        }
        expect(got).toEqual(exact);
        for (const o of [xo, to, so, zo, oo]) mem.release(o);
      }
    }
  });

  it('is zero on grid points and responds to a single changed element', () => {
    const { kernels, mem } = rt();
    const x = new Float32Array(64);
    for (let i = 0; i < 64; i++) x[i] = 0.5 * ((i % 15) - 7);
    const xo = put(x), to = put(Int32Array.of(0, 64)), so = put(new Float32Array([0.5])), zo = put(new Float32Array([0])), oo = put(new Float64Array(1));
    kernels.cal_qdq_sqerr_rows_f32(xo, 1, to, so, zo, -8, 7, oo);
    expect(get(Float64Array, oo, 1)[0]).toBe(0);
    new Float32Array(mem.memory.buffer, xo, 64)[37] = 0.6; // error 0.1 in the SIMD body
    new Float64Array(mem.memory.buffer, oo, 1)[0] = 0;
    kernels.cal_qdq_sqerr_rows_f32(xo, 1, to, so, zo, -8, 7, oo);
    expect(get(Float64Array, oo, 1)[0]).toBeCloseTo((Math.fround(0.6) - 0.5) ** 2, 9);
    for (const o of [xo, to, so, zo, oo]) mem.release(o);
  });
});
