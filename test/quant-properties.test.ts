/**
 * Property tests (fast-check) for the element-wise API: for arbitrary float32 data (any bit
 * pattern but NaN), scales and zero points, the kernels agree with the reference bit for bit, and
 * the algebraic facts of docs/quantization.md hold: fake quantization is idempotent (eq. 5),
 * dequantize→quantize is the identity on codes (eq. 2, 3), quantization is monotone, and every
 * result lies in the representable range (eq. 6).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, quantize, dequantize, fakeQuantize, QTYPES, QTYPE_NAMES, type QType } from '../src/index.js';
import * as ref from '../src/reference/quant.js';
import { storageArray } from '../src/quant/qtypes.js';

beforeAll(async () => { await init(); });

const RUNS = { numRuns: 150, seed: 20240611 };

const qtypeArb = fc.constantFrom(...QTYPE_NAMES);
/** Any float32 except NaN: ±0, subnormals, ±Inf and the extremes included. */
const floatArb = fc.float({ noNaN: true });
/** Scales that are valid float32 > 0, from subnormal to huge. */
const scaleArb = fc.oneof(
  fc.float({ min: Math.fround(2 ** -149), max: Math.fround(3e38), noNaN: true, noDefaultInfinity: true }),
  fc.float({ min: Math.fround(1e-4), max: Math.fround(10), noNaN: true }),
).filter((s) => s > 0 && Number.isFinite(s));

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

describe('properties of quantize / dequantize / fakeQuantize', () => {
  it('kernel = reference, bit for bit, for any data, scale, zero point and qtype', () => {
    fc.assert(fc.property(qtypeArb, fc.array(floatArb, { maxLength: 80, size: 'max' }), scaleArb, fc.double({ min: 0, max: 1, noNaN: true }),
      (qtype: QType, xs, s, zf) => {
        const info = QTYPES[qtype];
        const z = Math.round(info.qmin + zf * (info.qmax - info.qmin));
        const x = Float32Array.from(xs);
        const r: ref.RefParams = { qmin: info.qmin, qmax: info.qmax, scale: [s], zeroPoint: [z], axis: 0, blockSize: 0 };
        const p = { qtype, scale: s, zeroPoint: z };
        const q = quantize(x, [x.length], p);
        expect(sameBits(q, ref.quantizeTensorRef(x, [x.length], r, storageArray(info, x.length)))).toBe(true);
        expect(sameBits(fakeQuantize(x, [x.length], p), ref.fakeQuantizeTensorRef(x, [x.length], r))).toBe(true);
        expect(sameBits(dequantize(q, [x.length], p), ref.dequantizeTensorRef(q, [x.length], r))).toBe(true);
      }), RUNS);
  });

  it('fake quantization is idempotent and stays in the representable range (eq. 5, 6)', () => {
    fc.assert(fc.property(qtypeArb, fc.array(floatArb, { minLength: 1, maxLength: 64, size: 'max' }),
      fc.float({ min: Math.fround(1e-3), max: Math.fround(100), noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
      (qtype: QType, xs, s, zf) => {
        const info = QTYPES[qtype];
        const z = Math.round(info.qmin + zf * (info.qmax - info.qmin));
        const p = { qtype, scale: s, zeroPoint: z };
        const x = Float32Array.from(xs);
        const once = fakeQuantize(x, [x.length], p);
        const twice = fakeQuantize(once, [x.length], p);
        expect(sameBits(twice, once)).toBe(true);
        const lo = Math.fround((info.qmin - z) * s), hi = Math.fround((info.qmax - z) * s);
        for (const v of once) { expect(v).toBeGreaterThanOrEqual(lo); expect(v).toBeLessThanOrEqual(hi); }
      }), RUNS);
  });

  it('quantize(dequantize(q)) = q for every code (normal scales)', () => {
    fc.assert(fc.property(qtypeArb, fc.float({ min: Math.fround(1e-6), max: Math.fround(1e6), noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 64, size: 'max' }),
      (qtype: QType, s, zf, fs) => {
        const info = QTYPES[qtype];
        const z = Math.round(info.qmin + zf * (info.qmax - info.qmin));
        const q = storageArray(info, fs.length);
        fs.forEach((f, i) => { q[i] = Math.round(info.qmin + f * (info.qmax - info.qmin)); });
        const p = { qtype, scale: s, zeroPoint: z };
        expect(Array.from(quantize(dequantize(q, [q.length], p), [q.length], p))).toEqual(Array.from(q));
      }), RUNS);
  });

  it('quantization is monotone: x ≤ y ⇒ q(x) ≤ q(y)', () => {
    fc.assert(fc.property(qtypeArb, fc.array(floatArb, { minLength: 2, maxLength: 64, size: 'max' }), scaleArb, (qtype: QType, xs, s) => {
      const x = Float32Array.from(xs).sort();
      const q = quantize(x, [x.length], { qtype, scale: s });
      for (let i = 1; i < q.length; i++) expect(q[i]!).toBeGreaterThanOrEqual(q[i - 1]!);
    }), RUNS);
  });

  it('per-axis parameters equal per-tensor quantization of each slice', () => {
    fc.assert(fc.property(qtypeArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }),
      fc.array(fc.float({ min: Math.fround(1e-3), max: Math.fround(10), noNaN: true }), { minLength: 5, maxLength: 5 }),
      fc.array(floatArb, { minLength: 600, maxLength: 600 }),
      (qtype: QType, outer, dim, inner, scales, pool) => {
        const n = outer * dim * inner;
        const x = Float32Array.from(pool.slice(0, n));
        const s = Float32Array.from({ length: dim }, (_, d) => scales[d % 5]!);
        const q = quantize(x, [outer, dim, inner], { qtype, scale: s, axis: -2 });
        for (let o = 0; o < outer; o++) for (let d = 0; d < dim; d++) {
          const off = (o * dim + d) * inner;
          const slice = quantize(x.subarray(off, off + inner).slice(), [inner], { qtype, scale: s[d]! });
          expect(Array.from(q.subarray(off, off + inner))).toEqual(Array.from(slice));
        }
      }), { ...RUNS, numRuns: 60 });
  });
});
