/**
 * The public element-wise API (src/quant/): quantize / dequantize / fakeQuantize in array and
 * tensor form against the whole-tensor reference (indexed straight from eq. 4), for every qtype
 * and granularity on odd shapes; qparamsFromRange (eq. 7); dynamicQuantize (eq. 8); packing;
 * error metrics per bit width; memory hygiene.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, quantize, dequantize, fakeQuantize, dynamicQuantize, qparamsFromRange, packInt4, unpackInt4, packInt2, unpackInt2,
  packInt4Tensor, unpackInt4Tensor, packInt2Tensor, unpackInt2Tensor,
  quantizeTensor, dequantizeTensor, fakeQuantizeTensor, dynamicQuantizeTensor, memoryStats, sqnr, Tensor, MinMaxObserver, MseObserver,
  QTYPES, QTYPE_NAMES, type QParams, type QType,
} from '../src/index.js';
import { Rng } from '../src/data/random.js';
import * as ref from '../src/reference/quant.js';
import { storageArray } from '../src/quant/qtypes.js';

beforeAll(async () => { await init(); });

function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ''): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what} element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

const SHAPES: number[][] = [[], [0], [1], [4099], [3, 17], [2, 3, 5], [5, 1, 33], [16, 16], [7, 64], [4, 6, 2, 3]];

interface Case { label: string; p: QParams; r: ref.RefParams }

/** Per-tensor, every axis (as given and negative) and block sizes dividing each axis or not (a ragged last block), or longer than it. */
function cases(rng: Rng, shape: number[], qtype: QType): Case[] {
  const info = QTYPES[qtype];
  const out: Case[] = [];
  const scale = () => Math.fround(Math.exp(rng.next() * 6 - 5));
  const zp = () => rng.int(info.qmin, info.qmax);
  const s0 = scale(), z0 = zp();
  out.push({ label: 'per-tensor', p: { qtype, scale: s0, zeroPoint: z0 }, r: { qmin: info.qmin, qmax: info.qmax, scale: [s0], zeroPoint: [z0], axis: 0, blockSize: 0 } });
  shape.forEach((dim, axis) => {
    if (dim < 2) return;
    const s = Float32Array.from({ length: dim }, scale), z = Array.from({ length: dim }, zp);
    const neg = rng.next() < 0.5;
    out.push({
      label: `axis ${axis}${neg ? ` as ${axis - shape.length}` : ''}`,
      p: { qtype, scale: s, zeroPoint: z, axis: neg ? axis - shape.length : axis },
      r: { qmin: info.qmin, qmax: info.qmax, scale: s, zeroPoint: z, axis, blockSize: 0 },
    });
    for (const b of new Set([1, 2, 3, 16, dim, dim + 3])) {
      let count = 1;
      shape.forEach((d, k) => { count *= k === axis ? Math.ceil(dim / b) : d; });
      const bs = Float32Array.from({ length: count }, scale), bz = Int32Array.from({ length: count }, zp);
      out.push({
        label: `axis ${axis} block ${b}`,
        p: { qtype, scale: bs, zeroPoint: bz, axis, blockSize: b },
        r: { qmin: info.qmin, qmax: info.qmax, scale: bs, zeroPoint: bz, axis, blockSize: b },
      });
    }
  });
  return out;
}

function data(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  const sp = [Infinity, -Infinity, -0, 0, 1e-42, -1e-42, 1e30, -1e30];
  for (let i = 0; i < n; i++) x[i] = rng.next() < 0.05 ? sp[rng.int(0, sp.length - 1)]! : rng.gaussian() * 3;
  return x;
}

describe.each(QTYPE_NAMES.map((n) => [n]))('quantize / dequantize / fakeQuantize — %s', (qtype: QType) => {
  const info = QTYPES[qtype];
  it('match the eq. (4)-indexed reference for every granularity and odd shape, in array and tensor form', () => {
    const rng = new Rng(0xa91 + info.bits * 3 + (info.signed ? 1 : 0));
    let checked = 0;
    for (const shape of SHAPES) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (const c of cases(rng, shape, qtype)) {
        const what = `[${shape.join(',')}] ${c.label}`;
        const x = data(rng, n);
        const wantQ = ref.quantizeTensorRef(x, shape, c.r, storageArray(info, n));
        const q = quantize(x, shape, c.p);
        expectExact(q, wantQ, `quantize ${what}`);
        const wantD = ref.dequantizeTensorRef(wantQ, shape, c.r);
        expectExact(dequantize(q, shape, c.p), wantD, `dequantize ${what}`);
        const wantF = ref.fakeQuantizeTensorRef(x, shape, c.r);
        expectExact(wantF, wantD, `reference fake = dq∘q ${what}`);
        expectExact(fakeQuantize(x, shape, c.p), wantF, `fakeQuantize ${what}`);
        // tensor form, zero-copy; fake-quantize in place
        using xt = Tensor.from(x, shape) as Tensor<'float32'>;
        using qt = quantizeTensor(xt, c.p);
        expectExact(qt.toArray(), wantQ, `quantizeTensor ${what}`);
        using dt = dequantizeTensor(qt, c.p);
        expectExact(dt.toArray(), wantD, `dequantizeTensor ${what}`);
        const same = fakeQuantizeTensor(xt, c.p, xt);
        expect(same).toBe(xt);
        expectExact(xt.toArray(), wantF, `fakeQuantizeTensor in place ${what}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('qparamsFromRange (eq. 7)', () => {
  it('asymmetric: s = (max − min)/(qmax − qmin), z = clamp(rhe(qmin − min/s)), range widened to include 0', () => {
    const p = qparamsFromRange(-1, 3, { qtype: 'uint8' });
    expect(p.scale).toBe(Math.fround(Math.fround(4) / 255));
    expect(p.zeroPoint).toBe(ref.roundHalfEven(Math.fround(0 - Math.fround(-1 / (p.scale as number)))));
    const pos = qparamsFromRange(2, 5, { qtype: 'uint8' }); // widened to [0, 5]
    expect(pos.scale).toBe(Math.fround(5 / 255));
    expect(pos.zeroPoint).toBe(0);
    const neg = qparamsFromRange(-6, -2, { qtype: 'int8' }); // widened to [−6, 0]
    expect(neg.zeroPoint).toBe(127);
  });

  it('zero is exactly representable and the range edges land within s/2 (eq. 6)', () => {
    const rng = new Rng(8);
    for (const qtype of QTYPE_NAMES) {
      for (let t = 0; t < 50; t++) {
        const a = rng.gaussian() * 10, b = a + Math.abs(rng.gaussian()) * 10;
        for (const symmetric of [false, true]) {
          const p = qparamsFromRange(a, b, { qtype, symmetric });
          const s = p.scale as number;
          const y = fakeQuantize(Float32Array.of(0, Math.min(a, 0), Math.max(b, 0)), [3], p);
          expect(y[0]).toBe(0);
          // range edges: within half a step, plus the float32 rounding of s carried over up to 2^bits steps
          const tol = s * (0.5 + 2 ** QTYPES[qtype].bits * 2 ** -23);
          expect(Math.abs(y[1]! - Math.fround(Math.min(a, 0)))).toBeLessThanOrEqual(tol);
          expect(Math.abs(y[2]! - Math.fround(Math.max(b, 0)))).toBeLessThanOrEqual(tol);
        }
      }
    }
  });

  it('symmetric: z = 0 for signed types, the midpoint for unsigned; narrowRange gives ±127 for int8', () => {
    const s = qparamsFromRange(-2, 1, { qtype: 'int8', symmetric: true });
    expect(s.zeroPoint).toBe(0);
    expect(s.scale).toBe(Math.fround(2 / 127.5));
    const n = qparamsFromRange(-2, 1, { qtype: 'int8', symmetric: true, narrowRange: true });
    expect(n.scale).toBe(Math.fround(2 / 127));
    expect(Array.from(quantize(Float32Array.of(-2, 2, -1e9), [3], n))).toEqual([-127, 127, -128]);
    expect(qparamsFromRange(-2, 1, { qtype: 'uint8', symmetric: true }).zeroPoint).toBe(128);
    expect(qparamsFromRange(-2, 1, { qtype: 'uint4', symmetric: true }).zeroPoint).toBe(8);
    expect(qparamsFromRange(-2, 1, { qtype: 'int4', symmetric: true }).zeroPoint).toBe(0);
    expect(Object.is(qparamsFromRange(-2, 1, { qtype: 'int4', symmetric: true }).zeroPoint, -0)).toBe(false);
  });

  it('a zero-width range gets a valid scale; a subnormal range does not underflow to 0', () => {
    for (const qtype of QTYPE_NAMES) {
      for (const symmetric of [false, true]) {
        const p = qparamsFromRange(0, 0, { qtype, symmetric });
        expect(p.scale).toBe(1);
        expect(Array.from(fakeQuantize(Float32Array.of(0, -0), [2], p))).toEqual([0, 0]);
        const t = qparamsFromRange(-1e-45, 1e-45, { qtype, symmetric });
        expect(t.scale as number).toBeGreaterThan(0);
      }
    }
  });

  it('per-channel arrays give Float32Array scales and Int32Array zero points with the axis (and blockSize)', () => {
    const p = qparamsFromRange([-1, 0, -3], [1, 2, 0], { qtype: 'int8', axis: 0 });
    expect(p.scale).toBeInstanceOf(Float32Array);
    expect((p.scale as Float32Array).length).toBe(3);
    expect(p.axis).toBe(0);
    for (let i = 0; i < 3; i++) {
      const one = qparamsFromRange([-1, 0, -3][i]!, [1, 2, 0][i]!, { qtype: 'int8' });
      expect((p.scale as Float32Array)[i]).toBe(one.scale);
      expect((p.zeroPoint as Int32Array)[i]).toBe(one.zeroPoint);
    }
    const b = qparamsFromRange([-1, -2], [1, 2], { qtype: 'int4', axis: 1, blockSize: 2, symmetric: true });
    expect(b.blockSize).toBe(2);
    expect(Array.from(fakeQuantize(Float32Array.of(-1, 1, -2, 2), [1, 4], b))).toEqual([-1, 1, -2, 2].map((v, i) => {
      const s = (b.scale as Float32Array)[i >> 1]!;
      return ref.fakeQuantizeValue(v, s, 0, -8, 7);
    }));
  });

  it('rejects bad ranges and options with InvalidArgumentError naming the argument', () => {
    expect(() => qparamsFromRange(NaN, 1, { qtype: 'int8' })).toThrow(/^min: .*finite/);
    expect(() => qparamsFromRange(0, Infinity, { qtype: 'int8' })).toThrow(/^max: .*finite/);
    expect(() => qparamsFromRange(2, 1, { qtype: 'int8' })).toThrow(/^min: .*greater than max/);
    expect(() => qparamsFromRange(0, 1, { qtype: 'int3' as QType })).toThrow(/options.qtype: unknown quantized type 'int3'/);
    expect(() => qparamsFromRange([0, 1], [1], { qtype: 'int8', axis: 0 })).toThrow(/^max: has 1 values, min has 2/);
    expect(() => qparamsFromRange([0], 1, { qtype: 'int8', axis: 0 })).toThrow(/both be arrays/);
    expect(() => qparamsFromRange([0], [1], { qtype: 'int8' })).toThrow(/^options.axis: .*need the axis/);
    expect(() => qparamsFromRange(0, 1, { qtype: 'int8', blockSize: 4 })).toThrow(/^options.blockSize/);
    for (const b of [0, -2, 2.5, NaN]) {
      expect(() => qparamsFromRange([0], [1], { qtype: 'int8', axis: 1, blockSize: b })).toThrow(/^options.blockSize: must be a positive integer/);
    }
    // any positive block size is kept (the scale count ⌈D/B⌉ is checked when the parameters meet a shape)
    expect(qparamsFromRange([0, 0], [1, 2], { qtype: 'int8', axis: 1, blockSize: 3 }).blockSize).toBe(3);
    expect(() => qparamsFromRange(0, 1, { qtype: 'int8', symmetric: 'yes' as unknown as boolean })).toThrow(/^options.symmetric/);
  });
});

describe('dynamicQuantize (eq. 8, ONNX DynamicQuantizeLinear)', () => {
  it('matches the float32 reference on random data of every length, array and tensor form', () => {
    const rng = new Rng(31337);
    for (const n of [0, 1, 15, 16, 17, 31, 33, 1000, 4099]) {
      for (const shift of [0, 5, -5]) {
        const x = Float32Array.from({ length: n }, () => rng.gaussian() * 2 + shift);
        const want = ref.dynamicQuantizeRef(x);
        const got = dynamicQuantize(x);
        expect([got.scale, got.zeroPoint]).toEqual([want.scale, want.zeroPoint]);
        expectExact(got.q, want.q, `n=${n}`);
        // equals quantize() with qparamsFromRange over the same range
        if (n > 0) {
          const p = qparamsFromRange(Math.min(...x), Math.max(...x), { qtype: 'uint8' });
          expect([p.scale, p.zeroPoint]).toEqual([got.scale, got.zeroPoint]);
        }
        using xt = Tensor.from(x) as Tensor<'float32'>;
        const t = dynamicQuantizeTensor(xt);
        expectExact(t.q.toArray(), want.q);
        t.q.dispose();
      }
    }
  });

  it('computes in float32 like ONNX: x = [−3, 3] gives zero point 128 (double arithmetic would give 127)', () => {
    const r = dynamicQuantize(Float32Array.of(-3, 3));
    expect(r.scale).toBe(Math.fround(6 / 255));
    expect(r.zeroPoint).toBe(128);
    expect(Array.from(r.q)).toEqual([0, 255]);
  });

  it('all zeros: scale 1, zero point 0 (ONNX Runtime answers scale 0); −0 quantizes to the zero point', () => {
    const r = dynamicQuantize(Float32Array.of(0, -0, 0));
    expect(r).toEqual({ q: Uint8Array.of(0, 0, 0), scale: 1, zeroPoint: 0 });
    const s = dynamicQuantize(Float32Array.of(-0, 1, -1));
    expect(s.q[0]).toBe(s.zeroPoint);
  });

  it('NaN throws NaNInputError with the first index; ±Inf throws InvalidArgumentError', () => {
    const x = Float32Array.from({ length: 40 }, (_, i) => i);
    x[21] = NaN; x[30] = NaN;
    expect(() => dynamicQuantize(x)).toThrow(expect.objectContaining({ name: 'NaNInputError', index: 21, argument: 'x' }));
    expect(() => dynamicQuantize(Float32Array.of(1, Infinity))).toThrow(/^x: contains \+Infinity/);
    expect(() => dynamicQuantize(Float32Array.of(-Infinity, 1))).toThrow(/^x: contains -Infinity/);
    expect(() => dynamicQuantize([1, 2] as unknown as Float32Array)).toThrow(/^x: must be a Float32Array/);
  });
});

describe('ranges at the float32 limit (eq. 53): a finite grid, never an Infinity or NaN', () => {
  const F = 3.4028234663852886e38;
  const RANGES: [number, number][] = [[-3e38, 3e38], [-F, F], [-F, 1], [0, F], [-F, 0.5], [-1, F], [-F, F / 2], [-2e38, 2.5e38]];
  /** Every code of the type dequantizes to a finite float32; the range's ends land within one step; 0 stays exact. */
  function expectFiniteGrid(p: QParams, lo: number, hi: number, what: string): void {
    const info = QTYPES[p.qtype], s = p.scale as number, z = p.zeroPoint as number;
    expect(Number.isFinite(s) && s > 0, `${what}: scale ${s}`).toBe(true);
    expect(Number.isInteger(z) && z >= info.qmin && z <= info.qmax, `${what}: zero point ${z}`).toBe(true);
    const ends = dequantize(storageArray(info, 2).fill(0).map((_, i) => (i === 0 ? info.qmin : info.qmax)) as Int8Array, [2], p);
    expect(Number.isFinite(ends[0]!) && Number.isFinite(ends[1]!), `${what}: grid ends ${ends[0]}, ${ends[1]}`).toBe(true);
    const fq = fakeQuantize(Float32Array.of(Math.min(lo, 0), Math.max(hi, 0), 0, -0), [4], p);
    expect(fq.every(Number.isFinite), `${what}: ${Array.from(fq)}`).toBe(true);
    // within one step (and the float32 rounding of the product) of the range's ends
    expect(Math.abs(fq[0]! - Math.min(lo, 0)), `${what}: low end`).toBeLessThanOrEqual(s * (1 + 2 ** -20));
    expect(Math.abs(fq[1]! - Math.max(hi, 0)), `${what}: high end`).toBeLessThanOrEqual(s * (1 + 2 ** -20));
    expect(fq[2]).toBe(0);
  }

  it('qparamsFromRange: every qtype, symmetric or not, narrow or not, at ranges whose width (or widest code) overflows float32', () => {
    for (const qtype of QTYPE_NAMES) for (const symmetric of [false, true]) for (const narrowRange of [false, true]) {
      for (const [lo, hi] of RANGES) {
        const p = qparamsFromRange(lo, hi, { qtype, symmetric, narrowRange });
        expectFiniteGrid(p, lo, hi, `${qtype} ${symmetric ? 'sym' : 'asym'}${narrowRange ? ' narrow' : ''} [${lo}, ${hi}]`);
      }
    }
  });

  it('the cap only bites where a code would overflow: ordinary ranges keep eq. (7) exactly, and [−F, F] gets the largest finite scale', () => {
    expect(qparamsFromRange(-1, 1, { qtype: 'int8', symmetric: true }).scale).toBe(Math.fround(1 / 127.5));
    expect(qparamsFromRange(-3e38, 3e38, { qtype: 'uint8' })).toEqual({ qtype: 'uint8', scale: Math.fround(Math.fround(3e38 / 255) * 2), zeroPoint: 128 });
    // symmetric int8 over [−F, F]: eq. (7) gives F/127.5, whose code −128 would be −∞; the grid becomes F/128 (exact)
    const p = qparamsFromRange(-F, F, { qtype: 'int8', symmetric: true });
    expect(p.scale).toBe(F / 128);
    expect(Math.fround(-128 * (p.scale as number))).toBe(-F);
    expect(ref.finiteGridScaleRef(Math.fround(F / 127.5), 128)).toBe(F / 128);
  });

  it('DynamicQuantizeLinear: finite scale and zero point, finite dequantized codes, equal to the reference and to qparamsFromRange', () => {
    for (const [lo, hi] of RANGES) {
      const x = Float32Array.of(lo, hi, 0, lo / 3, hi / 7, 1);
      const r = dynamicQuantize(x);
      const want = ref.dynamicQuantizeRef(x);
      expect([r.scale, r.zeroPoint]).toEqual([want.scale, want.zeroPoint]);
      expectExact(r.q, want.q, `[${lo}, ${hi}]`);
      const p: QParams = { qtype: 'uint8', scale: r.scale, zeroPoint: r.zeroPoint };
      expect(qparamsFromRange(Math.fround(lo), Math.fround(hi), { qtype: 'uint8' })).toEqual(p);
      expectFiniteGrid(p, lo, hi, `dynamic [${lo}, ${hi}]`);
      expect(dequantize(r.q, [x.length], p).every(Number.isFinite)).toBe(true);
      using xt = Tensor.from(x) as Tensor<'float32'>;
      const t = dynamicQuantizeTensor(xt);
      try {
        expect([t.scale, t.zeroPoint]).toEqual([r.scale, r.zeroPoint]);
        expectExact(t.q.toArray(), r.q);
      } finally { t.q.dispose(); }
    }
    // [−3e38, 3e38]: max − min = +∞ in float32, yet the grid is finite and covers the data
    const r = dynamicQuantize(Float32Array.of(-3e38, 3e38));
    expect(Math.fround(3e38 - -3e38)).toBe(Infinity);
    expect(Array.from(r.q)).toEqual([0, 255]);
    expect(Array.from(dequantize(r.q, [2], { qtype: 'uint8', scale: r.scale, zeroPoint: r.zeroPoint })).every((v) => Math.abs(v) <= F)).toBe(true);
  });

  it('observers at the limit give the same finite grids (one per block, ragged included)', () => {
    const x = Float32Array.of(-F, 1, F, 2, -3e38, 3e38, 0);
    for (const O of [MinMaxObserver, MseObserver]) {
      using o = new O({ qtype: 'int8', symmetric: true, axis: 0, blockSize: 2 });
      const p = o.observe(x, [7]).qparams();
      for (let g = 0; g < 4; g++) {
        const s = (p.scale as Float32Array)[g]!;
        expect(Number.isFinite(Math.fround(-128 * s)), `${O.name} block ${g}: scale ${s}`).toBe(true);
      }
      expect(fakeQuantize(x, [7], p).every(Number.isFinite)).toBe(true);
    }
  });
});

describe('packInt4 / unpackInt4 / packInt2 / unpackInt2', () => {
  it('round-trip every length, ONNX nibble order', () => {
    expect(Array.from(packInt4(Int8Array.of(0, 1, 7, -4, -8)))).toEqual([16, 199, 8]); // ONNX test_dequantizelinear_int4
    expect(Array.from(packInt4(Uint8Array.of(0, 1, 7, 10, 15)))).toEqual([16, 167, 15]);
    expect(Array.from(packInt2(Uint8Array.of(0, 1, 2, 3)))).toEqual([228]);
    const rng = new Rng(3);
    for (const n of [0, 1, 2, 3, 31, 32, 33, 64, 1001]) {
      const s = Int8Array.from({ length: n }, () => rng.int(-8, 7));
      const u = Uint8Array.from({ length: n }, () => rng.int(0, 15));
      expect(unpackInt4(packInt4(s), n, true)).toEqual(s);
      expect(unpackInt4(packInt4(u), n, false)).toEqual(u);
      expect(packInt4(s).length).toBe(Math.ceil(n / 2));
      const s2 = Int8Array.from({ length: n }, () => rng.int(-2, 1));
      const u2 = Uint8Array.from({ length: n }, () => rng.int(0, 3));
      expect(unpackInt2(packInt2(s2), n, true)).toEqual(s2);
      expect(unpackInt2(packInt2(u2), n, false)).toEqual(u2);
    }
  });

  it('tensor forms pack and unpack in wasm memory', () => {
    const rng = new Rng(12);
    for (const n of [0, 1, 33, 1001]) {
      const s = Int8Array.from({ length: n }, () => rng.int(-8, 7));
      using st = Tensor.from(s);
      using pt = packInt4Tensor(st);
      expect(Array.from(pt.toArray())).toEqual(Array.from(packInt4(s)));
      using ut = unpackInt4Tensor(pt, [n], true);
      expect(ut.dtype).toBe('int8');
      expect(Array.from(ut.toArray())).toEqual(Array.from(s));
      const u2 = Uint8Array.from({ length: n }, () => rng.int(0, 3));
      using u2t = Tensor.from(u2);
      using p2 = packInt2Tensor(u2t);
      expect(Array.from(p2.toArray())).toEqual(Array.from(packInt2(u2)));
      using back = unpackInt2Tensor(p2, [n], false);
      expect(Array.from(back.toArray())).toEqual(Array.from(u2));
    }
    using bad = Tensor.from(Int8Array.of(0, -9));
    expect(() => packInt4Tensor(bad)).toThrow(/^q: element 1 is -9, outside int4's range/);
    using f = Tensor.from(new Float32Array(2));
    expect(() => packInt4Tensor(f)).toThrow(/^q: must be an int8/);
    using small = Tensor.from(Uint8Array.of(1));
    const live = memoryStats().liveAllocations;
    expect(() => unpackInt4Tensor(small, [3], true)).toThrow(/^shape: \[3\] needs 2 packed bytes, packed has 1/);
    expect(memoryStats().liveAllocations).toBe(live);
  });

  it('rejects out-of-range values, bad counts and wrong types', () => {
    expect(() => packInt4(Int8Array.of(0, 8))).toThrow(/^q: element 1 is 8, outside int4's range \[-8, 7\]/);
    expect(() => packInt4(Uint8Array.of(16))).toThrow(/^q: element 0 is 16, outside uint4's range/);
    expect(() => packInt2(Int8Array.of(-3))).toThrow(/^q: .*int2/);
    expect(() => packInt4([1, 2] as unknown as Int8Array)).toThrow(/^q: must be an Int8Array/);
    expect(() => unpackInt4(Uint8Array.of(1), 3, true)).toThrow(/^count: must be an integer in \[0, 2\]/);
    expect(() => unpackInt4(Uint8Array.of(1), 1.5, true)).toThrow(/^count/);
    expect(() => unpackInt4(Uint8Array.of(1), 2, 1 as unknown as boolean)).toThrow(/^signed/);
    expect(() => unpackInt4(Int8Array.of(1) as unknown as Uint8Array, 2, true)).toThrow(/^packed: must be a Uint8Array/);
  });
});

describe('fake quantization error per bit width (Gaussian data, asymmetric min/max parameters)', () => {
  it('SQNR follows ≈ 6.02 dB per bit and stays inside the uniform-noise prediction', () => {
    const rng = new Rng(2024);
    const n = 1 << 16;
    const x = Float32Array.from({ length: n }, () => rng.gaussian());
    let mn = Infinity, mx = -Infinity;
    for (const v of x) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
    const results: Record<string, number> = {};
    for (const qtype of QTYPE_NAMES) {
      const info = QTYPES[qtype];
      const p = qparamsFromRange(mn, mx, { qtype });
      const db = sqnr(x, fakeQuantize(x, [n], p));
      results[qtype] = db;
      // uniform quantization noise: Δ²/12 with Δ = (max − min)/(2^b − 1); signal power ≈ 1
      const step = (mx - mn) / (2 ** info.bits - 1);
      const predicted = 10 * Math.log10(1 / (step * step / 12));
      if (info.bits >= 4) {
        expect(db, qtype).toBeGreaterThan(predicted - 1);
        expect(db, qtype).toBeLessThan(predicted + 1);
      } else {
        expect(db, qtype).toBeGreaterThan(2); // 2-bit: 3 steps over ±4σ, far from the uniform model
        expect(db, qtype).toBeLessThan(predicted + 3);
      }
    }
    expect(results.int8! - results.int4!).toBeGreaterThan(22);
    expect(results.int8! - results.int4!).toBeLessThan(26);
    expect(results.int16! - results.int8!).toBeGreaterThan(46);
    expect(results.int16! - results.int8!).toBeLessThan(50);
    expect(Math.abs(results.int8! - results.uint8!)).toBeLessThan(0.5);
  });

  it('per-channel parameters beat per-tensor ones on channels of very different scale', () => {
    const rng = new Rng(99);
    const rows = 16, cols = 256;
    const x = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[r * cols + c] = rng.gaussian() * 2 ** (r - 8);
    const mins = new Float32Array(rows), maxs = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      mins[r] = Math.min(...row); maxs[r] = Math.max(...row);
    }
    const perTensor = qparamsFromRange(Math.min(...mins), Math.max(...maxs), { qtype: 'int8', symmetric: true });
    const perChannel = qparamsFromRange(mins, maxs, { qtype: 'int8', symmetric: true, axis: 0 });
    const a = sqnr(x, fakeQuantize(x, [rows, cols], perTensor));
    const b = sqnr(x, fakeQuantize(x, [rows, cols], perChannel));
    expect(b).toBeGreaterThan(a);
    // every channel keeps ~8-bit quality per channel
    const y = fakeQuantize(x, [rows, cols], perChannel);
    for (let r = 0; r < rows; r++) {
      expect(sqnr(x.subarray(r * cols, (r + 1) * cols), y.subarray(r * cols, (r + 1) * cols))).toBeGreaterThan(35);
    }
  });
});

describe('saturation, −0 and subnormals', () => {
  it('±Inf and huge values saturate to qmin/qmax for every qtype; −0 gives the zero point', () => {
    for (const qtype of QTYPE_NAMES) {
      const info = QTYPES[qtype];
      const z = Math.trunc((info.qmin + info.qmax) / 2) + 0; // + 0: never −0
      const q = quantize(Float32Array.of(Infinity, -Infinity, 3.4e38, -3.4e38, -0, 0), [6], { qtype, scale: 1e-3, zeroPoint: z });
      expect(Array.from(q)).toEqual([info.qmax, info.qmin, info.qmax, info.qmin, z, z]);
      const f = fakeQuantize(Float32Array.of(Infinity, -Infinity), [2], { qtype, scale: 0.5, zeroPoint: z });
      expect(Array.from(f)).toEqual([Math.fround((info.qmax - z) * 0.5), Math.fround((info.qmin - z) * 0.5)]); // eq. (6)
    }
  });

  it('subnormal inputs and scales are not flushed', () => {
    const s = 2 ** -140; // normal scale, subnormal data
    expect(Array.from(quantize(Float32Array.of(2 ** -145, 3 * 2 ** -149 * 32), [2], { qtype: 'int8', scale: s }))).toEqual([0, 0]);
    const sub = 2 ** -146; // subnormal scale
    expect(Array.from(quantize(Float32Array.of(2 ** -145, 3 * 2 ** -146, -(2 ** -140)), [3], { qtype: 'int8', scale: sub }))).toEqual([2, 3, -64]);
    expect(Array.from(dequantize(Int8Array.of(2, -3), [2], { qtype: 'int8', scale: sub }))).toEqual([2 ** -145, -3 * 2 ** -146]);
  });
});

describe('bad inputs throw typed errors naming the argument and the fix', () => {
  const x = Float32Array.of(1, 2, 3, 4, 5, 6);
  const base: QParams = { qtype: 'int8', scale: 0.1 };
  const cases: [string, () => unknown, RegExp][] = [
    ['NaN input', () => quantize(Float32Array.of(1, NaN, NaN), [3], base), /^x: contains NaN \(first at index 1\)/],
    ['NaN input, fakeQuantize', () => fakeQuantize(Float32Array.of(NaN), [1], base), /^x: contains NaN/],
    ['scale 0', () => quantize(x, [6], { qtype: 'int8', scale: 0 }), /^p.scale: must be a finite float32 > 0 \(got 0; a scale must be > 0\)/],
    ['scale < 0', () => quantize(x, [6], { qtype: 'int8', scale: -1 }), /^p.scale: .*> 0/],
    ['scale NaN', () => quantize(x, [6], { qtype: 'int8', scale: NaN }), /^p.scale: .*got NaN/],
    ['scale Inf', () => quantize(x, [6], { qtype: 'int8', scale: Infinity }), /^p.scale: .*not a finite float32/],
    ['scale overflows float32', () => quantize(x, [6], { qtype: 'int8', scale: 1e39 }), /^p.scale: .*not a finite float32/],
    ['scale underflows float32', () => quantize(x, [6], { qtype: 'int8', scale: 1e-50 }), /^p.scale: .*underflows/],
    ['scale array element', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 0, 1), axis: 1 }), /^p.scale\[1\]: /],
    ['scale not a number', () => quantize(x, [6], { qtype: 'int8', scale: '1' as unknown as number }), /^p.scale: /],
    ['zero point out of range', () => quantize(x, [6], { qtype: 'int4', scale: 1, zeroPoint: 8 }), /^p.zeroPoint: must be an integer in \[-8, 7\] for int4, got 8/],
    ['zero point negative for unsigned', () => quantize(x, [6], { qtype: 'uint8', scale: 1, zeroPoint: -1 }), /^p.zeroPoint: .*\[0, 255\]/],
    ['zero point not an integer', () => quantize(x, [6], { qtype: 'int8', scale: 1, zeroPoint: 1.5 }), /^p.zeroPoint: .*got 1.5/],
    ['zero point array element', () => quantize(x, [2, 3], { qtype: 'uint8', scale: Float32Array.of(1, 1, 1), zeroPoint: [0, 256, 0], axis: 1 }), /^p.zeroPoint\[1\]/],
    ['zero point array length', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1, 1), zeroPoint: [0, 0], axis: 1 }), /^p.zeroPoint: needs one zero point per scale \(3\), got 2/],
    ['zero point array for a per-tensor scale', () => quantize(x, [6], { qtype: 'int8', scale: 1, zeroPoint: [0, 0] }), /^p.zeroPoint: a per-tensor scale takes one zero point/],
    ['unknown qtype', () => quantize(x, [6], { qtype: 'int7' as QType, scale: 1 }), /^p.qtype: unknown quantized type 'int7'; use one of int8, uint8/],
    ['shape/length mismatch', () => quantize(x, [7], base), /^x: has 6 elements but shape holds 7/],
    ['bad shape', () => quantize(x, [2, -3], base), /^shape: /],
    ['x not Float32Array', () => quantize([1, 2] as unknown as Float32Array, [2], base), /^x: must be a Float32Array/],
    ['axis out of range', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1), axis: 2 }), /^p.axis: must be an integer in \[-2, 1\] for a rank-2 tensor, got 2/],
    ['axis not an integer', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1), axis: 0.5 }), /^p.axis: /],
    ['wrong scale length', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1), axis: 1 }), /^p.scale: per-axis scales need shape\[1\] = 3 values, got 2/],
    ['wrong scale length, default axis', () => quantize(x, [3, 2], { qtype: 'int8', scale: Float32Array.of(1, 1, 1) }), /pass p.axis/],
    ['empty scale array', () => quantize(x, [6], { qtype: 'int8', scale: new Float32Array(0) }), /^p.scale: is empty/],
    ['ragged blocked scale count', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1, 1), axis: 1, blockSize: 2 }),
      /^p.scale: blocked scales for shape \[2, 3\], axis 1, blockSize 2 must have shape \[2, 2\] \(⌈3\/2⌉ = 2 blocks along the axis, 4 values\), got 3/],
    ['blockSize 0', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1), axis: 1, blockSize: 0 }), /^p.blockSize: must be a positive integer \(elements per block along the axis\), got 0/],
    ['blockSize negative', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1), axis: 1, blockSize: -3 }), /^p.blockSize: must be a positive integer/],
    ['blockSize not an integer', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1, 1, 1), axis: 1, blockSize: 1.5 }), /^p.blockSize: must be a positive integer .*got 1.5/],
    ['blockSize with scalar scale', () => quantize(x, [2, 3], { qtype: 'int8', scale: 1, axis: 1, blockSize: 3 }), /^p.blockSize: blocked quantization needs one scale per block/],
    ['blocked scale length', () => quantize(x, [2, 3], { qtype: 'int8', scale: Float32Array.of(1, 1, 1), axis: 1, blockSize: 3 }), /^p.scale: blocked scales for shape \[2, 3\], axis 1, blockSize 3 must have shape \[2, 1\] \(⌈3\/3⌉ = 1 blocks along the axis, 2 values\), got 3/],
    ['dequantize wrong array type', () => dequantize(new Uint8Array(6) as unknown as Int8Array, [6], base), /^q: must be a Int8Array for int8/],
    ['dequantize int4 out of range', () => dequantize(Int8Array.of(0, 7, 8), [3], { qtype: 'int4', scale: 1 }), /^q: element 2 is 8, outside int4's range \[-8, 7\]/],
    ['dequantize uint2 out of range', () => dequantize(Uint8Array.of(0, 4), [2], { qtype: 'uint2', scale: 1 }), /^q: element 1 is 4, outside uint2's range/],
    ['dequantize length mismatch', () => dequantize(new Int8Array(5), [6], base), /^q: has 5 elements but shape holds 6/],
    ['params not an object', () => quantize(x, [6], null as unknown as QParams), /^p: must be a QParams object/],
    ['scalar tensor with per-axis scale', () => quantize(Float32Array.of(1), [], { qtype: 'int8', scale: Float32Array.of(1, 2) }), /^p.scale: a scalar \(shape \[\]\) takes one scale/],
  ];
  it.each(cases)('%s', (_label, fn, message) => {
    let err: unknown;
    try { fn(); } catch (e) { err = e; }
    expect(err, 'should throw').toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/^(InvalidArgumentError|NaNInputError)$/);
    expect((err as Error).message).toMatch(message);
    expect((err as { code: string }).code).toMatch(/^IQ_/);
  });

  it('tensor forms check dtypes, sizes and disposal', () => {
    using xt = Tensor.from(x) as Tensor<'float32'>;
    using it8 = Tensor.from(new Int8Array(6));
    expect(() => quantizeTensor(it8 as unknown as Tensor<'float32'>, base)).toThrow(/^x: must be a float32 tensor, got int8/);
    expect(() => quantizeTensor(xt, base, Tensor.from(new Uint8Array(6)))).toThrow(/^out: must be a int8 tensor, got uint8/);
    expect(() => quantizeTensor(xt, base, Tensor.from(new Int8Array(5)))).toThrow(/^out: has 5 elements, the result has 6/);
    expect(() => dequantizeTensor(xt, base)).toThrow(/^q: must be a int8 tensor, got float32/);
    expect(() => quantizeTensor(x as unknown as Tensor<'float32'>, base)).toThrow(/^x: must be a Tensor/);
    const gone = Tensor.from(x) as Tensor<'float32'>;
    gone.dispose();
    expect(() => quantizeTensor(gone, base)).toThrow(/used after dispose/);
    const nan = Tensor.from(Float32Array.of(1, NaN)) as Tensor<'float32'>;
    const live = memoryStats().liveAllocations;
    expect(() => quantizeTensor(nan, base)).toThrow(/^x: contains NaN \(first at index 1\)/);
    expect(memoryStats().liveAllocations).toBe(live); // the output it created was freed
    nan.dispose();
  });
});

describe('memory hygiene', () => {
  it('the array API frees every temporary, also when it throws', () => {
    const before = memoryStats();
    const rng = new Rng(1);
    const x = Float32Array.from({ length: 5000 }, () => rng.gaussian());
    const perAxis: QParams = { qtype: 'int8', scale: Float32Array.from({ length: 50 }, () => 0.05), axis: 0 };
    for (let i = 0; i < 200; i++) {
      const q = quantize(x, [50, 100], perAxis);
      dequantize(q, [50, 100], perAxis);
      fakeQuantize(x, [50, 100], { qtype: 'uint4', scale: 0.3, zeroPoint: 8 });
      dynamicQuantize(x);
      unpackInt4(packInt4(Int8Array.of(1, 2, 3)), 3, true);
      expect(() => quantize(Float32Array.of(NaN), [1], perAxis)).toThrow();
      expect(() => dequantize(Int8Array.of(9), [1], { qtype: 'int4', scale: 1 })).toThrow();
      expect(() => dynamicQuantize(Float32Array.of(Infinity))).toThrow();
      expect(() => packInt4(Int8Array.of(9))).toThrow();
    }
    const after = memoryStats();
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(after.liveAllocations).toBe(before.liveAllocations);
  });

  it('array results stay valid after wasm memory grows', () => {
    const q = quantize(Float32Array.of(1, 2, 3), [3], { qtype: 'int8', scale: 1 });
    const big = Tensor.empty('uint8', [memoryStats().wasmMemoryBytes + 65536]);
    expect(Array.from(q)).toEqual([1, 2, 3]);
    big.dispose();
  });
});
